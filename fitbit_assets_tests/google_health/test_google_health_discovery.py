"""The fake and the client held to Google's own description of the Google Health API: ``health.v4.json``
(revision 20261030), the discovery document shipped in the pinned ``google-api-python-client`` wheel.

Every response body the fake produced while the connector pulled every data type (list pages, rollups, identity,
paired devices) and while the client met every error the fake can answer is validated against the schema the
discovery document gives its method, with no field outside it (``additionalProperties: false``), enums, int64 as
strings and durations as ``"<seconds>s"``. Every request the client sent is matched to a discovery method (HTTP
method and path template), its query parameters must be that method's, its body must match the method's request
schema, its data type must be a field of the method's answer (``DataPoint``, ``DailyRollupDataPoint``) and its filter
one of the documented filter fields. Error bodies
are checked against ``Status`` (their ``{"error": ...}`` wrapper and ``status`` name are AIP-193's, not in the
document)."""

from __future__ import annotations

import datetime as dt
import json
import re
from importlib.resources import files

import jsonschema
import pytest

from fitbit_assets.devtools.google_health_fake import FakeGoogleHealth
from fitbit_assets.google_health.client import ApiError
from fitbit_assets.google_health.oauth import ConsentLostError
from fitbit_assets_tests.support.google_health import (
    ALICE,
    DAY,
    FILTER,
    SUBSCRIBER,
    day_start_utc,
    enrol,
    fake_client,
    key,
    local_time,
    pull_days,
)

DISCOVERY = json.loads((files("googleapiclient") / "discovery_cache/documents/health.v4.json").read_text())
PINNED = "google-api-python-client==2.202.0"  # pyproject.toml's test extra: the wheel the document comes from
REVISION = "20261030"
RPC_CODES = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
             "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
             "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"]
# The filter fields the list method's ``filter`` description documents.
FILTER_FIELD = re.compile(r'^([a-z_]+)\.(interval\.start_time|interval\.civil_start_time|sample_time\.physical_time|'
                          r'sample_time\.civil_time|date|interval\.end_time|interval\.civil_end_time) (>=|<) "[^"]+"$')


def _json_schema(node: dict) -> dict:
    """One discovery schema node as JSON Schema (draft 2020-12), strict about field names."""
    if "$ref" in node:
        return {"$ref": f"#/$defs/{node['$ref']}"}
    kind, fmt = node.get("type"), node.get("format")
    if kind == "any":
        return {}
    if kind == "object":
        out: dict = {"type": "object"}
        if "properties" in node:
            out["properties"] = {name: _json_schema(prop) for name, prop in node["properties"].items()}
        extra = node.get("additionalProperties")
        out["additionalProperties"] = _json_schema(extra) if extra is not None else "properties" not in node
        return out
    if kind == "array":
        return {"type": "array", "items": _json_schema(node.get("items", {}))}
    if kind == "string" and fmt in ("int64", "uint64"):
        return {"type": "string", "pattern": r"^-?\d+$"}  # the proto3 JSON mapping of 64-bit integers
    if kind == "string" and fmt == "google-duration":
        return {"type": "string", "pattern": r"^-?\d+(\.\d{1,9})?s$"}
    if kind == "string" and fmt == "google-datetime":
        return {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$"}
    out = {"type": kind} if kind else {}
    if "enum" in node:
        out["enum"] = node["enum"]
    return out


DEFS = {name: _json_schema(schema) for name, schema in DISCOVERY["schemas"].items()}
DEFS["ErrorBody"] = {"type": "object", "additionalProperties": False, "required": ["error"], "properties": {
    "error": {"allOf": [{"$ref": "#/$defs/Status"}], "required": ["code", "message", "status"],
              "properties": {"status": {"enum": RPC_CODES}, "code": {}, "message": {}, "details": {
                  "type": "array", "items": {"type": "object", "required": ["@type"]}}},
              "unevaluatedProperties": False}}}
DEFS["Status"]["additionalProperties"] = True  # the wrapper above adds ``status``; it closes the object itself


def _validate(schema_name: str, body: dict, where: str) -> None:
    validator = jsonschema.Draft202012Validator({"$defs": DEFS, "$ref": f"#/$defs/{schema_name}"})
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, f"{where}: {schema_name}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5])


def _methods(resources: dict, prefix: str = "") -> dict[str, dict]:
    found = {}
    for name, resource in resources.items():
        for method_name, method in resource.get("methods", {}).items():
            found[f"{prefix}{name}.{method_name}"] = method
        found.update(_methods(resource.get("resources", {}), f"{prefix}{name}."))
    return found


METHODS = _methods(DISCOVERY["resources"])


def method_of(http_method: str, path: str) -> tuple[str, dict, dict[str, str]]:
    """The discovery method serving ``path`` (``/v4/users/me/...``) and its path parameters."""
    for name, method in METHODS.items():
        template = "/" + method["flatPath"]
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/:]+)", re.escape(template).replace(r"\{", "{").replace(r"\}", "}"))
        match = re.fullmatch(pattern, path)
        if method["httpMethod"] == http_method and match:
            return name, method, match.groupdict()
    raise AssertionError(f"{http_method} {path}: no method of health.v4.json has this path")


def _camel(data_type: str) -> str:
    head, *rest = re.split(r"[-_]", data_type)  # kebab-case ids and snake_case filter fields
    return head + "".join(part.capitalize() for part in rest)


def check_request(http_method: str, path: str, sent: dict) -> str:
    name, method, path_params = method_of(http_method, path)
    query_params = {p for p, spec in method.get("parameters", {}).items() if spec["location"] == "query"}
    if http_method == "GET":
        assert set(sent) <= query_params, f"{name}: parameters {sorted(set(sent) - query_params)} are not documented"
        for expression in sent.get("filter", []):
            for term in expression.split(" AND "):
                match = FILTER_FIELD.match(term)
                assert match, f"{name}: filter term {term!r} is not a documented filter field"
                assert match.group(1) == path_params["dataTypesId"].replace("-", "_"), f"{name}: {term!r}"
                # The field must exist on the type's record (sampleTime, interval or date), and end times are
                # documented for sleep only ("Session end time (**Sleep specific**)").
                record = DISCOVERY["schemas"][DISCOVERY["schemas"]["DataPoint"]["properties"][
                    _camel(path_params["dataTypesId"])]["$ref"]]["properties"]
                head = _camel(match.group(2).split(".")[0])
                assert head in record, f"{name}: {term!r}: the {path_params['dataTypesId']} record has no {head}"
                assert "end_time" not in match.group(2) or path_params["dataTypesId"] == "sleep", f"{name}: {term!r}"
        for family in sent.get("dataSourceFamily", []):
            assert re.fullmatch(r"users/me/dataSourceFamilies/(all-sources|google-wearables|google-sources|"
                                r"self-sources)", family), family
    else:
        _validate(method["request"]["$ref"], sent, f"request body of {name}")
    if "dataTypesId" in path_params:  # a type the method's answer can carry
        answer = "DailyRollupDataPoint" if name.endswith("dailyRollUp") else "DataPoint"
        assert _camel(path_params["dataTypesId"]) in DISCOVERY["schemas"][answer]["properties"], f"{name}: {path}"
    return name


def test_every_request_and_response_of_the_fake_matches_health_v4_json(
    fake, configured, gh_instance, warehouse, study_files
):
    # Every data type the connector reads, with two pages where the fake pages.
    enrol(ALICE, fake, configured, warehouse, study_files, "alice")
    start = day_start_utc(ALICE)
    fake.fake.page_size = 50
    fake.fake.add_samples("alice", start + dt.timedelta(hours=9), 600)
    fake.fake.respiratory_rates["alice"] = {DAY: 14.6}
    fake.fake.add_sleep("alice", start - dt.timedelta(hours=1), [("AWAKE", 3), ("LIGHT", 200), ("DEEP", 50), ("REM", 40)])
    fake.fake.add_sleep("alice", start + dt.timedelta(hours=13), [("ASLEEP", 25), ("RESTLESS", 5)], sleep_type="CLASSIC",
                        nap=True)
    fake.fake.add_steps("alice", start + dt.timedelta(hours=9), 20, 35)
    fake.fake.add_steps("alice", start + dt.timedelta(hours=10), 5, None)
    fake.fake.add_oxygen_saturation("alice", local_time(ALICE, DAY, 3), 60)
    fake.fake.add_active_zone_minutes("alice", local_time(ALICE, DAY, 18), 60, "CARDIO")
    fake.fake.set_daily_activity("alice", DAY, steps=8432, millimetres=6_120_500, kcal=2143.6,
                                 minutes={"SEDENTARY": 700, "VERY_ACTIVE": 15}, day_start=start)
    fake.fake.paired_devices["alice"] = [
        {"name": "users/me/pairedDevices/2718", "deviceType": "TRACKER", "deviceVersion": "Charge 6",
         "lastSyncTime": "2026-11-02T21:14:05Z", "batteryLevel": 64, "batteryStatus": "Medium",
         "features": ["HEART_RATE"]}]
    _, metadata = pull_days(gh_instance, study_files, warehouse, key(ALICE), key(ALICE, DAY + dt.timedelta(days=1)))
    assert metadata["days_failed"] == {}

    # Every error answer the fake has, met by the client.
    access = fake.fake._issue("carol", refresh=False)["access_token"]
    client, _ = fake_client(fake, access, max_attempts=2)
    for status in (429, 500, 503, 504):
        fake.fake.fail_next = [(status, 1)] * 2
        with pytest.raises(ApiError, match="gave up after 2 attempts"):
            client.list_pages("heart-rate", FILTER)
    with pytest.raises(ApiError, match="INVALID_ARGUMENT"):
        client.daily_rollup_pages("activity-level", DAY)  # list / reconcile only
    fake.fake.refuse_types = {"oxygen-saturation": 403}
    with pytest.raises(ApiError, match="PERMISSION_DENIED"):
        client.list_pages("oxygen-saturation", 'oxygen_saturation.sample_time.physical_time >= "2026-11-02T00:00:00Z"')
    fake.fake.refuse_types = {}
    for account_error, expected in (("not_linked", "ACCOUNT_NOT_LINKED"), ("legacy", "UberMint")):
        fake.fake.account_errors = {"carol": account_error}
        with pytest.raises(ApiError, match=expected):
            client.identity()
    fake.fake.account_errors = {}
    bad_token, _ = fake_client(fake, "ya29.unknown")
    with pytest.raises(ConsentLostError, match="INVALID_AUTHENTICATOR"):
        bad_token.paired_devices()

    methods_seen, statuses = set(), set()
    for http_method, path, status, body in fake.fake.responses:
        name, method, _ = method_of(http_method, path)
        methods_seen.add(name)
        statuses.add(status)
        _validate(method["response"]["$ref"] if status == 200 else "ErrorBody", body, f"{http_method} {path} {status}")
    requests_checked = {check_request(m, p, sent) for m, p, sent in fake.fake.api_requests()}

    assert methods_seen == requests_checked == {
        "users.dataTypes.dataPoints.list", "users.dataTypes.dataPoints.dailyRollUp", "users.getIdentity",
        "users.pairedDevices.list"}
    assert statuses == {200, 400, 401, 403, 429, 500, 503, 504}
    listed = {p.split("/")[5] for m, p, _ in fake.fake.api_requests() if p.endswith("/dataPoints")}
    assert listed == {"heart-rate", "daily-respiratory-rate", "sleep", "steps", "oxygen-saturation",
                      "active-zone-minutes", "activity-level"}
    rolled = {p.split("/")[5] for m, p, _ in fake.fake.api_requests() if p.endswith(":dailyRollUp")}
    assert rolled == {"steps", "distance", "total-calories", "activity-level"}
    paged = [b for m, p, s, b in fake.fake.responses if s == 200 and b.get("nextPageToken")]
    assert {p.split("/")[5] for m, p, s, b in fake.fake.responses if s == 200 and b.get("nextPageToken")} >= {
        "heart-rate", "oxygen-saturation", "active-zone-minutes"} and paged


SUBSCRIBABLE = re.findall(r'"([a-z-]+)"', DISCOVERY["schemas"]["Subscription"]["properties"]["dataTypes"][
    "description"].split("is one of", 1)[1])  # altitude, distance, floors, sleep, steps, weight


def check_subscription_request(http_method: str, path: str, sent: dict, status: int) -> str:
    """A ``projects.subscribers.subscriptions`` request: its query parameters the method's, its body (create,
    patch) the method's request schema, the list's filter one of the documented ``user`` filters, and data types
    outside ``Subscription.dataTypes``' list only in a request the fake refused (the client's wider first try)."""
    name, method, _ = method_of(http_method, path)
    body = sent.get("body")
    query = {k: v for k, v in sent.items() if k != "body"}
    query_params = {p for p, spec in method.get("parameters", {}).items() if spec["location"] == "query"}
    assert set(query) <= query_params, f"{name}: parameters {sorted(set(query) - query_params)} are not documented"
    for expression in query.get("filter", []):
        assert re.fullmatch(r'user = "users/[^"]+"', expression), f"{name}: filter {expression!r}"
    if "request" in method:
        _validate(method["request"]["$ref"], body, f"request body of {name}")
        for data_type in body.get("dataTypes", []):  # the Subscription.dataTypes form
            assert re.fullmatch(r"users/[^/]+/dataTypes/[a-z-]+", data_type), f"{name}: {data_type}"
            assert data_type.rsplit("/", 1)[1] in SUBSCRIBABLE or status == 400, f"{name}: {data_type} accepted"
    else:
        assert body is None, f"{name} has no request body"
    return name


def test_every_subscription_request_and_response_matches_health_v4_json(fake, subscriber, warehouse, study_files):
    from fitbit_assets.defs.google_health.assets import subscriptions_client
    from fitbit_assets.google_health.subscriptions import NOTIFIED_TYPES, SubscriptionsClient, wanted_data_types

    client = subscriptions_client(subscriber)
    fake.fake.page_size = 2  # the list pages
    users = [str(1000 + i) for i in range(5)]
    assert SUBSCRIBABLE == ["altitude", "distance", "floors", "sleep", "steps", "weight"]
    for user in users:  # the wider set refused (INVALID_ARGUMENT), then the listed types created
        assert client.reconcile(user, wanted_data_types(user, True, "active", {"sleep"}))[0].startswith("created (")
    assert client.reconcile(users[0], wanted_data_types(users[0], True, "active", ()))[0].startswith("renewed (")
    assert client.reconcile(users[1], [])[0] == "deleted"
    assert len(fake.fake.subscriptions) == 4
    with pytest.raises(ApiError, match="409 ALREADY_EXISTS"):
        client.create(users[2], [f"users/{users[2]}/dataTypes/steps"])
    with pytest.raises(ApiError, match="404 NOT_FOUND"):
        client.delete(f"{SUBSCRIBER}/subscriptions/gone")
    with pytest.raises(ApiError, match="403 PERMISSION_DENIED"):
        SubscriptionsClient(fake.url, SUBSCRIBER, lambda: fake.fake._issue("carol", False)["access_token"]).of_user("1")
    with pytest.raises(ApiError, match="401 UNAUTHENTICATED"):
        SubscriptionsClient(fake.url, SUBSCRIBER, lambda: "ya29.unknown").of_user("1")
    fake.fake.add_subscriber(SUBSCRIBER, NOTIFIED_TYPES, policy="AUTOMATIC")
    with pytest.raises(ApiError, match="400 FAILED_PRECONDITION"):
        client.create(users[2], [f"users/{users[2]}/dataTypes/steps"])
    fake.fake.add_subscriber(SUBSCRIBER, NOTIFIED_TYPES)
    all_pages = SubscriptionsClient(fake.url, SUBSCRIBER, client.access_token)
    pages = all_pages._send("GET", f"{SUBSCRIBER}/subscriptions", params={"pageSize": "2"})
    assert pages["nextPageToken"] and len(pages["subscriptions"]) == 2

    methods_seen, statuses = set(), set()
    for http_method, path, status, body in fake.fake.responses:
        name, method, _ = method_of(http_method, path)
        methods_seen.add(name)
        statuses.add(status)
        _validate(method["response"]["$ref"] if status == 200 else "ErrorBody", body, f"{http_method} {path} {status}")
    assert len(fake.fake.api_requests()) == len(fake.fake.responses)  # one answer per request, in order
    requests_checked = {check_subscription_request(m, p, sent, answer[2])
                        for (m, p, sent), answer in zip(fake.fake.api_requests(), fake.fake.responses)}
    assert methods_seen == requests_checked == {
        "projects.subscribers.subscriptions.create", "projects.subscribers.subscriptions.list",
        "projects.subscribers.subscriptions.patch", "projects.subscribers.subscriptions.delete"}
    assert statuses == {200, 400, 401, 403, 404, 409}


def test_the_schema_check_catches_a_field_google_does_not_describe():
    point = {"heartRate": {"beatsPerMinute": "61", "sampleTime": {"physicalTime": "2026-11-02T09:00:00Z",
                                                                  "utcOffset": "3600s"}}}
    _validate("ListDataPointsResponse", {"dataPoints": [point], "nextPageToken": ""}, "good")
    with pytest.raises(AssertionError, match="beatPerMinute"):
        _validate("ListDataPointsResponse", {"dataPoints": [{"heartRate": {"beatPerMinute": "61"}}]}, "typo")
    with pytest.raises(AssertionError, match="WARP"):
        _validate("ListDataPointsResponse", {"dataPoints": [{"activeZoneMinutes": {"heartRateZone": "WARP"}}]}, "enum")
    with pytest.raises(AssertionError, match="does not match"):
        _validate("ListDataPointsResponse", {"dataPoints": [{"steps": {"count": "12 steps"}}]}, "int64")
    with pytest.raises(AssertionError, match="not documented"):
        check_request("GET", "/v4/users/me/dataTypes/steps/dataPoints", {"page_size": ["5"]})
    with pytest.raises(AssertionError, match="the steps record has no sampleTime"):
        check_request("GET", "/v4/users/me/dataTypes/steps/dataPoints",
                      {"filter": ['steps.sample_time.physical_time >= "2026-11-02T00:00:00Z"']})
    with pytest.raises(AssertionError, match="interval.end_time"):  # end times: sleep only
        check_request("GET", "/v4/users/me/dataTypes/steps/dataPoints",
                      {"filter": ['steps.interval.end_time >= "2026-11-02T00:00:00Z"']})


def test_the_description_is_the_pinned_wheels():
    """The document read is the one of the pinned wheel and revision, so a dependency bump cannot move it silently."""
    import tomllib
    from importlib.metadata import version
    from pathlib import Path

    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]
    assert PINNED in [dep.split("#")[0].strip() for deps in project["optional-dependencies"].values() for dep in deps]
    assert f"google-api-python-client=={version('google-api-python-client')}" == PINNED
    assert DISCOVERY["revision"] == REVISION and DISCOVERY["version"] == "v4"


def test_notifications_and_endpoint_verification_are_what_health_v4_json_describes(fake):
    """The fake's deliveries follow the document's words: the signature header EndpointAuthorization names (ECDSA
    NIST P-256 of the JSON payload), the subscriber's secret as the whole ``Authorization`` value, and the two
    verification POSTs of ``projects.subscribers.create``."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    described = DISCOVERY["schemas"]["EndpointAuthorization"]
    when = dt.datetime(2026, 11, 2, 9, tzinfo=dt.timezone.utc)
    body, headers = fake.fake.notification("alice", "steps", when, when, authorization="Bearer secret")
    [header] = [h for h in headers if h not in ("Content-Type", "Authorization")]
    assert f"delivered in the `{header}` HTTP header" in described["description"]
    assert "ECDSA (NIST P256) signature of the JSON payload" in described["description"]
    key = serialization.load_pem_public_key(fake.fake.webhook_public_key_pem().encode())
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    key.verify(__import__("base64").b64decode(headers[header]), body, ec.ECDSA(hashes.SHA256()))
    assert headers["Authorization"] == "Bearer secret"
    assert "will be sent in the `Authorization` header for all subsequent webhook notifications" in described[
        "properties"]["secret"]["description"]
    create = METHODS["projects.subscribers.create"]["description"]
    (with_secret, headers_with), (without, headers_without) = FakeGoogleHealth.verification_requests("Bearer secret")
    assert '**Body:** `{"type": "verification"}`' in create and json.loads(with_secret) == json.loads(without) == {
        "type": "verification"}
    assert headers_with == {"Content-Type": "application/json", "Authorization": "Bearer secret"}
    assert headers_without == {"Content-Type": "application/json"} and "is OMITTED" in create
