"""Stage 4: heart-rate rollups (1 min / 1 h / 1 day) and daily wear-time adherence per participant-day."""


from collections import defaultdict

import dagster as dg
from pydantic import Field

from fitbit_assets import settings
from fitbit_assets.adherence import AdherenceParams
from fitbit_assets.assets.device_sync import device_sync_events
from fitbit_assets.assets.warehouse_rows import heart_rate_rows
from fitbit_assets.partitions import ParticipantDayKey, participant_day_partitions, participant_days
from fitbit_assets.rollups import compute_daily_adherence, refresh_heart_rate_aggregates, utc_day_window
from fitbit_assets.study_files import HEART_RATE, StudyFilesResource
from fitbit_assets.warehouse import WarehouseResource, processed_fingerprints, record_processed

HEART_RATE_ROWS_STAGE = f"{HEART_RATE}_rows"  # what load_validated_days records for heart rate
AGGREGATES_STAGE = "heart_rate_aggregates"
ADHERENCE_STAGE = "daily_adherence"


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
    keys = participant_days(context)
    backend = warehouse.backend
    windows, unchanged = {}, 0
    with warehouse.connection() as conn:
        loaded = processed_fingerprints(conn, HEART_RATE_ROWS_STAGE, keys)
        refreshed = processed_fingerprints(conn, AGGREGATES_STAGE, keys)
        changed: dict[str, list[ParticipantDayKey]] = defaultdict(list)
        for key in keys:
            day = (key.participant_id, key.local_date)
            if day in loaded and loaded[day] == refreshed.get(day):
                unchanged += 1
            elif day in loaded:
                changed[key.participant_id].append(key)
        for participant_id, participant_keys in sorted(changed.items()):
            window = utc_day_window(roster.local_day(key) for key in participant_keys)
            refresh_heart_rate_aggregates(conn, participant_id, window, backend)
            for key in participant_keys:
                record_processed(conn, AGGREGATES_STAGE, key, loaded[(key.participant_id, key.local_date)])
            windows[participant_id] = f"{window.start_utc.isoformat()} .. {window.end_utc.isoformat()}"
    context.log.info(f"refreshed rollups ({backend}) for {len(windows)} participant(s); {unchanged} day(s) unchanged")
    return dg.MaterializeResult(
        metadata={"backend": backend, "refreshed_windows_utc": dict(list(windows.items())[:50]), "days_unchanged": unchanged}
    )


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
    "series (gaps <= impute_max_gap_minutes linearly interpolated and flagged). Recomputed when the day's heart "
    "rate or the adherence settings changed; a quarantined heart-rate day is not judged. Rollup view: "
    "participant_adherence.",
)
def daily_adherence(
    context: dg.AssetExecutionContext,
    study_files: StudyFilesResource,
    warehouse: WarehouseResource,
    adherence: AdherenceResource,
) -> dg.MaterializeResult:
    roster = study_files.roster()
    params = adherence.params()
    computed, valid, unchanged, invalid_days, imputed, quarantined = 0, 0, 0, [], 0, []
    keys = participant_days(context)
    with warehouse.connection() as conn:
        loaded = processed_fingerprints(conn, HEART_RATE_ROWS_STAGE, keys)
        computed_before = processed_fingerprints(conn, ADHERENCE_STAGE, keys)
        for key in keys:
            participant = roster.get(key.participant_id)
            if key.local_date < participant.enrolled_on:
                continue
            report = study_files.read_report(HEART_RATE, key)
            if report is not None and not report.passed:
                quarantined.append(str(key))
                continue
            day = (key.participant_id, key.local_date)
            fingerprint = f"{loaded.get(day, 'no heart rate')}|{params}"
            if computed_before.get(day) == fingerprint:
                unchanged += 1
                continue
            result = compute_daily_adherence(conn, key.participant_id, roster.local_day(key), params)
            record_processed(conn, ADHERENCE_STAGE, key, fingerprint)
            computed += 1
            imputed += result.imputed_minutes
            if result.valid_day:
                valid += 1
            else:
                invalid_days.append(f"{key} ({result.wear_minutes} min worn)")
    return dg.MaterializeResult(
        metadata={
            "days_computed": computed,
            "days_unchanged": unchanged,
            "valid_days": valid,
            "invalid_days": invalid_days[:50],
            "days_quarantined": quarantined[:50],
            "imputed_minutes": imputed,
            "worn_minute_min_samples": params.worn_minute_min_samples,
            "valid_day_minutes": params.valid_day_minutes,
            "impute_max_gap_minutes": params.impute_max_gap_minutes,
        }
    )
