"""The layers of ``fitbit_assets/`` (docs/layout.md): import-linter's contracts in pyproject.toml, which follow
indirect and function-level imports, and what a process serving the API actually loads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from importlinter.cli import lint_imports

REPO = Path(__file__).resolve().parents[2]


def test_every_import_contract_is_kept():
    # The report (each broken contract with its import chain and line) is printed, so a failure shows it.
    assert lint_imports(config_filename=str(REPO / "pyproject.toml"), no_cache=True) == 0


def test_the_api_the_query_layer_and_the_reports_load_without_dagster(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FITBIT_", "DAGSTER_"))}
    env.update(PYTHONPATH=str(REPO), FITBIT_STATE_DIR=str(tmp_path))
    loaded = subprocess.run(
        [sys.executable, "-X", "importtime", "-c",
         "import fitbit_assets.serving.api, fitbit_assets.serving.query, fitbit_assets.serving.reports"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert loaded.returncode == 0, loaded.stderr
    # -X importtime writes "import time: self | cumulative | module" per module imported, indented by depth.
    modules = [line.rsplit("|", 1)[1].strip() for line in loaded.stderr.splitlines() if line.startswith("import time:")]
    assert "fitbit_assets.serving.api.app" in modules
    assert not [name for name in modules if name.split(".")[0] in ("dagster", "dagster_postgres")]
