"""Stage 4: heart-rate rollups (1 min / 1 h / 1 day) and daily wear-time adherence per participant-day."""


from collections import defaultdict

import dagster as dg
from pydantic import Field

from fitbit_assets import settings
from fitbit_assets.adherence import AdherenceParams
from fitbit_assets.assets.device_sync import device_sync_events
from fitbit_assets.assets.warehouse_rows import heart_rate_rows
from fitbit_assets.local_days import LocalDay
from fitbit_assets.partitions import participant_day_partitions, participant_days
from fitbit_assets.rollups import compute_daily_adherence, refresh_heart_rate_aggregates, utc_day_window
from fitbit_assets.study_files import StudyFilesResource
from fitbit_assets.warehouse import WarehouseResource


class AdherenceResource(dg.ConfigurableResource):
    """Study-configurable adherence definitions (README "Adherence definitions")."""

    worn_minute_min_samples: int = Field(
        default_factory=lambda: settings.load().worn_minute_min_samples,  # FITBIT_WORN_MINUTE_MIN_SAMPLES
        description="A minute is worn with at least this many heart-rate samples (RAPIDS: 1)",
    )
    valid_day_minutes: int = Field(
        default_factory=lambda: settings.load().valid_day_minutes,  # FITBIT_VALID_DAY_MINUTES
        description="A local day is valid with at least this many worn minutes (600 = 10 h; HeartSteps: 480)",
    )
    impute_max_gap_minutes: int = Field(
        default_factory=lambda: settings.load().impute_max_gap_minutes,  # FITBIT_IMPUTE_MAX_GAP_MINUTES
        description="Interior gaps of at most this many minutes are linearly interpolated (flagged imputed)",
    )

    def params(self) -> AdherenceParams:
        return AdherenceParams(self.worn_minute_min_samples, self.valid_day_minutes, self.impute_max_gap_minutes)


@dg.asset(
    deps=[heart_rate_rows],
    partitions_def=participant_day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="rollups",
    kinds={"postgres", "timescaledb"},
    pool="warehouse",
    description="heart_rate_1m / heart_rate_1h / heart_rate_1d (participant_id, bucket, samples, bpm_sum, min_bpm, "
    "max_bpm, mean_bpm) brought up to date for the whole UTC days covering the partitions: hierarchical "
    "continuous aggregates refreshed with refresh_continuous_aggregate on TimescaleDB, tables of the same "
    "shape refreshed per participant on plain PostgreSQL.",
)
def heart_rate_aggregates(
    context: dg.AssetExecutionContext, study_files: StudyFilesResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    roster = study_files.roster()
    days_by_participant: dict[str, list[LocalDay]] = defaultdict(list)
    for key in participant_days(context):
        days_by_participant[key.participant_id].append(LocalDay(key.local_date, roster.get(key.participant_id).timezone))
    backend = warehouse.backend
    windows = {}
    with warehouse.connection() as conn:
        for participant_id, days in sorted(days_by_participant.items()):
            window = utc_day_window(days)
            refresh_heart_rate_aggregates(conn, participant_id, window, backend)
            windows[participant_id] = f"{window.start_utc.isoformat()} .. {window.end_utc.isoformat()}"
    context.log.info(f"refreshed rollups ({backend}) for {windows}")
    return dg.MaterializeResult(metadata={"backend": backend, "refreshed_windows_utc": windows})


@dg.asset(
    # device_sync_events: the valid-day check tells "not wearing" from "not syncing" with the day's sync events.
    deps=[heart_rate_aggregates, device_sync_events],
    partitions_def=participant_day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="rollups",
    kinds={"postgres"},
    pool="warehouse",
    description="daily_adherence: one row per participant local day (wear minutes, adherence % of the 23/24/25-h "
    "local day, longest gap, gap count, valid-day flag, imputed minutes) and the day's heart_rate_1m_imputed "
    "series (gaps <= impute_max_gap_minutes linearly interpolated and flagged). Rollup view: participant_adherence.",
)
def daily_adherence(
    context: dg.AssetExecutionContext,
    study_files: StudyFilesResource,
    warehouse: WarehouseResource,
    adherence: AdherenceResource,
) -> dg.MaterializeResult:
    roster = study_files.roster()
    params = adherence.params()
    computed, valid, invalid_days, imputed = 0, 0, [], 0
    with warehouse.connection() as conn:
        for key in participant_days(context):
            participant = roster.get(key.participant_id)
            if key.local_date < participant.enrolled_on:
                continue
            result = compute_daily_adherence(conn, key.participant_id, LocalDay(key.local_date, participant.timezone), params)
            computed += 1
            imputed += result.imputed_minutes
            if result.valid_day:
                valid += 1
            else:
                invalid_days.append(f"{key} ({result.wear_minutes} min worn)")
    return dg.MaterializeResult(
        metadata={
            "days_computed": computed,
            "valid_days": valid,
            "invalid_days": invalid_days[:50],
            "imputed_minutes": imputed,
            "worn_minute_min_samples": params.worn_minute_min_samples,
            "valid_day_minutes": params.valid_day_minutes,
            "impute_max_gap_minutes": params.impute_max_gap_minutes,
        }
    )
