"""Heart-rate rollups (1 min / 1 h / 1 day) per participant-day, refreshed for the days whose heart rate was
(re)loaded."""

from collections import defaultdict

import dagster as dg

from fitbit_assets.defs.datasets.factory import heart_rate_rows
from fitbit_assets.lib.day_metadata import DayTally
from fitbit_assets.lib.partitions import ParticipantDayKey, participant_day_asset, participant_days, run_local_dates
from fitbit_assets.lib.study_files import HEART_RATE, StudyFilesResource
from fitbit_assets.warehouse.fingerprints import processed_fingerprints, record_processed
from fitbit_assets.warehouse.resource import WarehouseResource
from fitbit_assets.warehouse.rollups import refresh_heart_rate_aggregates, utc_day_window

HEART_RATE_ROWS_STAGE = f"{HEART_RATE}_rows"  # what load_validated_days records for heart rate
AGGREGATES_STAGE = "heart_rate_aggregates"


@participant_day_asset(
    deps=[heart_rate_rows],
    group_name="rollups",
    kinds={"postgres"},
    pool="warehouse",
    description="heart_rate_1m / heart_rate_1h / heart_rate_1d (participant_id, bucket, samples, bpm_sum, min_bpm, "
    "max_bpm, mean_bpm) brought up to date for the whole UTC days covering the participant-days whose heart rate "
    "was (re)loaded: tables refreshed per participant on plain PostgreSQL; hierarchical continuous aggregates "
    "(refresh_continuous_aggregate) where the TimescaleDB extension is installed (metadata 'backend').",
)
def heart_rate_aggregates(
    context: dg.AssetExecutionContext, study_files: StudyFilesResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    roster = study_files.roster()
    keys = participant_days(context, roster)
    backend = warehouse.backend
    tally = DayTally(run_local_dates(context), backend=backend)
    windows = {}
    with warehouse.connection() as conn:
        loaded = processed_fingerprints(conn, HEART_RATE_ROWS_STAGE, keys)
        refreshed = processed_fingerprints(conn, AGGREGATES_STAGE, keys)
        changed: dict[str, list[ParticipantDayKey]] = defaultdict(list)
        for key in keys:
            day = (key.participant_id, key.local_date)
            if day in loaded and loaded[day] == refreshed.get(day):
                tally.count(key.local_date, "participants_unchanged")
            elif day in loaded:
                changed[key.participant_id].append(key)
                tally.count(key.local_date, "participants_refreshed")
        for participant_id, participant_keys in sorted(changed.items()):
            window = utc_day_window(roster.local_day(key) for key in participant_keys)
            refresh_heart_rate_aggregates(conn, participant_id, window, backend)
            for key in participant_keys:
                record_processed(conn, AGGREGATES_STAGE, key, loaded[(key.participant_id, key.local_date)])
            windows[participant_id] = f"{window.start_utc.isoformat()} .. {window.end_utc.isoformat()}"
    context.log.info(
        f"refreshed rollups ({backend}) for {len(windows)} participant(s) over UTC windows {dict(list(windows.items())[:10])}; "
        f"{tally.total('participants_unchanged')} participant-day(s) unchanged"
    )
    return tally.report(context, ("participants_refreshed", "participants_unchanged"))
