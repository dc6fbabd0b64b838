"""Stage 1: each participant-day's raw file lands in landing/<dataset>/<participant>/<date>.<suffix>.

Synthetic participants' days are generated; real exports dropped in the landing folder are split into day files
first (exports.py).
"""

import dagster as dg

from fitbit_assets.defs.datasets.dataset import Dataset
from fitbit_assets.defs.datasets.exports import stage_landing_exports
from fitbit_assets.domain.atomic_files import atomic_write_bytes
from fitbit_assets.domain.sources import STAGED_DATASETS
from fitbit_assets.lib.day_metadata import DayTally
from fitbit_assets.lib.partitions import participant_days, run_local_dates
from fitbit_assets.lib.study_files import StudyFilesResource


LANDING_COUNTS = ("participants_generated", "participants_already_in_landing", "participants_waiting_for_data",
                  "participants_held_back", "participants_before_enrolment", "synthetic_rows")


def land_days(context: dg.AssetExecutionContext, study_files: StudyFilesResource, dataset: Dataset) -> dg.MaterializeResult:
    roster = study_files.roster()
    keys = participant_days(context, roster)
    held_back, staging = (
        stage_landing_exports(context, study_files, roster, keys, dataset.name)
        if dataset.name in STAGED_DATASETS else (set(), {})
    )
    # Export staging spans the run's files, not one day: labelled as the run's.
    tally = DayTally(run_local_dates(context))
    tally.add_run_values(**staging)
    waiting = []
    for key in keys:
        participant = roster.get(key.participant_id)
        path = study_files.day_file(dataset.landing_name, key)
        if key.local_date < participant.enrolled_on:
            tally.count(key.local_date, "participants_before_enrolment")
        elif key in held_back:
            # its exports are there but cannot be loaded: reported by staging and the schema check
            tally.name(key.local_date, "participants_held_back", key.participant_id)
        elif path.exists():
            tally.count(key.local_date, "participants_already_in_landing")  # synthetic days are generated once
        elif participant.source == "synthetic":
            payload, rows = dataset.synthetic_day(participant, key.local_date)
            atomic_write_bytes(path, payload)
            if rows is not None:
                tally.count(key.local_date, "synthetic_rows", rows)
            tally.count(key.local_date, "participants_generated")
        else:
            waiting.append(key)
            tally.name(key.local_date, "participants_waiting_for_data", key.participant_id)
    landed = tally.total("participants_generated") + tally.total("participants_already_in_landing")
    if waiting and dataset.where_looked_for and not (landed or held_back):
        # Devices sync every few days: a missing export is expected, and the schedule's trailing window retries.
        raise dg.Failure(
            description=f"no data yet for {', '.join(map(str, waiting[:10]))}{' ...' if len(waiting) > 10 else ''}: "
            + dataset.where_looked_for(study_files, waiting),
            metadata={"days_waiting_for_data": list(map(str, waiting[:200]))},
            allow_retries=True,
        )
    if waiting:  # not every export holds every dataset: the schedule's trailing window retries
        context.log.warning(f"no {dataset.name} data yet for {len(waiting)} participant-day(s): {list(map(str, waiting[:10]))}")
    return tally.report(context, LANDING_COUNTS)
