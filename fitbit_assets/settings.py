"""Where the pipeline keeps its files, from environment variables with project-local defaults.

Defaults put everything under ``.state/`` in the checkout so ``make demo`` and ``make dev`` share one
embedded database, landing folder and Parquet store without any configuration.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def state_dir() -> Path:
    return Path(os.environ.get("FITBIT_STATE_DIR") or PROJECT_ROOT / ".state")


def landing_dir() -> Path:
    return Path(os.environ.get("FITBIT_LANDING_DIR") or state_dir() / "landing")


def parquet_dir() -> Path:
    return Path(os.environ.get("FITBIT_PARQUET_DIR") or state_dir() / "parquet")


def roster_path() -> Path:
    return Path(os.environ.get("FITBIT_ROSTER_PATH") or state_dir() / "roster.csv")


def study_start_date() -> dt.date:
    """First day of the daily partitions; keep it realistic (partitions = days x participants)."""
    return dt.date.fromisoformat(os.environ.get("FITBIT_STUDY_START", "2024-01-01"))


def sql_dir() -> Path:
    """The schema folder: packaged inside the wheel, or the checkout's top-level ``sql/``."""
    packaged = Path(__file__).resolve().parent / "sql"
    return packaged if packaged.is_dir() else PROJECT_ROOT / "sql"
