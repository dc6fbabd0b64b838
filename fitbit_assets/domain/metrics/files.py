"""Where metric files land, next to heart rate's: ``<landing>/<family>/<participant>/<date>.json``; validated
frames and reports are in the study's Parquet store under the family's name (``StudyFilesResource``)."""

from __future__ import annotations

import json
from pathlib import Path

from fitbit_assets.domain.metrics.common import MetricFamily
from fitbit_assets.lib.atomic_files import atomic_write_bytes
from fitbit_assets.lib.partitions import ParticipantDayKey
from fitbit_assets.lib.study_files import StudyFilesResource


def raw_path(files: StudyFilesResource, family: MetricFamily, key: ParticipantDayKey) -> Path:
    return files.raw_path(family.landing_name, key, ".json")


def document_bytes(document: object) -> bytes:
    """Fixed formatting so the same synthetic document always gives the same bytes."""
    return (json.dumps(document, separators=(",", ":"), ensure_ascii=True) + "\n").encode("ascii")


def write_raw(files: StudyFilesResource, family: MetricFamily, key: ParticipantDayKey, document: object) -> Path:
    path = raw_path(files, family, key)
    atomic_write_bytes(path, document_bytes(document))
    return path
