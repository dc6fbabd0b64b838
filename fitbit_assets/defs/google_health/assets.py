"""Dagster glue of the Google Health API connector: pull the run's google_health participant-days first."""


import dagster as dg

from fitbit_assets import settings
from fitbit_assets.google_health import SOURCE
from fitbit_assets.google_health.client import ApiError, HealthApiClient, UserQuota
from fitbit_assets.google_health.oauth import ConsentLostError, OAuthClient, OAuthError
from fitbit_assets.google_health.pull import (
    FAMILY_PULLS,
    pull_family_day,
    pull_heart_rate_day,
    pull_wear_day,
    save_wear_day,
)
from fitbit_assets.google_health.tokens import NotConnectedError, TokenKeyError, TokenStore
from fitbit_assets.lib.partitions import participant_day_asset, participant_days
from fitbit_assets.lib.study_files import StudyFilesResource
from fitbit_assets.warehouse.resource import WarehouseResource

BACKOFF_SECONDS = 1.0  # first retry delay of 5xx/timeouts (doubling, jittered); tests shorten it


def oauth_client(configured: settings.Settings) -> OAuthClient:
    secret = configured.google_client_secret.get_secret_value() if configured.google_client_secret else None
    return OAuthClient(configured.google_client_id or "", secret, configured.google_oauth_url,
                       configured.google_token_url)


def token_store(configured: settings.Settings, warehouse: WarehouseResource) -> TokenStore:
    key = configured.token_encryption_key.get_secret_value() if configured.token_encryption_key else None
    return TokenStore(warehouse.connection, key)


@participant_day_asset(
    group_name="landing",
    kinds={"json"},
    description="Heart rate (heart-rate samples), breathing rate (daily-respiratory-rate), sleep, SpO2 "
    "(oxygen-saturation), Active Zone Minutes (active-zone-minutes) and on-wrist minutes (steps presence, true "
    "zeros included) of source=google_health participants pulled from the Google Health API: raw responses in "
    "landing/google_health/<participant>/<date>/, day CSV + lineage in landing/heart_rate/ and the breathing_rate, "
    "sleep, spo2 and active_zone_minutes family documents, for the unchanged validation -> "
    "warehouse path; on-wrist minutes in google_health_wear_daily. A failed day (retries used up, malformed response) or a participant whose "
    "consent is gone (re-consent needed) never holds back the others. Does nothing without such participants.",
)
def google_health_pull(
    context: dg.AssetExecutionContext, study_files: StudyFilesResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    roster = study_files.roster()
    by_participant: dict[str, list] = {}
    for key in participant_days(context, roster):
        participant = roster.get(key.participant_id)
        if participant.source == SOURCE and key.local_date >= participant.enrolled_on:
            by_participant.setdefault(key.participant_id, []).append(key)
    if not by_participant:
        return dg.MaterializeResult(metadata={"participant_days": 0})
    configured = settings.load()
    pulled, unchanged, no_data, failed, reconsent, not_connected = [], [], [], {}, {}, []
    family_changed: dict[str, list[str]] = {pull.family: [] for pull in FAMILY_PULLS}
    wear_days = 0
    requests_sent = 0
    try:
        store = token_store(configured, warehouse)
    except TokenKeyError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    oauth = oauth_client(configured)
    for participant_id, keys in sorted(by_participant.items()):
        participant = roster.get(participant_id)
        # One quota per participant for the whole run: every day and page of theirs draws from it.
        client = HealthApiClient(
            configured.google_api_url,
            lambda force, pid=participant_id: store.access_token(pid, oauth, force_refresh=force),
            UserQuota(),
            backoff_seconds=BACKOFF_SECONDS,
        )
        for key in keys:
            try:
                day = pull_heart_rate_day(client, study_files.landing_dir, participant_id,
                                          roster.local_day(key), study_files.raw_heart_rate_path(key))
                (pulled if day.changed else unchanged if day.samples else no_data).append(str(key))
                if day.duplicates:
                    context.log.info(f"{key}: {day.duplicates} repeated heart-rate data point(s) dropped")
                for family_pull in FAMILY_PULLS:
                    if pull_family_day(client, study_files.landing_dir, participant_id, roster.local_day(key),
                                       family_pull, study_files.raw_path(family_pull.family, key, ".json")):
                        family_changed[family_pull.family].append(str(key))
                on_wrist = pull_wear_day(client, study_files.landing_dir, participant_id, roster.local_day(key))
                if on_wrist is not None:
                    with warehouse.connection() as conn:
                        save_wear_day(conn, participant_id, on_wrist)
                    wear_days += 1
            except ConsentLostError as exc:
                store.mark_consent_lost(participant_id, str(exc))
                reconsent[participant_id] = str(exc)
                context.log.warning(f"{participant_id}: re-consent needed ({exc}); its days are skipped")
                break
            except NotConnectedError as exc:
                not_connected.append(participant_id)
                context.log.warning(str(exc))
                break
            except (ApiError, OAuthError, TokenKeyError) as exc:
                failed[str(key)] = str(exc)
                context.log.error(f"{key} ({participant.timezone}): pull failed: {exc}")
        requests_sent += client.requests_sent
    metadata = {
        "days_pulled_new_or_changed": pulled, "days_unchanged": len(unchanged), "days_without_data": no_data,
        **{f"{family}_days_new_or_changed": days for family, days in family_changed.items()},
        "on_wrist_days": wear_days,
        "days_failed": failed, "participants_reconsent_needed": sorted(reconsent),
        "participants_not_connected": not_connected, "api_requests": requests_sent,
    }
    if failed and not (pulled or unchanged or no_data):
        # Nothing came through at all: a failure the schedule's trailing window retries.
        shown = "; ".join(f"{day}: {reason}" for day, reason in list(failed.items())[:5])
        raise dg.Failure(description=f"every Google Health pull of this run failed: {shown}",
                         metadata=metadata, allow_retries=True)
    return dg.MaterializeResult(metadata=metadata)
