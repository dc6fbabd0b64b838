"""The code location: everything in ``fitbit_assets/defs/``, found by Dagster's defs-folder loader."""

import os
import warnings
from pathlib import Path

import dagster as dg

# Partitioned asset checks (Preview) and backfill policies (Beta) are deliberate choices of this project
# (docs/dagster-ui.md); their notices would repeat in every process that loads the code location.
warnings.filterwarnings("ignore", category=dg.PreviewWarning)
warnings.filterwarnings("ignore", category=dg.BetaWarning)
# A ranged run materializes every asset once per participant-day: with this set, Dagster stores each asset's
# materializations of a run in one batch instead of one write per partition (PostgreSQL event logs; SQLite ignores
# it). Read by the run worker when it stores events, so it is set where every run worker loads the code.
os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", "1000")

# Everything below fitbit_assets/defs/ is found, not listed: each stage's assets, checks, schedules and sensors sit
# side by side in its folder, and the resources and executor in defs/resources.py.
defs = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
