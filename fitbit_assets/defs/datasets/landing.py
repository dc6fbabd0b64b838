"""Stage 1: the raw CSV of each participant-day lands in the landing folder."""

import dagster as dg

from fitbit_assets.defs.datasets.exports import stage_landing_exports
from fitbit_assets.defs.google_health.assets import google_health_pull
from fitbit_assets.domain.heart_rate import HEART_RATE
from fitbit_assets.domain.synthetic import generate_heart_rate_day, heart_rate_csv_bytes
from fitbit_assets.lib.partitions import participant_day_partitions, participant_days
from fitbit_assets.lib.study_files import StudyFilesResource


@dg.asset(
    deps=[google_health_pull],  # pulled days are day CSVs like any other source's
    partitions_def=participant_day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="landing",
    kinds={"csv"},
    description="Raw heart-rate CSV (local time,value) per participant and local day: generated for synthetic "
    "participants, split out of the real exports dropped in landing/<participant>/ or landing/fitabase/ (study-wide "
    "Fitabase files, rows routed by the roster's fitabase_id), only new or changed exports being read.",
)
def raw_heart_rate_csv(context: dg.AssetExecutionContext, study_files: StudyFilesResource) -> dg.MaterializeResult:
    roster = study_files.roster()
    # Real exports (Fitabase CSV, Takeout, Web API JSON) in landing/<participant>/ and landing/fitabase/ -> day CSVs.
    held_back, staging = stage_landing_exports(context, study_files, roster, participant_days(context), HEART_RATE)
    generated, found, waiting, not_enrolled = 0, 0, [], []
    rows = 0
    for key in participant_days(context):
        participant = roster.get(key.participant_id)
        if key.local_date < participant.enrolled_on:
            not_enrolled.append(str(key))
            continue
        if key in held_back:
            continue  # its exports are there but cannot be loaded: reported by staging and the schema check
        if study_files.raw_heart_rate_path(key).exists():
            found += 1  # synthetic days are deterministic: generated once, like a real day synced once
        elif participant.source == "synthetic":
            frame = generate_heart_rate_day(participant, key.local_date)
            study_files.write_raw(key, heart_rate_csv_bytes(frame))
            rows += len(frame)
            generated += 1
        else:
            waiting.append(key)
    if waiting and not (generated or found or held_back):
        # Devices sync every few days: a missing export is expected, and the schedule's trailing window retries.
        raise dg.Failure(
            description=f"no data yet for {', '.join(map(str, waiting[:10]))}{' ...' if len(waiting) > 10 else ''}: "
            + study_files.where_heart_rate_was_looked_for(waiting),
            metadata={"days_waiting_for_data": list(map(str, waiting))},
            allow_retries=True,
        )
    if waiting:
        context.log.warning(f"no data yet for {len(waiting)} day(s): {list(map(str, waiting[:10]))}")
    return dg.MaterializeResult(
        metadata={
            "days_generated": generated,
            "days_already_in_landing": found,
            **staging,
            "synthetic_rows": rows,
            "days_waiting_for_data": list(map(str, waiting)),
            "days_before_enrolment": len(not_enrolled),
        }
    )
