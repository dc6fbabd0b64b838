"""Stage 1: each participant-day's raw file lands in landing/<dataset>/<participant>/<date>.<suffix>.

Synthetic participants' days are generated; real exports dropped in the landing folder are split into day files
first (exports.py).
"""

import dagster as dg

from fitbit_assets.defs.datasets.dataset import Dataset
from fitbit_assets.defs.datasets.exports import stage_landing_exports
from fitbit_assets.domain.sources import STAGED_DATASETS
from fitbit_assets.lib.atomic_files import atomic_write_bytes
from fitbit_assets.lib.partitions import participant_days
from fitbit_assets.lib.study_files import StudyFilesResource


def land_days(context: dg.AssetExecutionContext, study_files: StudyFilesResource, dataset: Dataset) -> dg.MaterializeResult:
    roster = study_files.roster()
    keys = participant_days(context)
    held_back, staging = (
        stage_landing_exports(context, study_files, roster, keys, dataset.name)
        if dataset.name in STAGED_DATASETS else (set(), {})
    )
    generated, found, waiting, not_enrolled = 0, 0, [], 0
    synthetic_rows: int | None = None  # stays None for formats without rows (JSON documents)
    for key in keys:
        participant = roster.get(key.participant_id)
        path = dataset.raw_path(study_files, key)
        if key.local_date < participant.enrolled_on:
            not_enrolled += 1
        elif key in held_back:
            continue  # its exports are there but cannot be loaded: reported by staging and the schema check
        elif path.exists():
            found += 1  # synthetic days are deterministic: generated once, like a real day synced once
        elif participant.source == "synthetic":
            payload, rows = dataset.synthetic_day(participant, key.local_date)
            atomic_write_bytes(path, payload)
            if rows is not None:
                synthetic_rows = (synthetic_rows or 0) + rows
            generated += 1
        else:
            waiting.append(key)
    if waiting and dataset.where_looked_for and not (generated or found or held_back):
        # Devices sync every few days: a missing export is expected, and the schedule's trailing window retries.
        raise dg.Failure(
            description=f"no data yet for {', '.join(map(str, waiting[:10]))}{' ...' if len(waiting) > 10 else ''}: "
            + dataset.where_looked_for(study_files, waiting),
            metadata={"days_waiting_for_data": list(map(str, waiting))},
            allow_retries=True,
        )
    if waiting:  # not every export holds every dataset: the schedule's trailing window retries
        context.log.warning(f"no {dataset.name} data yet for {len(waiting)} day(s): {list(map(str, waiting[:10]))}")
    return dg.MaterializeResult(
        metadata={
            "days_generated": generated,
            "days_already_in_landing": found,
            **staging,
            **({} if synthetic_rows is None else {"synthetic_rows": synthetic_rows}),
            "days_waiting_for_data": list(map(str, waiting)),
            "days_before_enrolment": not_enrolled,
        }
    )
