"""Dagster glue of the Google Health API connector: pull the run's google_health participant-days first."""

import datetime as dt
from collections.abc import Callable

import dagster as dg

from fitbit_assets import settings
from fitbit_assets.domain.heart_rate import HEART_RATE
from fitbit_assets.domain.roster import Roster
from fitbit_assets.google_health import HEART_RATE_TYPE, PAIRED_DEVICES, SOURCE, refused_types, wear
from fitbit_assets.google_health.client import (
    AccountNotLinkedError,
    ApiError,
    HealthApiClient,
    LegacyAccountError,
    ProjectBudget,
    ScopeWithheldError,
    UserQuota,
)
from fitbit_assets.google_health.oauth import ConsentLostError, OAuthClient, OAuthError
from fitbit_assets.google_health.pull import (
    FAMILY_PULLS,
    pull_family_day,
    pull_heart_rate_day,
    pull_paired_devices,
    pull_wear_day,
    save_device_status,
    save_wear_day,
)
from fitbit_assets.google_health.subscriptions import (
    SubscriptionsClient,
    project_credentials_token,
    sync_subscriptions,
)
from fitbit_assets.google_health.tokens import (
    ACCOUNT_NOT_LINKED,
    LEGACY_ACCOUNT,
    NotConnectedError,
    TokenKeyError,
    TokenStore,
)
from fitbit_assets.lib.partitions import participant_day_asset, participant_days
from fitbit_assets.lib.study_files import StudyFilesResource
from fitbit_assets.warehouse.resource import WarehouseResource

BACKOFF_SECONDS = 1.0  # first retry delay of 5xx/timeouts (doubling, jittered); tests shorten it


def oauth_client(configured: settings.Settings) -> OAuthClient:
    secret = configured.google_client_secret.get_secret_value() if configured.google_client_secret else None
    return OAuthClient(configured.google_client_id or "", secret, configured.google_oauth_url,
                       configured.google_token_url)


def subscriptions_client(configured: settings.Settings) -> SubscriptionsClient | None:
    """The study subscriber's subscription calls with the project's credentials; None without
    FITBIT_GOOGLE_SUBSCRIBER (no per-participant subscriptions)."""
    if configured.google_subscriber is None:
        return None
    path = configured.google_subscriber_credentials_path
    return SubscriptionsClient(configured.google_api_url, configured.google_subscriber,
                               project_credentials_token(str(path) if path else None))


def enrolment_subscriber(configured: settings.Settings, warehouse: WarehouseResource,
                         roster: Roster) -> Callable[[str], str] | None:
    """``connect``'s ``subscribe``: reconcile one participant's push subscription right after their consent is
    stored; None without FITBIT_GOOGLE_SUBSCRIBER."""
    client = subscriptions_client(configured)
    if client is None:
        return None
    enrolled = {p.participant_id for p in roster.participants if p.source == SOURCE}

    def subscribe(participant_id: str) -> str:
        return sync_subscriptions(warehouse.connection, client, enrolled, only={participant_id}).get(
            participant_id, "none")

    return subscribe


def token_store(configured: settings.Settings, warehouse: WarehouseResource) -> TokenStore:
    key = configured.token_encryption_key.get_secret_value() if configured.token_encryption_key else None
    return TokenStore(warehouse.connection, key)


@participant_day_asset(
    group_name="landing",
    kinds={"json"},
    description="Heart rate (heart-rate samples), breathing rate (daily-respiratory-rate), sleep, SpO2 "
    "(oxygen-saturation), Active Zone Minutes (active-zone-minutes), the activity summary (daily rollups and "
    "activity-level intervals), on-wrist minutes (steps presence, true zeros included) and the trackers' last sync "
    "and battery (users.pairedDevices) of source=google_health participants pulled from the Google Health API: raw "
    "responses in landing/google_health/<participant>/<date>/, day CSV + lineage in landing/heart_rate/ and the "
    "family documents, for the unchanged validation -> warehouse path; on-wrist minutes in google_health_wear_daily, "
    "device state in device_status. Each data type is pulled on its own: a refused or failed type never skips "
    "another, a withheld scope skips only its types (recorded for the coordinator), and a participant whose consent "
    "is gone or whose account is not usable (ACCOUNT_NOT_LINKED, legacy Fitbit account) never holds back the "
    "others. Does nothing without such participants.",
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
    account_states: dict[str, dict[str, str]] = {ACCOUNT_NOT_LINKED: {}, LEGACY_ACCOUNT: {}}
    withheld_by_participant: dict[str, list[str]] = {}
    offset_differs: dict[str, str] = {}
    family_changed: dict[str, list[str]] = {pull.family: [] for pull in FAMILY_PULLS}
    wear_days = devices_seen = 0
    requests_sent = 0
    try:
        store = token_store(configured, warehouse)
    except TokenKeyError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    oauth = oauth_client(configured)
    with warehouse.connection() as budget_conn:
        project_budget = ProjectBudget(budget_conn, configured.google_project_requests_per_minute)
        for participant_id, keys in sorted(by_participant.items()):
            participant = roster.get(participant_id)
            # One quota per participant for the whole run: every day, type and page of theirs draws from it.
            client = HealthApiClient(
                configured.google_api_url,
                lambda force, pid=participant_id: store.access_token(pid, oauth, force_refresh=force),
                UserQuota(configured.google_user_requests_per_minute),
                project_budget=project_budget,
                user_budget=ProjectBudget(budget_conn, configured.google_user_requests_per_minute,
                                          name=f"user:{participant_id}"),
                data_source_family=f"users/me/dataSourceFamilies/{configured.google_data_source_family}",
                backoff_seconds=BACKOFF_SECONDS,
            )
            state, withheld = store.account(participant_id)
            if state == LEGACY_ACCOUNT:  # nothing to try until the participant connects a Google Account
                account_states[LEGACY_ACCOUNT][participant_id] = "since an earlier pull"
                continue
            answered = False

            def attempt(data_types, label, pull):
                """One type's pull; False when it was skipped or refused (the participant's other types go on)."""
                nonlocal answered
                if withheld.intersection(data_types):
                    return False
                try:
                    pull()
                    answered = True
                    return True
                except ScopeWithheldError as exc:
                    refused = refused_types(exc.data_type, exc.error_reason, data_types)
                    withheld.update(refused)
                    store.mark_withheld(participant_id, refused, f"refused by the API: {exc.reason}")
                    context.log.warning(f"{participant_id}: {', '.join(refused)} refused ({exc.reason}); "
                                        "marked withheld, the other types are pulled")
                except (AccountNotLinkedError, LegacyAccountError):
                    raise
                except (ApiError, OAuthError) as exc:
                    failed[f"{label}"] = str(exc)
                    context.log.error(f"{label} ({participant.timezone}): pull failed: {exc}")
                return False

            try:
                for key in keys:
                    day = roster.local_day(key)

                    def heart_rate(key=key, day=day):
                        result = pull_heart_rate_day(client, study_files.landing_dir, participant_id, day,
                                                     study_files.day_file(HEART_RATE, key))
                        (pulled if result.changed else unchanged if result.samples else no_data).append(str(key))
                        if result.duplicates:
                            context.log.info(f"{key}: {result.duplicates} repeated heart-rate data point(s) dropped")
                        if result.offset_mismatches:
                            offset_differs[str(key)] = (
                                f"{result.offset_mismatches} sample(s) at utcOffset {result.device_offset}, not "
                                f"{participant.timezone}'s: kept on the roster zone's day (travel, or a wrong roster "
                                "zone)")

                    attempt((HEART_RATE_TYPE,), f"{key} {HEART_RATE_TYPE}", heart_rate)
                    for family_pull in FAMILY_PULLS:
                        def family(family_pull=family_pull, key=key, day=day):
                            if pull_family_day(client, study_files.landing_dir, participant_id, day, family_pull,
                                               study_files.day_file(family_pull.family, key)):
                                family_changed[family_pull.family].append(str(key))

                        attempt(family_pull.data_types, f"{key} {family_pull.family}", family)

                    def on_wrist(day=day):
                        nonlocal wear_days
                        found = pull_wear_day(client, study_files.landing_dir, participant_id, day)
                        if found is not None:
                            with warehouse.connection() as conn:
                                save_wear_day(conn, participant_id, found)
                            wear_days += 1

                    attempt((wear.STEPS_TYPE,), f"{key} on-wrist", on_wrist)

                def devices():
                    nonlocal devices_seen
                    now = dt.datetime.now(dt.timezone.utc)
                    found = pull_paired_devices(client, study_files.landing_dir, participant_id, now.date())
                    with warehouse.connection() as conn:
                        save_device_status(conn, participant_id, found, now)
                    devices_seen += len(found)

                attempt((PAIRED_DEVICES,), f"{participant_id} {PAIRED_DEVICES}", devices)  # once a run: today's state
                if answered:
                    store.mark_active(participant_id)  # an account that was not linked is now
            except ConsentLostError as exc:
                store.mark_consent_lost(participant_id, str(exc))
                reconsent[participant_id] = str(exc)
                context.log.warning(f"{participant_id}: re-consent needed ({exc}); its days are skipped")
            except NotConnectedError as exc:
                not_connected.append(participant_id)
                context.log.warning(str(exc))
            except (AccountNotLinkedError, LegacyAccountError) as exc:
                state = ACCOUNT_NOT_LINKED if isinstance(exc, AccountNotLinkedError) else LEGACY_ACCOUNT
                store.mark_state(participant_id, state, exc.reason)
                account_states[state][participant_id] = exc.reason
                context.log.warning(f"{participant_id}: {state} ({exc.reason}); its days are skipped")
            except TokenKeyError as exc:
                failed[participant_id] = str(exc)
                context.log.error(f"{participant_id}: {exc}")
            if withheld:
                withheld_by_participant[participant_id] = sorted(withheld)
            requests_sent += client.requests_sent
    metadata = {
        "days_pulled_new_or_changed": pulled, "days_unchanged": len(unchanged), "days_without_data": no_data,
        **{f"{family}_days_new_or_changed": days for family, days in family_changed.items()},
        "on_wrist_days": wear_days, "paired_devices": devices_seen,
        "days_failed": failed, "participants_reconsent_needed": sorted(reconsent),
        "participants_account_not_linked": sorted(account_states[ACCOUNT_NOT_LINKED]),
        "participants_legacy_account": sorted(account_states[LEGACY_ACCOUNT]),
        "data_types_withheld": withheld_by_participant, "utc_offset_differs_from_roster": offset_differs,
        "participants_not_connected": not_connected, "api_requests": requests_sent,
    }
    if failed and not (pulled or unchanged or no_data):
        # Nothing came through at all: a failure the schedule's trailing window retries.
        shown = "; ".join(f"{day}: {reason}" for day, reason in list(failed.items())[:5])
        raise dg.Failure(description=f"every Google Health pull of this run failed: {shown}",
                         metadata=metadata, allow_retries=True)
    return dg.MaterializeResult(metadata=metadata)
