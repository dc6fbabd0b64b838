"""Fitbit metric families beyond raw heart rate (issue 7): one module per family with its synthetic
generator (derived from the synthetic heart-rate day), its JSON parser and its Pandera model."""

from fitbit_assets.domain.metrics import (
    active_zone_minutes,
    activity_summary,
    breathing_rate,
    heart_rate_summary,
    hrv,
    sleep,
    spo2,
)
from fitbit_assets.domain.metrics.family import (
    MetricFamily,
    MetricFileError,
    read_metric_file,
    validate_frame,
    validate_frames,
)

FAMILIES: tuple[MetricFamily, ...] = (
    heart_rate_summary.FAMILY,
    spo2.FAMILY,
    hrv.FAMILY,
    breathing_rate.FAMILY,
    active_zone_minutes.FAMILY,
    activity_summary.FAMILY,
    sleep.FAMILY,
    sleep.MINUTES_FAMILY,  # reads sleep's landing files: after it
)
FAMILIES_BY_NAME = {family.name: family for family in FAMILIES}

__all__ = ["FAMILIES", "FAMILIES_BY_NAME", "MetricFamily", "MetricFileError", "read_metric_file", "validate_frame",
           "validate_frames"]
