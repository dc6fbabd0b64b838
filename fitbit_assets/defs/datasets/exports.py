"""Dagster glue for the source adapters: stage dropped exports before a landing asset looks for its day files.

Used by every dataset's landing asset (``raw_heart_rate_csv`` and each ``raw_<family>_json``); ``sources.staging``
does the work. Bad input never fails the step, so the run's other participant-days still load: a malformed file or
conflicting exports hold back the participant-days they feed (a failed ``export.*`` validation report, so the
day's schema check fails and the alert sensor tells the data engineers), and are logged as errors and listed in
the step's metadata with file and lines; rows of Fitabase Ids not in the roster are logged and counted.
"""

from __future__ import annotations

import dagster as dg

from fitbit_assets.domain.roster import Roster
from fitbit_assets.domain.sources.staging import stage_days
from fitbit_assets.lib.partitions import ParticipantDayKey
from fitbit_assets.lib.study_files import StudyFilesResource


def stage_landing_exports(
    context: dg.AssetExecutionContext,
    study_files: StudyFilesResource,
    roster: Roster,
    keys: list[ParticipantDayKey],
    dataset: str,
) -> tuple[set[ParticipantDayKey], dict]:
    """For source=landing participants: the run's day files of ``dataset`` out of the dropped exports.

    Returns the held-back participant-days (not "waiting for data": their exports are there but cannot be
    loaded) and the step metadata.
    """
    wanted: dict[str, list] = {}
    for key in keys:
        participant = roster.get(key.participant_id)
        if participant.source == "landing" and key.local_date >= participant.enrolled_on:
            wanted.setdefault(key.participant_id, []).append(key.local_date)
    if not wanted:
        return set(), {}
    result = stage_days(
        dataset, study_files.landing_dir, study_files.export_ledger_dir(), roster, wanted,
        lambda participant_id, date: study_files.day_file(dataset, ParticipantDayKey(date, participant_id)),
    )
    for participant_id, date in result.staged:
        study_files.release_day(dataset, ParticipantDayKey(date, participant_id))
    held = set()
    for (participant_id, date), (rule, message) in sorted(result.held_back.items()):
        key = ParticipantDayKey(date, participant_id)
        study_files.hold_back_day(dataset, key, rule, message)
        held.add(key)
        context.log.error(f"{key}: held back, not staged ({rule}): {message}")
    for error in result.file_errors:
        context.log.error(f"export cannot be loaded, nothing staged from it: {error}")
    for unknown in result.unknown_ids:
        context.log.warning(f"{unknown['file']}: {unknown['rows']} row(s) of Id {unknown['Id']} not in the roster "
                            "(add a fitabase_id to the roster to load them): not loaded")
    if result.ignored:
        context.log.warning(f"ignored unrecognized files {result.ignored[:10]}")
    changed = [k for k in result.staged if k not in result.unchanged]
    if changed:
        context.log.info(f"split {len(changed)} {dataset} day(s) out of dropped exports")
    return held, {
        "days_split_from_exports": [f"{p}/{d} ({result.staged[(p, d)].source_format})" for p, d in sorted(changed)][:50],
        "days_unchanged_in_exports": len(result.unchanged),
        "days_held_back": [f"{p}/{d}: {rule}" for (p, d), (rule, _) in sorted(result.held_back.items())][:50],
        "export_file_errors": result.file_errors[:20],
        "unknown_fitabase_ids": dg.MetadataValue.json(result.unknown_ids[:50]),
        "duplicate_rows_dropped": dg.MetadataValue.json(result.duplicates_dropped),
        "overlapping_rows_kept_once": dg.MetadataValue.json(result.overlapping_rows),
        "export_files_parsed": result.files_parsed,
        "export_files_unchanged": result.files_unchanged,
    }
