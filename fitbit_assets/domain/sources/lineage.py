"""Lineage of a participant-day: which format and file(s) its rows came from.

Staging writes ``<date>.lineage.json`` next to the day CSV, with the CSV's sha256; the load writes it into
``heart_rate_lineage`` in the same transaction as the day's rows. A sidecar whose hash no longer matches
(someone replaced the CSV by hand) is ignored, and the day is recorded as a hand-dropped ``day_csv``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from fitbit_assets.domain.atomic_files import atomic_write_bytes

SYNTHETIC, DAY_CSV = "synthetic", "day_csv"


@dataclass(frozen=True)
class Lineage:
    source_format: str
    source_files: tuple[str, ...]


def sidecar_path(day_csv: Path) -> Path:
    return day_csv.with_suffix(".lineage.json")


def write_sidecar(day_csv: Path, lineage: Lineage, payload: bytes) -> None:
    path = sidecar_path(day_csv)
    body = {**asdict(lineage), "source_files": list(lineage.source_files), "csv_sha256": hashlib.sha256(payload).hexdigest()}
    atomic_write_bytes(path, json.dumps(body, indent=1).encode())


def read_lineage(day_csv: Path, participant_source: str) -> Lineage:
    """The day's lineage: synthetic, from a matching sidecar, or the day CSV itself."""
    if participant_source == "synthetic":
        return Lineage(SYNTHETIC, (day_csv.name,))
    path = sidecar_path(day_csv)
    if path.exists() and day_csv.exists():
        try:
            body = json.loads(path.read_text())
        except json.JSONDecodeError:
            body = {}
        if body.get("csv_sha256") == hashlib.sha256(day_csv.read_bytes()).hexdigest():
            return Lineage(body["source_format"], tuple(body["source_files"]))
    return Lineage(DAY_CSV, (day_csv.name,))
