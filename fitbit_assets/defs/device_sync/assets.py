"""Device sync events -> the device_sync table (the "not syncing" vs "not wearing" signal)."""

import dagster as dg

from fitbit_assets.domain.device_sync import (
    SYNTHETIC_FORMAT,
    SYNTHETIC_SYNC_VERSION,
    generate_sync_events,
    synthetic_sync_window,
)
from fitbit_assets.domain.sources import export_dir, read_sync_events
from fitbit_assets.lib.day_metadata import DayTally
from fitbit_assets.lib.partitions import participant_day_asset, participant_days, run_local_dates
from fitbit_assets.lib.study_files import StudyFilesResource
from fitbit_assets.warehouse.days import upsert_participant
from fitbit_assets.warehouse.device_sync import replace_sync_events
from fitbit_assets.warehouse.fingerprints import processed_fingerprints, record_processed
from fitbit_assets.warehouse.resource import WarehouseResource

SYNC_STAGE = "device_sync_events"


@participant_day_asset(
    group_name="warehouse",
    kinds={"postgres"},
    pool="warehouse",
    description="Rows of device_sync: generated per day for synthetic participants; for source=landing, every "
    "Fitabase syncEvents CSV and saved /devices.json response in landing/<participant>/ (replaced per file; a "
    "malformed file is logged and listed in sync_file_errors, the others load). "
    "Feeds the participant_day_status view (ok / not_wearing / not_syncing).",
)
def device_sync_events(
    context: dg.AssetExecutionContext, study_files: StudyFilesResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    roster = study_files.roster()
    keys = participant_days(context, roster)
    tally = DayTally(run_local_dates(context))
    files, file_errors = [], []
    with warehouse.connection() as conn:
        generated_before = processed_fingerprints(conn, SYNC_STAGE, keys)
        for participant_id in sorted({key.participant_id for key in keys}):
            participant = roster.get(participant_id)
            upsert_participant(conn, participant)
            if participant.source == "synthetic":
                for key in keys:
                    if key.participant_id != participant_id or key.local_date < participant.enrolled_on:
                        continue
                    if generated_before.get((participant_id, key.local_date)) == SYNTHETIC_SYNC_VERSION:
                        tally.count(key.local_date, "synthetic_participants_unchanged")  # generated once per day
                        continue
                    events = generate_sync_events(participant, key.local_date)
                    tally.count(key.local_date, "synthetic_sync_events", replace_sync_events(
                        conn, participant_id, SYNTHETIC_FORMAT, SYNTHETIC_FORMAT, events,
                        window=synthetic_sync_window(participant, key.local_date),
                    ))
                    record_processed(conn, SYNC_STAGE, key, SYNTHETIC_SYNC_VERSION, len(events))
                continue
            parsed, errors = read_sync_events(export_dir(study_files.landing_dir, participant_id), participant)
            for error in errors:  # that file only: the participant's other files and the other participants load
                context.log.error(f"sync file for participant {participant_id} cannot be loaded, nothing loaded from it: {error}")
                file_errors.append(str(error))
            for source_format, path, events in parsed:
                replace_sync_events(conn, participant_id, source_format, path.name, events)
                files.append(f"{participant_id}/{path.name}")
    # Export sync files span many days: listed as the run's, beside each day's synthetic counts.
    tally.add_run_values(sync_files=files[:50], sync_file_errors=file_errors[:20])
    return tally.report(context, ("synthetic_sync_events", "synthetic_participants_unchanged"))
