"""Files of the study: the roster, the landing folder of raw exports and the Parquet store of validated frames."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import dagster as dg
import pandas as pd
from pydantic import Field

from fitbit_assets import settings
from fitbit_assets.domain.atomic_files import atomic_write, atomic_write_bytes
from fitbit_assets.domain.heart_rate import HEART_RATE
from fitbit_assets.domain.roster import Roster, read_roster
from fitbit_assets.domain.sources import cohort_dir, export_dir
from fitbit_assets.domain.validation import ValidationReport
from fitbit_assets.lib.partitions import ParticipantDayKey

# Part of every input fingerprint: bump it when validation rules or warehouse frames change, so days validated
# and loaded under the old rules are processed again instead of being skipped as unchanged.
RULES_VERSION = "2026-11-30"


def input_fingerprint(path: Path) -> str:
    """What decides whether a participant-day must be validated and loaded again: its raw bytes and the rules."""
    return f"{RULES_VERSION}:{hashlib.sha256(path.read_bytes()).hexdigest()}"


class StudyFilesResource(dg.ConfigurableResource):
    roster_path: str = Field(default_factory=lambda: str(settings.load().roster_path))
    landing_dir: str = Field(default_factory=lambda: str(settings.load().landing_dir))
    parquet_dir: str = Field(default_factory=lambda: str(settings.load().parquet_dir))

    def roster(self) -> Roster:
        return read_roster(Path(self.roster_path))

    def day_file(self, dataset: str, key: ParticipantDayKey) -> Path:
        """Where a day's raw file of ``dataset`` is dropped, staged, pulled or generated: heart rate's a CSV, a metric
        family's a Web API JSON document (``<landing>/<dataset>/<participant>/<date>.csv|json``)."""
        suffix = ".csv" if dataset == HEART_RATE else ".json"
        return Path(self.landing_dir) / dataset / key.participant_id / f"{key.local_date.isoformat()}{suffix}"

    def where_heart_rate_was_looked_for(self, keys: list[ParticipantDayKey]) -> str:
        """The concrete files and export folders of days without heart rate, for the "no data yet" message."""
        files = ", ".join(str(self.day_file(HEART_RATE, key)) for key in keys[:3])
        more = f" (and {len(keys) - 3} more day files)" if len(keys) > 3 else ""
        folders = ", ".join(f"{export_dir(self.landing_dir, p)}/" for p in sorted({key.participant_id for key in keys}))
        return (f"no day file {files}{more}, and no heart-rate export covering these days in {folders} "
                f"or {cohort_dir(self.landing_dir)}/")

    def _validated_base(self, dataset: str, key: ParticipantDayKey) -> Path:
        return Path(self.parquet_dir) / dataset / f"participant_id={key.participant_id}" / key.local_date.isoformat()

    def validated_path(self, dataset: str, key: ParticipantDayKey) -> Path:
        return self._validated_base(dataset, key).with_suffix(".parquet")

    def validation_report_path(self, dataset: str, key: ParticipantDayKey) -> Path:
        return self._validated_base(dataset, key).with_suffix(".validation.json")

    def quarantine_dir(self, dataset: str, key: ParticipantDayKey) -> Path:
        """Where a participant-day that failed validation is kept: its raw file and the validation report."""
        return Path(self.parquet_dir) / "quarantine" / dataset / key.participant_id / key.local_date.isoformat()

    def export_ledger_dir(self) -> Path:
        """The export staging ledger (``sources.staging``): which dropped export was parsed, and its rows."""
        return Path(self.parquet_dir) / "_export_staging"

    def hold_back_day(self, dataset: str, key: ParticipantDayKey, rule: str, message: str) -> None:
        """A day its exports cannot give (malformed file, conflicting exports): a failed report (rule ``export.*``)
        so the schema check fails for it and the alert sensor tells the engineers; its previous rows stay loaded.
        Pinned to the current day file's fingerprint, so validation does not pass that older file instead."""
        raw = self.day_file(dataset, key)
        report = ValidationReport(0, {rule: 1}, [{"rule": rule, "error": message}],
                                  input_fingerprint(raw) if raw.exists() else None)
        payload = json.dumps(report.to_dict(), indent=1).encode()
        self.validated_path(dataset, key).unlink(missing_ok=True)
        atomic_write_bytes(self.quarantine_dir(dataset, key) / "validation.json", payload)
        atomic_write_bytes(self.validation_report_path(dataset, key), payload)

    def release_day(self, dataset: str, key: ParticipantDayKey) -> None:
        """The day staged again: drop a held-back report so validation runs on the day file."""
        report = self.read_report(dataset, key)
        if report is not None and any(rule.startswith("export.") for rule in report.failures):
            self.validation_report_path(dataset, key).unlink(missing_ok=True)
            shutil.rmtree(self.quarantine_dir(dataset, key), ignore_errors=True)

    def write_validated(
        self, dataset: str, key: ParticipantDayKey, frame: pd.DataFrame | None, report: ValidationReport, raw: Path
    ) -> None:
        """Store the report, and the frame only if it passed: the store never holds data that failed rules. A failed
        day's raw file and report are copied to its quarantine folder; a later pass clears that folder."""
        parquet = self.validated_path(dataset, key)
        quarantine = self.quarantine_dir(dataset, key)
        report_bytes = json.dumps(report.to_dict(), indent=1).encode()
        if frame is not None and report.passed:
            atomic_write(parquet, lambda tmp: frame.to_parquet(tmp, index=False))
            shutil.rmtree(quarantine, ignore_errors=True)
        else:
            parquet.unlink(missing_ok=True)
            atomic_write_bytes(quarantine / raw.name, raw.read_bytes())
            atomic_write_bytes(quarantine / "validation.json", report_bytes)
        atomic_write_bytes(self.validation_report_path(dataset, key), report_bytes)

    def read_report(self, dataset: str, key: ParticipantDayKey) -> ValidationReport | None:
        path = self.validation_report_path(dataset, key)
        return ValidationReport.from_dict(json.loads(path.read_text())) if path.exists() else None

    def read_validated(self, dataset: str, key: ParticipantDayKey) -> pd.DataFrame:
        path = self.validated_path(dataset, key)
        if not path.exists():
            report = self.read_report(dataset, key)
            reason = f"validation failed: {report.summary()}" if report else f"validated_{dataset} not materialized"
            raise FileNotFoundError(f"no validated {dataset} for {key} at {path} ({reason})")
        return pd.read_parquet(path)
