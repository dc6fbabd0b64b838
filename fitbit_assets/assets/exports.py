"""Dagster glue for the source adapters: stage dropped exports before the landing asset looks for day CSVs."""

from __future__ import annotations

import dagster as dg

from fitbit_assets.partitions import ParticipantDayKey
from fitbit_assets.roster import Roster
from fitbit_assets.sources import ExportFormatError, export_dir, scan
from fitbit_assets.sources.staging import stage_heart_rate_days
from fitbit_assets.study_files import StudyFilesResource


def stage_landing_exports(
    context: dg.AssetExecutionContext, study_files: StudyFilesResource, roster: Roster, keys: list[ParticipantDayKey]
) -> list[str]:
    """For source=landing participants: split exports in ``landing/<participant>/`` into the run's day CSVs.

    A malformed export fails the step (not retried: the file must be fixed) and stages nothing.
    Returns the staged days as ``participant/date (format)``.
    """
    staged: list[str] = []
    for participant_id in sorted({key.participant_id for key in keys}):
        participant = roster.get(participant_id)
        if participant.source != "landing":
            continue
        dates = [k.local_date for k in keys if k.participant_id == participant_id and k.local_date >= participant.enrolled_on]
        folder = export_dir(study_files.landing_dir, participant_id)
        try:
            days = stage_heart_rate_days(
                study_files.landing_dir,
                participant,
                dates,
                lambda date: study_files.raw_heart_rate_path(ParticipantDayKey(date, participant_id)),
            )
        except ExportFormatError as exc:
            raise dg.Failure(
                description=f"export for participant {participant_id} cannot be loaded, nothing was staged: {exc}",
                metadata={"file": exc.path, "reason": exc.reason, "rows": [str(r) for r in exc.rows[:50]]},
                allow_retries=False,
            ) from exc
        ignored = scan(folder).ignored
        if ignored:
            context.log.warning(f"{participant_id}: ignored unrecognized files {[p.name for p in ignored][:10]}")
        staged.extend(f"{participant_id}/{date} ({lineage.source_format})" for date, lineage in sorted(days.items()))
    if staged:
        context.log.info(f"split {len(staged)} day(s) out of dropped exports")
    return staged
