"""The statements kept in the repository's top-level ``sql/`` (the wheel ships them as ``fitbit_assets/sql/``): named
queries and the ordered schema files (SQL stays out of Python)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

def _sql_dir() -> Path:
    """The one place the SQL files are looked up: inside an installed wheel, else the source checkout's ``sql/``."""
    package = Path(__file__).resolve().parents[1]
    installed = package / "sql"
    return installed if installed.is_dir() else package.parent / "sql"


SQL_DIR = _sql_dir()


@cache
def sql_query(name: str) -> str:
    """A named statement from ``sql/queries/``."""
    return (SQL_DIR / "queries" / f"{name}.sql").read_text()


def schema_files(backend: str) -> list[Path]:
    """``sql/common/`` and the backend's layer merged in file-number order, common first on equal numbers: a backend
    file creates heart_rate in its own layout (010) before the common files that alter it or read it in views."""
    layers = [sorted((SQL_DIR / "common").glob("*.sql")), sorted((SQL_DIR / backend).glob("*.sql"))]
    ordered = [(path.name.split("_", 1)[0], layer, path.name, path) for layer, paths in enumerate(layers) for path in paths]
    return [path for *_, path in sorted(ordered)]
