"""Check on the rollups: they equal a recomputation from raw rows, for each participant-day."""

import dagster as dg

from fitbit_assets.defs.rollups.assets import heart_rate_aggregates
from fitbit_assets.lib.check_reporting import DayResult, report_day_results
from fitbit_assets.lib.partitions import ParticipantDayKey, local_day_partitions, participant_days
from fitbit_assets.lib.study_files import StudyFilesResource
from fitbit_assets.warehouse.resource import WarehouseResource
from fitbit_assets.warehouse.rollups import aggregate_mismatches_of_windows, utc_day_window

# Participant-days compared per statement: a few hundred days of raw rows in the server's memory at once.
WINDOWS_PER_QUERY = 200


@dg.asset_check(
    asset=heart_rate_aggregates,
    partitions_def=local_day_partitions,
    description="heart_rate_1m/1h/1d equal a recomputation from raw heart_rate rows for each participant-day's UTC "
    "window (samples, sums, min and max exact; means within 1e-9).",
)
def heart_rate_aggregates_match_raw(
    context: dg.AssetCheckExecutionContext, study_files: StudyFilesResource, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    roster = study_files.roster()
    results: dict[ParticipantDayKey, DayResult] = {}
    keys = participant_days(context, roster)
    with warehouse.connection() as conn:
        for start in range(0, len(keys), WINDOWS_PER_QUERY):
            batch = keys[start : start + WINDOWS_PER_QUERY]
            windows = [(key.participant_id, utc_day_window([roster.local_day(key)])) for key in batch]
            for key, (compared, mismatches) in zip(batch, aggregate_mismatches_of_windows(conn, windows)):
                metadata = {"buckets_compared": compared, "mismatches": dg.MetadataValue.json(mismatches[:20])}
                results[key] = DayResult(
                    not mismatches, f"{len(mismatches)} of {compared} buckets differ from raw" if mismatches else None,
                    metadata,
                )
    return report_day_results(context, roster, results, dg.AssetCheckSeverity.ERROR)
