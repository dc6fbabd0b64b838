"""Where metric files live, next to heart rate's: ``<landing>/<family>/<participant>/<date>.json`` and
``<parquet>/<family>/participant_id=<participant>/<date>.parquet`` (+ ``.validation.json``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from fitbit_assets.heart_rate import ValidationReport
from fitbit_assets.metrics.common import MetricFamily
from fitbit_assets.partitions import ParticipantDayKey
from fitbit_assets.study_files import StudyFilesResource, _atomic_write_bytes


def raw_path(files: StudyFilesResource, family: MetricFamily, key: ParticipantDayKey) -> Path:
    return Path(files.landing_dir) / family.name / key.participant_id / f"{key.local_date.isoformat()}.json"


def _validated_base(files: StudyFilesResource, family: MetricFamily, key: ParticipantDayKey) -> Path:
    return Path(files.parquet_dir) / family.name / f"participant_id={key.participant_id}" / key.local_date.isoformat()


def validated_path(files: StudyFilesResource, family: MetricFamily, key: ParticipantDayKey) -> Path:
    return _validated_base(files, family, key).with_suffix(".parquet")


def report_path(files: StudyFilesResource, family: MetricFamily, key: ParticipantDayKey) -> Path:
    return _validated_base(files, family, key).with_suffix(".validation.json")


def document_bytes(document: object) -> bytes:
    """Fixed formatting so the same synthetic document always gives the same bytes."""
    return (json.dumps(document, separators=(",", ":"), ensure_ascii=True) + "\n").encode("ascii")


def write_raw(files: StudyFilesResource, family: MetricFamily, key: ParticipantDayKey, document: object) -> Path:
    path = raw_path(files, family, key)
    _atomic_write_bytes(path, document_bytes(document))
    return path


def write_validated(
    files: StudyFilesResource, family: MetricFamily, key: ParticipantDayKey, frame: pd.DataFrame | None,
    report: ValidationReport,
) -> None:
    """The report always; the frame only if it passed, so the store never holds data that failed rules."""
    parquet = validated_path(files, family, key)
    if frame is not None and report.passed:
        parquet.parent.mkdir(parents=True, exist_ok=True)
        tmp = parquet.with_name(f".{parquet.name}.{os.getpid()}.tmp")
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, parquet)
    else:
        parquet.unlink(missing_ok=True)
    _atomic_write_bytes(report_path(files, family, key), json.dumps(report.to_dict(), indent=1).encode())


def read_report(files: StudyFilesResource, family: MetricFamily, key: ParticipantDayKey) -> ValidationReport | None:
    path = report_path(files, family, key)
    return ValidationReport.from_dict(json.loads(path.read_text())) if path.exists() else None


def read_validated(files: StudyFilesResource, family: MetricFamily, key: ParticipantDayKey) -> pd.DataFrame:
    path = validated_path(files, family, key)
    if not path.exists():
        report = read_report(files, family, key)
        reason = f"validation failed: {report.summary()}" if report else f"validated_{family.name} not materialized"
        raise FileNotFoundError(f"no validated {family.name} for {key} at {path} ({reason})")
    return pd.read_parquet(path)
