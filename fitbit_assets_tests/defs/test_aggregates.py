"""heart_rate_1m/1h/1d through Dagster on plain PostgreSQL: equal to a recomputation from raw rows."""

import datetime as dt

import dagster as dg
import psycopg2

from fitbit_assets.defs.adherence.assets import AdherenceResource, daily_adherence
from fitbit_assets.defs.rollups.checks import heart_rate_aggregates_match_raw
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.lib.partitions import PARTICIPANTS_TAG, ParticipantDayKey, range_tags
from fitbit_assets.warehouse.rollups import aggregate_mismatches, aggregate_mismatches_of_windows, utc_day_window
from fitbit_assets_tests.support.adherence_fixtures import FULL_GRAPH, materialize_days
from fitbit_assets_tests.support.runs import day_evaluations, failing_participant_days
from fitbit_assets_tests.support.study import SYNTHETIC

FIRST = dt.date(2025, 11, 1)  # New York: 2025-11-02 is a 25-hour day

RAW = """
SELECT participant_id, date_bin(%s::interval, ts, TIMESTAMPTZ '2000-01-01+00') AS bucket, count(*), sum(bpm),
       min(bpm), max(bpm), avg(bpm)::double precision
FROM heart_rate GROUP BY 1, 2 ORDER BY 1, 2
"""


def test_aggregates_equal_raw_recomputation(instance, study_files, roster, warehouse, query):
    tags = range_tags(SYNTHETIC.participant_id, FIRST, FIRST + dt.timedelta(days=2))
    result = materialize_days(instance, study_files, warehouse, tags=tags)
    assert result.success
    for level, width in (("heart_rate_1m", "1 minute"), ("heart_rate_1h", "1 hour"), ("heart_rate_1d", "1 day")):
        stored = query(f"SELECT participant_id, bucket, samples, bpm_sum, min_bpm, max_bpm, mean_bpm FROM {level} ORDER BY 1, 2")
        raw = query(RAW, (width,))
        assert stored and len(stored) == len(raw), level
        for s, r in zip(stored, raw):  # counts, sums, min, max exact; means (avg() here) within 1e-9
            assert s[:6] == r[:6] and abs(s[6] - r[6]) < 1e-9, (level, s, r)
    [(total,)] = query("SELECT count(*) FROM heart_rate")
    assert query("SELECT sum(samples)::bigint FROM heart_rate_1d") == [(total,)]
    passed = [e.passed for e in result.get_asset_check_evaluations() if e.check_name == "heart_rate_aggregates_match_raw"]
    assert passed and all(passed)


def test_check_fails_when_an_aggregate_drifts(instance, study_files, roster, warehouse, query):
    key = ParticipantDayKey(FIRST, SYNTHETIC.participant_id)
    assert materialize_days(instance, study_files, warehouse, participant_day=key).success
    conn = psycopg2.connect(warehouse.dsn)
    with conn, conn.cursor() as cur:
        cur.execute("UPDATE heart_rate_1h SET samples = samples + 1 WHERE bucket = (SELECT min(bucket) FROM heart_rate_1h)")
    conn.close()
    # Re-run only daily_adherence (does not touch the rollups) plus the aggregates check.
    result = dg.materialize(
        FULL_GRAPH,
        instance=instance,
        partition_key=FIRST.isoformat(),
        tags={PARTICIPANTS_TAG: SYNTHETIC.participant_id},
        resources={"study_files": study_files, "warehouse": warehouse, "adherence": AdherenceResource()},
        raise_on_error=False,
        selection=dg.AssetSelection.assets(daily_adherence) | dg.AssetSelection.checks(heart_rate_aggregates_match_raw),
    )
    [evaluation] = day_evaluations(result, "heart_rate_aggregates_match_raw")
    assert not evaluation.passed
    [failing] = failing_participant_days(evaluation)
    assert (failing["participant_id"], failing["local_date"]) == (SYNTHETIC.participant_id, FIRST.isoformat())
    [mismatch] = failing["mismatches"]
    assert mismatch["level"] == "heart_rate_1h"


def test_a_run_s_windows_compared_in_one_statement_each_get_their_own_mismatches(instance, study_files, roster, warehouse):
    days = [FIRST + dt.timedelta(days=i) for i in range(3)]
    assert materialize_days(instance, study_files, warehouse, tags=range_tags(SYNTHETIC.participant_id, days[0], days[-1])).success
    windows = [(SYNTHETIC.participant_id, utc_day_window([LocalDay(d, SYNTHETIC.timezone)]))
               for d in days]
    last_start = windows[-1][1].end_utc - dt.timedelta(days=1)  # a UTC day only the last window covers
    conn = psycopg2.connect(warehouse.dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("UPDATE heart_rate_1m SET min_bpm = min_bpm - 1 WHERE bucket = "
                        "(SELECT min(bucket) FROM heart_rate_1m WHERE bucket >= %s)", (last_start,))
            cur.execute("DELETE FROM heart_rate_1d WHERE bucket = %s", (last_start,))
        together = aggregate_mismatches_of_windows(conn, windows)
        alone = [aggregate_mismatches(conn, participant_id, window) for participant_id, window in windows]
    finally:
        conn.close()
    assert together == alone
    assert [mismatches for _, mismatches in together[:2]] == [[], []] and all(compared > 1440 for compared, _ in together)
    assert sorted((m["level"], m["stored"] if m["level"] == "heart_rate_1d" else None) for m in together[2][1]) == [
        ("heart_rate_1d", False), ("heart_rate_1m", None)]
