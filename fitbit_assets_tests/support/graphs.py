"""Selections of the asset graph the tests run."""

from __future__ import annotations

from fitbit_assets.defs.datasets.checks import DATASET_CHECKS
from fitbit_assets.defs.datasets.factory import ASSETS, DATASET_ASSETS

# Every metric family but heart rate: its assets and its checks.
METRIC_ASSETS = [asset for asset in ASSETS if asset not in DATASET_ASSETS["heart_rate"]]
METRIC_CHECKS = [check for name, pair in DATASET_CHECKS.items() if name != "heart_rate" for check in pair]
METRIC_GRAPH = [*METRIC_ASSETS, *METRIC_CHECKS]
