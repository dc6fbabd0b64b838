"""Daily wear-time adherence per participant-day, from the 1-minute rollup, with short-gap imputation."""

import dagster as dg
from pydantic import Field

from fitbit_assets import settings
from fitbit_assets.defs.device_sync.assets import device_sync_events
from fitbit_assets.defs.rollups.assets import HEART_RATE_ROWS_STAGE, heart_rate_aggregates
from fitbit_assets.domain.adherence import AdherenceParams
from fitbit_assets.lib.day_metadata import DayTally
from fitbit_assets.lib.partitions import participant_day_asset, participant_days, run_local_dates
from fitbit_assets.lib.study_files import HEART_RATE, StudyFilesResource
from fitbit_assets.warehouse.fingerprints import processed_fingerprints, record_processed
from fitbit_assets.warehouse.resource import WarehouseResource
from fitbit_assets.warehouse.rollups import compute_daily_adherence

ADHERENCE_STAGE = "daily_adherence"


class AdherenceResource(dg.ConfigurableResource):
    """Study-configurable adherence definitions (docs/adherence.md "Adherence definitions")."""

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


@participant_day_asset(
    # device_sync_events: the valid-day check tells "not wearing" from "not syncing" with the day's sync events.
    deps=[heart_rate_aggregates, device_sync_events],
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
    tally = DayTally(
        run_local_dates(context),
        worn_minute_min_samples=params.worn_minute_min_samples,
        valid_day_minutes=params.valid_day_minutes,
        impute_max_gap_minutes=params.impute_max_gap_minutes,
    )
    keys = participant_days(context, roster)
    with warehouse.connection() as conn:
        loaded = processed_fingerprints(conn, HEART_RATE_ROWS_STAGE, keys)
        computed_before = processed_fingerprints(conn, ADHERENCE_STAGE, keys)
        for key in keys:
            participant = roster.get(key.participant_id)
            if key.local_date < participant.enrolled_on:
                continue
            report = study_files.read_report(HEART_RATE, key)
            if report is not None and not report.passed:
                tally.name(key.local_date, "participants_quarantined", key.participant_id)
                continue
            day = (key.participant_id, key.local_date)
            fingerprint = f"{loaded.get(day, 'no heart rate')}|{params}"
            if computed_before.get(day) == fingerprint:
                tally.count(key.local_date, "participants_unchanged")  # same heart rate and settings as computed
                continue
            result = compute_daily_adherence(conn, key.participant_id, roster.local_day(key), params)
            record_processed(conn, ADHERENCE_STAGE, key, fingerprint)
            tally.count(key.local_date, "participants_computed")
            tally.count(key.local_date, "imputed_minutes", result.imputed_minutes)
            if result.valid_day:
                tally.count(key.local_date, "valid_days")
            else:
                tally.name(key.local_date, "invalid_days", f"{key.participant_id} ({result.wear_minutes} min worn)")
    return tally.report(
        context,
        ("participants_computed", "participants_unchanged", "valid_days", "invalid_days", "participants_quarantined",
         "imputed_minutes"),
    )
