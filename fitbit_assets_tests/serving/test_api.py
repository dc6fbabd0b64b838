"""Read flow: the query layer's resolution logic (pure), then the HTTP API against the real embedded PostgreSQL
with a synthetic cohort loaded through the asset graph (api_fixtures)."""

import datetime as dt

import psycopg2
import psycopg2.errors
import pytest
from fastapi.testclient import TestClient

from fitbit_assets.defs.alerts.channel import AlertChannelResource
from fitbit_assets.serving import query as q
from fitbit_assets.serving.api import ApiConfig, create_app
from fitbit_assets_tests.support.api_fixtures import LOOPBACK_URL
from fitbit_assets.devtools.queries import fetch_all

UTC = dt.timezone.utc


def t(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


# ------------------------------------------------------------------------------------------------- pure


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        (dt.timedelta(minutes=20), ["raw", "1m", "1h", "1d"]),
        (dt.timedelta(hours=30), ["raw", "1m", "1h", "1d"]),
        (dt.timedelta(hours=34), ["1h", "1d"]),  # 2040 minutes > 2000: raw and 1m are never tried
        (dt.timedelta(days=7), ["1h", "1d"]),
        (dt.timedelta(days=83), ["1h", "1d"]),
        (dt.timedelta(days=84), ["1d"]),
        (dt.timedelta(days=1999), ["1d"]),
    ],
)
def test_auto_resolution_candidates(span, expected):
    start = t("2025-06-10T00:00:00")
    assert q.candidate_resolutions(start, start + span, 2000) == expected


def test_bucket_count_includes_the_partial_first_and_last_bucket():
    assert q.bucket_count(t("2025-06-10T00:30:00"), t("2025-06-10T02:00:00"), "1h") == 2
    assert q.bucket_count(t("2025-06-10T00:30:00"), t("2025-06-10T02:00:01"), "1h") == 3
    assert q.bucket_count(t("2025-06-10T00:00:00"), t("2025-06-11T00:00:00"), "1m") == 1440


def test_resolution_errors():
    start = t("2025-06-10T00:00:00")
    with pytest.raises(q.QueryError, match="after start"):
        q.candidate_resolutions(start, start, 2000)
    with pytest.raises(q.QueryError, match="1d buckets exceed max_points=2000"):
        q.candidate_resolutions(start, start + dt.timedelta(days=2001), 2000)
    with pytest.raises(q.QueryError, match="1m buckets exceed"):
        q.check_explicit_resolution(start, start + dt.timedelta(days=2), "1m", 2000)
    with pytest.raises(q.QueryError, match="not available"):
        q.check_explicit_resolution(start, start + dt.timedelta(days=2), "5m", 2000)
    with pytest.raises(q.QueryError, match="unknown metric"):
        q.series_tables("steps")


def test_naive_times_are_utc():
    assert q.as_utc(dt.datetime(2025, 1, 1, 12)) == t("2025-01-01T12:00:00")
    berlin = dt.datetime(2025, 1, 1, 13, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert q.as_utc(berlin) == t("2025-01-01T12:00:00")


# ------------------------------------------------------------------------------------------ integration


@pytest.fixture(scope="module", params=["postgres", "timescaledb"])
def cohort(request, cohort):
    """Every integration test below on both backends: the conftest's cohort on plain PostgreSQL, then the same cohort
    on TimescaleDB (series from the continuous aggregates), each read through the API's reader role."""
    return cohort if request.param == "postgres" else request.getfixturevalue("timescale_cohort")


@pytest.fixture(scope="module")
def app(cohort):
    app = create_app(ApiConfig(dsn=cohort.dsn, auth="off", alert_channel=AlertChannelResource))
    yield app
    if app.state.db is not None:
        app.state.db.close()


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app, base_url=LOOPBACK_URL) as client:
        yield client


@pytest.mark.integration
def test_participants(client):
    response = client.get("/api/participants")
    assert response.status_code == 200
    by_id = {p["participant_id"]: p for p in response.json()}
    assert set(by_id) == {"api-typical", "api-lowwear", "api-landing", "api-new"}
    assert by_id["api-typical"]["last_local_date"] == "2025-06-11"
    assert by_id["api-new"]["last_local_date"] is None
    assert client.get("/api/participants/api-lowwear").json()["timezone"] == "Europe/Berlin"


@pytest.mark.integration
def test_auto_resolution_end_to_end(client, cohort):
    base = "/api/participants/api-typical/series"
    day = client.get(base, params={"start": "2025-06-10T00:00:00Z", "end": "2025-06-11T00:00:00Z"}).json()
    assert day["resolution"] == "1m" and 1000 < day["points"] <= 1440
    week = client.get(base, params={"start": "2025-06-06T00:00:00Z", "end": "2025-06-13T00:00:00Z"}).json()
    assert week["resolution"] == "1h" and week["points"] <= 7 * 24
    years = client.get(base, params={"start": "2021-01-01T00:00:00Z", "end": "2025-12-31T00:00:00Z"}).json()
    assert years["resolution"] == "1d" and years["points"] in (3, 4)
    # The hour level holds every sample of the raw table: no point lost or double counted.
    (raw_count,) = fetch_all(cohort.dsn, "SELECT count(*) FROM heart_rate WHERE participant_id = 'api-typical'")[0]
    assert sum(week["samples"]) == raw_count == sum(years["samples"])
    # Default window: the 7 days up to the participant's last data.
    default = client.get(base).json()
    assert default["resolution"] == "1h" and default["end"].startswith("2025-06-12T04:")


@pytest.mark.integration
def test_short_ranges_return_raw_samples_and_fall_back_when_too_many(client, cohort):
    (first_ts,) = fetch_all(
        cohort.dsn,
        "SELECT min(ts) FROM heart_rate WHERE participant_id = 'api-typical' AND ts >= '2025-06-10 16:00+00'",
    )[0]
    start, end = first_ts, first_ts + dt.timedelta(minutes=20)
    params = {"start": start.isoformat(), "end": end.isoformat()}
    raw = client.get("/api/participants/api-typical/series", params=params).json()
    expected = fetch_all(
        cohort.dsn,
        "SELECT ts, bpm FROM heart_rate WHERE participant_id = 'api-typical' AND ts >= %s AND ts < %s ORDER BY ts",
        (start, end),
    )
    assert raw["resolution"] == "raw" and raw["points"] == len(expected) > 20
    assert raw["t"] == [ts.timestamp() for ts, _ in expected]
    assert raw["value"] == [float(bpm) for _, bpm in expected]
    # 20 minutes from an unaligned start overlap 21 one-minute buckets.
    fewer = client.get("/api/participants/api-typical/series", params={**params, "max_points": 25}).json()
    assert fewer["resolution"] == "1m" and fewer["points"] <= 21
    assert fewer["samples"][0] + sum(fewer["samples"][1:]) >= len(expected)
    explicit = client.get("/api/participants/api-typical/series", params={**params, "max_points": 25, "resolution": "raw"})
    assert explicit.status_code == 422 and "coarser" in explicit.json()["detail"]


@pytest.mark.integration
def test_max_points_is_capped_by_the_server(cohort):
    app = create_app(ApiConfig(dsn=cohort.dsn, auth="off", max_points=100))
    with TestClient(app, base_url=LOOPBACK_URL) as client:
        body = client.get(
            "/api/participants/api-typical/series",
            params={"start": "2025-06-10T00:00:00Z", "end": "2025-06-11T00:00:00Z", "max_points": 5000},
        ).json()
    assert body["max_points"] == 100 and body["resolution"] == "1h" and body["points"] <= 100


@pytest.mark.integration
def test_imputed_minutes_are_flagged(client, cohort):
    rows = fetch_all(
        cohort.dsn,
        "SELECT bucket, mean_bpm FROM heart_rate_1m_imputed WHERE participant_id = 'api-landing' AND imputed "
        "ORDER BY bucket",
    )
    assert len(rows) == 3, "the landing day's 3-minute gap is imputed"
    bucket = rows[0][0]
    start = bucket.replace(hour=0, minute=0)
    params = {"start": start.isoformat(), "end": (start + dt.timedelta(days=1)).isoformat(), "imputed": "true"}
    body = client.get("/api/participants/api-landing/series", params=params).json()
    assert body["resolution"] == "1m"
    flagged = {ts for ts, flag in zip(body["t"], body["imputed"]) if flag}
    expected = {b.timestamp() for b, _ in rows if start <= b < start + dt.timedelta(days=1)}
    assert flagged == expected
    index = body["t"].index(bucket.timestamp())
    assert body["value"][index] == pytest.approx(rows[0][1]) and body["samples"][index] == 0
    plain = client.get("/api/participants/api-landing/series", params={**params, "imputed": "false"}).json()
    assert plain["imputed"] is None and plain["points"] == body["points"] - len(expected)
    hourly = client.get("/api/participants/api-landing/series", params={**params, "resolution": "1h"}).json()
    assert sum(hourly["imputed_minutes"]) == len(expected)


@pytest.mark.integration
def test_adherence_by_participant_and_by_range(client, cohort):
    one = client.get("/api/participants/api-lowwear/adherence").json()
    assert [d["local_date"] for d in one["days"]] == ["2025-06-09", "2025-06-10", "2025-06-11"]
    stored = fetch_all(
        cohort.dsn, "SELECT wear_minutes FROM daily_adherence WHERE participant_id = 'api-lowwear' ORDER BY local_date"
    )
    assert [d["wear_minutes"] for d in one["days"]] == [w for (w,) in stored]
    ranged = client.get("/api/adherence", params={"start": "2025-06-10", "end": "2025-06-10"}).json()
    assert sorted(d["participant_id"] for d in ranged["days"]) == ["api-lowwear", "api-typical"]
    assert client.get("/api/participants/api-new/adherence").json()["days"] == []


@pytest.mark.integration
def test_nightly_sleep_by_participant(client, cohort):
    landing = client.get("/api/participants/api-landing/sleep").json()
    # The hand-built Fitabase-style night: main sleep 22:40 -> 06:10 London (BST) plus a 45-minute nap.
    assert landing["nights"] == [{
        "local_date": "2025-06-11", "minutes_asleep": 470, "time_in_bed": 495, "sleep_records": 2, "minutes_awake": 25,
        "main_sleep_start": "2025-06-10T21:40:00Z", "main_sleep_end": "2025-06-11T05:10:00Z", "main_efficiency": 96,
    }]
    low = client.get("/api/participants/api-lowwear/sleep").json()
    assert [n["local_date"] for n in low["nights"]] == ["2025-06-09", "2025-06-10", "2025-06-11"]
    stored = fetch_all(cohort.dsn, "SELECT minutes_asleep FROM sleep_daily WHERE participant_id = 'api-lowwear' ORDER BY local_date")
    assert [n["minutes_asleep"] for n in low["nights"]] == [m for (m,) in stored]
    one = client.get("/api/participants/api-typical/sleep", params={"start": "2025-06-10", "end": "2025-06-10"}).json()
    assert [n["local_date"] for n in one["nights"]] == ["2025-06-10"] and one["nights"][0]["minutes_asleep"] > 300
    assert client.get("/api/participants/api-new/sleep").json()["nights"] == []


@pytest.mark.integration
def test_cohort_overview_says_what_since_when_and_what_to_do_most_urgent_first(client):
    body = client.get("/api/cohort", params={"as_of": "2025-06-12T12:00:00Z"}).json()
    rows = body["participants"]
    by_id = {r["participant_id"]: r for r in rows}
    new = by_id["api-new"]  # registered, nothing loaded: no heart rate, no sync since its enrolment
    assert (new["status"], new["status_words"], new["since"]) == ("not_syncing", "not syncing", "2025-06-11")
    assert "nothing received since enrolment" in new["evidence"] and "paired" in new["action"]
    typical = by_id["api-typical"]
    assert (typical["status"], typical["since"], typical["action"]) == ("ok", None, "nothing to do")
    assert "EDT" in typical["evidence"]  # the last sync in New York time, labelled
    low = by_id["api-lowwear"]  # worn 40 %, 58 %, 42 % of 06-09 .. 06-11: the last two pass the valid-day rule
    assert (low["status"], low["status_words"], low["since"]) == ("partial_wear", "partial-day wear", "2025-06-09")
    assert "on 3 of the last 3 days" in low["evidence"] and "at night" in low["action"]
    landing = by_id["api-landing"]  # one hand-made day worn 06:00-22:00 but 2 h: valid, 58 % of the day
    assert (landing["status"], landing["since"]) == ("partial_wear", "2025-06-11")
    ranks = ["reconsent_needed", "not_syncing", "not_wearing", "charging_pattern", "partial_wear", "ok"]
    assert [ranks.index(r["status"]) for r in rows] == sorted(ranks.index(r["status"]) for r in rows)
    assert rows[-1]["participant_id"] == "api-typical"
    assert typical["last_data"].startswith("2025-06-12T0")  # New York's 2025-06-11 ends 04:00 UTC
    for synthetic in (typical, low):  # a device uploads only at a sync
        assert synthetic["last_data"] <= synthetic["last_sync"], synthetic


@pytest.mark.integration
@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/participants/nobody", 404),
        ("/api/participants/nobody/series", 404),
        ("/api/participants/nobody/adherence", 404),
        ("/api/participants/nobody/sleep", 404),
        ("/api/participants/api-typical/sleep?start=2025-06-10&end=2025-06-01", 422),
        ("/api/participants/bad%20id/series", 422),
        ("/api/participants/api-typical/series?start=2025-06-10T00:00:00Z&end=2025-06-09T00:00:00Z", 422),
        ("/api/participants/api-typical/series?start=2015-01-01T00:00:00Z&end=2025-06-09T00:00:00Z", 422),
        ("/api/participants/api-typical/series?start=1500-01-01T00:00:00Z", 422),
        ("/api/participants/api-typical/series?start=2025-06-01T00:00:00Z&end=2025-06-09T00:00:00Z&resolution=1m", 422),
        ("/api/participants/api-typical/series?metric=steps", 422),
        ("/api/participants/api-typical/series?start=yesterday", 422),
        ("/api/participants/api-typical/adherence?start=2025-06-10&end=2025-06-01", 422),
        ("/api/adherence?start=2000-01-01&end=2025-06-01", 422),
    ],
)
def test_input_validation(client, url, status):
    response = client.get(url)
    assert response.status_code == status, response.text


@pytest.mark.integration
def test_parameters_are_bound_not_spliced(client, cohort):
    response = client.get("/api/participants/x'%3B--/series")
    assert response.status_code == 422
    response = client.get("/api/participants/api-typical/series", params={"start": "2025-06-10T00:00:00Z'; DROP TABLE x"})
    assert response.status_code == 422
    assert fetch_all(cohort.dsn, "SELECT count(*) FROM participant")[0][0] == 4


@pytest.mark.integration
def test_the_api_connection_cannot_write(app, client, cohort):
    assert client.get("/api/health").json() == {"status": "ok"}
    with app.state.db.connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT session_user, current_user, current_setting('default_transaction_read_only')")
        assert cur.fetchone() == ("fitbit_api_reader", "fitbit_api_reader", "on")
        # Logged in as the reader itself: no SET ROLE to undo.
        cur.execute("RESET ROLE")
        cur.execute("SELECT current_user")
        assert cur.fetchone() == ("fitbit_api_reader",)
        with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction):
            cur.execute("DELETE FROM heart_rate")
        # Even with read-only transactions switched off, the reader role has SELECT only.
        cur.execute("SET default_transaction_read_only = off")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("DELETE FROM heart_rate")
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute("INSERT INTO participant VALUES ('evil', 'UTC', '2025-01-01', 'synthetic')")
        cur.execute("SET default_transaction_read_only = on")
    assert fetch_all(cohort.dsn, "SELECT count(*) FROM heart_rate")[0][0] > 10_000
