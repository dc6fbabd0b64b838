"""The study folders and the two participants most tests use (one synthetic, one reading the landing folder)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fitbit_assets.domain.roster import Participant
from fitbit_assets.lib.study_files import StudyFilesResource

SYNTHETIC = Participant("syn-01", 11, "America/New_York", dt.date(2025, 1, 1), "synthetic")
LANDING = Participant("land-01", 0, "Europe/Berlin", dt.date(2025, 1, 1), "landing")


def study_files_in(folder: Path) -> StudyFilesResource:
    """The roster, landing folder and Parquet store of a study kept in ``folder``."""
    return StudyFilesResource(
        roster_path=str(folder / "roster.csv"),
        landing_dir=str(folder / "landing"),
        parquet_dir=str(folder / "parquet"),
    )
