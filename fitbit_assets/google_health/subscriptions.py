"""Per-participant push subscriptions: ``projects.subscribers.subscriptions`` of the study's subscriber.

Reference (health.v4.json revision 20261030, developers.google.com/health/webhooks and
/health/reference/rest/v4/projects.subscribers): a subscriber (the study's HTTPS endpoint) holds one
``SubscriberConfig`` per set of data types with a ``subscriptionCreatePolicy``. With ``AUTOMATIC`` no subscription
exists (Google notifies for every consenting user; subscriptions cannot be listed, changed or deleted); with
``MANUAL`` "the developer needs to call CreateSubscription for new users". The study's subscriber uses MANUAL, so
whom Google notifies follows the study's enrolment and consent, not whoever once consented to the OAuth client:

- ``subscriptions.create`` (POST ``{parent}/subscriptions``, body ``CreateSubscriptionPayload`` ``{"user":
  "users/{healthUserId}", "dataTypes": [...]}``), ``subscriptions.list`` (``filter`` ``user = "users/{id}"``,
  ``pageSize``, ``pageToken``; answer ``{"subscriptions", "nextPageToken"}``), ``subscriptions.patch`` (the data
  types, ``updateMask=dataTypes``) and ``subscriptions.delete`` (answer ``Empty``).
- Data types of a subscription are ``users/{health_user_id}/dataTypes/{data_type}`` (the ``Subscription.dataTypes``
  description; the create payload's field does not say, the same form is sent).
- Every method needs the ``cloud-platform`` scope and the ``health.subscriptions.*`` IAM permissions: project
  credentials (a service account, as the webhooks page recommends), never a participant's token.

What is wanted for a participant (``wanted_data_types``): enrolled (a ``google_health`` roster row), consent usable
(``active`` or ``account_not_linked``: consent stands, the profile may come), and of the notified types those whose
scope was granted. Enrolment and re-consent (``fitbit-assets connect``) create or renew the subscription at once;
withdrawal (roster row removed, consent lost, legacy account) deletes it on the sensor's next tick
(``google_health_subscription_sensor``), which also repairs any drift.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

import requests

from fitbit_assets.google_health.client import ApiError, ResponseShapeError, parse_error
from fitbit_assets.google_health.tokens import ACCOUNT_NOT_LINKED, ACTIVE
from fitbit_assets.warehouse.sql_files import sql_query

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
# The pulled types the webhooks page lists as notified (oxygen-saturation samples are not; "Daily Oxygen
# Saturation" is another type): a notification for one of them re-pulls the affected participant-days.
NOTIFIED_TYPES = ("active-zone-minutes", "activity-level", "daily-respiratory-rate", "distance", "heart-rate",
                  "sleep", "steps", "total-calories")
SUBSCRIBED_STATES = (ACTIVE, ACCOUNT_NOT_LINKED)
# health.v4.json (revision 20261030), Subscription.dataTypes: "{data_type} is one of altitude, distance, floors,
# sleep, steps, weight". The webhooks page lists every notified type above. The wider set is asked first; when Google
# refuses it (400 INVALID_ARGUMENT) the subscription holds the pulled types the document lists: a notification of
# any type re-pulls the participant's whole day, so a sync still reaches the pipeline in minutes.
DESCRIBED_TYPES = ("distance", "sleep", "steps")


def wanted_data_types(health_user_id: str | None, enrolled: bool, consent_state: str | None,
                      withheld: Iterable[str]) -> list[str]:
    """The subscription's data types for one participant (empty: no subscription should exist), sorted."""
    if not health_user_id or not enrolled or consent_state not in SUBSCRIBED_STATES:
        return []
    withheld = set(withheld)
    return [f"users/{health_user_id}/dataTypes/{t}" for t in NOTIFIED_TYPES if t not in withheld]


def project_credentials_token(credentials_path: str | None) -> Callable[[], str]:
    """An access token of the project's credentials with the cloud-platform scope, refreshed when expired
    (``google-auth``): the service-account key file given, else Application Default Credentials. Credentials that
    cannot be loaded or refreshed raise ``ApiError`` naming the file or ADC, like a refused call."""
    import google.auth
    import google.auth.exceptions
    import google.auth.transport.requests
    from google.oauth2 import service_account

    source = credentials_path or "Application Default Credentials"
    loaded = []

    def token() -> str:
        try:
            if not loaded:
                loaded.append(service_account.Credentials.from_service_account_file(
                    credentials_path, scopes=[CLOUD_PLATFORM]) if credentials_path else google.auth.default(
                    scopes=[CLOUD_PLATFORM])[0])
            if not loaded[0].valid:
                loaded[0].refresh(google.auth.transport.requests.Request())
        except (google.auth.exceptions.GoogleAuthError, OSError, ValueError) as exc:
            raise ApiError(f"project credentials ({source})", f"{type(exc).__name__}: {exc}") from None
        return loaded[0].token

    return token


@dataclass
class SubscriptionsClient:
    """The subscription methods of one subscriber (``projects/{project}/subscribers/{subscriber}``)."""

    api_url: str
    subscriber: str
    access_token: Callable[[], str]
    timeout: float = 30.0
    session: requests.Session = field(default_factory=requests.Session)

    def _send(self, method: str, path: str, params: dict | None = None, body: dict | None = None) -> dict:
        request = f"{method} {path}"
        try:
            response = self.session.request(method, f"{self.api_url}/v4/{path}", params=params, json=body,
                                            headers={"Authorization": f"Bearer {self.access_token()}"},
                                            timeout=self.timeout)
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise ApiError(request, f"{type(exc).__name__} after {self.timeout:g} s") from None
        if response.status_code != 200:
            error = parse_error(response)
            raise ApiError(request, error.text, error.status, error.error_reason)
        try:
            answer = response.json()
        except ValueError:
            raise ResponseShapeError(request, "body is not JSON") from None
        if not isinstance(answer, dict):
            raise ResponseShapeError(request, "body: expected a JSON object")
        return answer

    def of_user(self, health_user_id: str) -> list[dict]:
        """Every subscription of one user (``subscriptions.list`` filtered on ``user``, every page)."""
        found, token, seen = [], "", set()
        while True:
            params = {"filter": f'user = "users/{health_user_id}"', "pageSize": "1000"}
            if token:
                params["pageToken"] = token
            page = self._send("GET", f"{self.subscriber}/subscriptions", params=params)
            if not isinstance(page.get("subscriptions", []), list):
                raise ResponseShapeError(f"GET {self.subscriber}/subscriptions", "field subscriptions: expected a list")
            found += page.get("subscriptions", [])
            token = page.get("nextPageToken") or ""
            if not token:
                return found
            if token in seen:
                raise ResponseShapeError(f"GET {self.subscriber}/subscriptions",
                                         "field nextPageToken: repeats an earlier page's token")
            seen.add(token)

    def create(self, health_user_id: str, data_types: list[str]) -> dict:
        return self._send("POST", f"{self.subscriber}/subscriptions",
                          body={"user": f"users/{health_user_id}", "dataTypes": data_types})

    def patch(self, name: str, data_types: list[str]) -> dict:
        return self._send("PATCH", name, params={"updateMask": "dataTypes"}, body={"name": name,
                                                                                 "dataTypes": data_types})

    def delete(self, name: str) -> None:
        self._send("DELETE", name)

    def reconcile(self, health_user_id: str, wanted: list[str]) -> tuple[str, str | None]:
        """Make the user's subscriptions what is wanted: (what was done, the subscription's name or None).

        Nothing wanted: every subscription of the user is deleted ("deleted", or "none" when there was none).
        Otherwise one subscription with exactly those types: "created", "renewed" (its types patched, e.g. after a
        re-consent granted other scopes) or "kept"; extra subscriptions of the user (an earlier crash between
        create and save) are deleted. When Google refuses the wanted types as invalid, the ones health.v4.json lists
        (``DESCRIBED_TYPES``) are subscribed instead, the action saying so.
        """
        existing = self.of_user(health_user_id)
        if not wanted:
            for subscription in existing:
                self.delete(subscription["name"])
            return ("deleted" if existing else "none"), None
        keep, *extra = existing or [None]
        for subscription in extra:
            self.delete(subscription["name"])
        described = [t for t in wanted if t.rsplit("/", 1)[-1] in DESCRIBED_TYPES]
        candidates = [wanted, described] if described and described != wanted else [wanted]
        for attempt, types in enumerate(candidates):
            note = "" if attempt == 0 else " (the types health.v4.json lists: the others were refused)"
            try:
                if keep is None:
                    return "created" + note, self.create(health_user_id, types)["name"]
                if sorted(keep.get("dataTypes", [])) == types:
                    return "kept" + note, keep["name"]
                self.patch(keep["name"], types)
                return "renewed" + note, keep["name"]
            except ApiError as exc:
                if attempt + 1 == len(candidates) or "INVALID_ARGUMENT" not in exc.reason:
                    raise
        raise AssertionError("unreachable")


def sync_subscriptions(connection: Callable[[], AbstractContextManager], client: SubscriptionsClient,
                       enrolled: Collection[str], only: Collection[str] | None = None,
                       check_all: bool = False) -> dict[str, str]:
    """Reconcile the subscriptions of the accounts whose wanted data types differ from the stored ones (or of
    ``only``, always: ``connect`` renews at enrolment and re-consent; or of every account with ``check_all``: what
    Google holds is listed, so a subscription lost or changed on Google's side is repaired) and store the
    outcome. ``enrolled``: the
    ``google_health`` participants of the roster. Returns participant -> what was done, or ``failed: <reason>``
    (one participant's failure never stops the others; the stored state stays, so the next call retries)."""
    with connection() as conn, conn.cursor() as cur:
        cur.execute(sql_query("google_health_subscription_targets"))
        accounts = cur.fetchall()
    outcome = {}
    for participant_id, health_user_id, state, withheld, stored_name, stored_types in accounts:
        wanted = wanted_data_types(health_user_id, participant_id in enrolled, state, withheld)
        if only is not None:
            if participant_id not in only:
                continue
        elif not check_all and wanted == sorted(stored_types) and bool(stored_name) == bool(wanted):
            continue  # in step: nothing to send
        if not health_user_id:
            continue  # enrolled before healthUserId was stored: nothing names the user until `connect` again
        try:
            action, name = client.reconcile(health_user_id, wanted)
        except ApiError as exc:
            outcome[participant_id] = f"failed: {exc}"
            continue
        with connection() as conn, conn, conn.cursor() as cur:
            cur.execute(sql_query("google_health_subscription_save"),
                        {"participant_id": participant_id, "subscription_name": name, "data_types": wanted})
        outcome[participant_id] = action
    return outcome
