"""Adherence math and imputation (pure), then the same days end to end through Dagster on real PostgreSQL."""

import datetime as dt

import pytest

from fitbit_assets.defs.adherence.assets import AdherenceResource
from fitbit_assets.domain.adherence import AdherenceParams, day_adherence, find_gaps, minute_arrays
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.lib.partitions import ParticipantDayKey, range_tags
from fitbit_assets_tests.support.adherence_fixtures import (
    all_worn,
    bpm_at,
    drop_day,
    materialize_days,
    worn_except,
    worn_only,
)
from fitbit_assets_tests.support.runs import failing_participant_days
from fitbit_assets_tests.support.study import LANDING


def series(day_minutes, worn, samples=4):
    counts = [samples if worn(m) else 0 for m in range(day_minutes)]
    means = [float(bpm_at(m)) if worn(m) else None for m in range(day_minutes)]
    return counts, means


# ------------------------------------------------------------------------------------------------ pure


def test_all_worn_day():
    result, imputed = day_adherence(*series(1440, all_worn))
    assert (result.wear_minutes, result.day_minutes, result.adherence_pct) == (1440, 1440, 100.0)
    assert (result.gap_count, result.longest_gap_minutes, result.imputed_minutes) == (0, 0, 0)
    assert result.valid_day and result.samples == 4 * 1440
    assert len(imputed) == 1440 and not any(v.imputed for v in imputed)


def test_none_worn_day():
    result, imputed = day_adherence(*series(1440, lambda m: False))
    assert (result.wear_minutes, result.adherence_pct, result.valid_day) == (0, 0.0, False)
    assert (result.gap_count, result.longest_gap_minutes, result.imputed_minutes, result.samples) == (1, 1440, 0, 0)
    assert imputed == []


def test_three_minute_gap_is_imputed_linearly_and_flagged():
    result, values = day_adherence(*series(1440, worn_except((600, 603))))
    assert (result.wear_minutes, result.gap_count, result.longest_gap_minutes) == (1437, 1, 3)
    assert result.imputed_minutes == 3 and result.valid_day
    # bpm 99 at minute 599, 63 at minute 603 -> 90, 81, 72 in between
    filled = [(v.minute, v.mean_bpm) for v in values if v.imputed]
    assert filled == [(600, 90.0), (601, 81.0), (602, 72.0)]
    assert len(values) == 1440 and [v.minute for v in values] == list(range(1440))


def test_two_hour_gap_is_not_imputed():
    result, values = day_adherence(*series(1440, worn_except((720, 840))))
    assert (result.wear_minutes, result.gap_count, result.longest_gap_minutes, result.imputed_minutes) == (1320, 1, 120, 0)
    assert {v.minute for v in values}.isdisjoint(range(720, 840))


def test_gap_limit_is_inclusive_and_configurable():
    worn = worn_except((100, 105), (200, 206))  # 5 and 6 minutes
    result, _ = day_adherence(*series(1440, worn))
    assert result.imputed_minutes == 5 and result.gap_count == 2
    result, _ = day_adherence(*series(1440, worn), AdherenceParams(impute_max_gap_minutes=6))
    assert result.imputed_minutes == 11
    result, _ = day_adherence(*series(1440, worn), AdherenceParams(impute_max_gap_minutes=0))
    assert result.imputed_minutes == 0


def test_gaps_at_the_day_edges_are_never_imputed():
    worn = worn_only(2, 1438)  # 2 minutes missing at each end
    result, values = day_adherence(*series(1440, worn))
    assert [(g.start, g.length, g.interior) for g in find_gaps([worn(m) for m in range(1440)])] == [
        (0, 2, False),
        (1438, 2, False),
    ]
    assert result.imputed_minutes == 0 and result.gap_count == 2 and result.longest_gap_minutes == 2


@pytest.mark.parametrize("day_minutes", [1380, 1500])
def test_dst_days_use_their_real_length(day_minutes):
    result, _ = day_adherence(*series(day_minutes, all_worn))
    assert (result.day_minutes, result.wear_minutes, result.adherence_pct) == (day_minutes, day_minutes, 100.0)
    result, _ = day_adherence(*series(day_minutes, worn_only(0, 690)))
    assert result.adherence_pct == pytest.approx(100 * 690 / day_minutes)


def test_thresholds_are_configurable():
    counts, means = series(1440, worn_only(0, 540))  # 9 h worn
    assert not day_adherence(counts, means)[0].valid_day  # default 600 min (10 h)
    assert day_adherence(counts, means, AdherenceParams(valid_day_minutes=480))[0].valid_day  # HeartSteps 8 h
    counts[10] = 1  # a minute with one sample only
    assert day_adherence(counts, means)[0].wear_minutes == 540
    strict = day_adherence(counts, means, AdherenceParams(worn_minute_min_samples=2))[0]
    assert strict.wear_minutes == 539 and strict.gap_count == 2


def test_minute_arrays_and_validation():
    counts, means = minute_arrays(5, [(1, 3, 70.0), (3, 1, 80.0)])
    assert counts == [0, 3, 0, 1, 0] and means == [None, 70.0, None, 80.0, None]
    with pytest.raises(ValueError):
        minute_arrays(5, [(5, 1, 70.0)])
    with pytest.raises(ValueError):
        AdherenceParams(worn_minute_min_samples=0)


def test_the_valid_day_check_says_the_coordinator_status_words():
    """The Dagster check's text and each failing day's reason use coordinator_status.status_words, as the
    dashboard, the CLI summary and the alert e-mails do."""
    from fitbit_assets.defs.adherence.checks import daily_adherence_valid_day
    from fitbit_assets.domain.coordinator_status import CoordinatorStatus, status_words
    from fitbit_assets.domain.device_sync import DayStatus, status_explanation

    [spec] = daily_adherence_valid_day.check_specs
    synced = dt.datetime(2025, 6, 2, 7, tzinfo=dt.timezone.utc)
    for status in (DayStatus.NOT_WEARING, DayStatus.NOT_SYNCING):
        words = status_words(CoordinatorStatus(status.value))
        assert f"'{words}'" in spec.description
        assert status_explanation(status.value, synced, synced, sync_data_available=True).startswith(f"{words}: ")
    # Without sync records the cohort page says "not wearing" with the doubt; so does the check.
    assert status_explanation(DayStatus.NOT_SYNCING.value, None, None, sync_data_available=False).startswith(
        f"{status_words(CoordinatorStatus.NOT_WEARING)}: no device sync records")


def test_resource_reads_environment(monkeypatch):
    monkeypatch.setenv("FITBIT_VALID_DAY_MINUTES", "480")
    monkeypatch.setenv("FITBIT_IMPUTE_MAX_GAP_MINUTES", "10")
    monkeypatch.setenv("FITBIT_WORN_MINUTE_MIN_SAMPLES", "2")
    assert AdherenceResource().params() == AdherenceParams(2, 480, 10)


# ------------------------------------------------------------------------------------ through Dagster

JUNE = dt.date(2025, 6, 10)
HAND_BUILT = {  # Berlin local days
    JUNE: all_worn,
    # JUNE + 1: no file at all -> none worn
    JUNE + dt.timedelta(days=2): worn_except((600, 603)),
    JUNE + dt.timedelta(days=3): worn_except((720, 840)),
    JUNE + dt.timedelta(days=4): worn_only(480, 960),  # 8 h: invalid at the default 10 h
}
SPRING, FALL = dt.date(2025, 3, 30), dt.date(2025, 10, 26)  # Europe/Berlin DST changes


def adherence_rows(query, participant_id):
    return {
        row[0]: row[1:]
        for row in query(
            "SELECT local_date, day_minutes, wear_minutes, adherence_pct, longest_gap_minutes, gap_count, valid_day,"
            " imputed_minutes FROM daily_adherence WHERE participant_id = %s",
            (participant_id,),
        )
    }


def test_hand_built_days_end_to_end(instance, study_files, roster, warehouse, query):
    for date, worn in HAND_BUILT.items():
        drop_day(study_files, LANDING, date, worn)
    tags = range_tags(LANDING.participant_id, JUNE, JUNE + dt.timedelta(days=4))
    result = materialize_days(instance, study_files, warehouse, tags=tags)
    assert result.success
    rows = adherence_rows(query, LANDING.participant_id)
    assert rows == {
        JUNE: (1440, 1440, 100.0, 0, 0, True, 0),
        JUNE + dt.timedelta(days=1): (1440, 0, 0.0, 1440, 1, False, 0),
        JUNE + dt.timedelta(days=2): (1440, 1437, pytest.approx(100 * 1437 / 1440), 3, 1, True, 3),
        JUNE + dt.timedelta(days=3): (1440, 1320, pytest.approx(100 * 1320 / 1440), 120, 1, True, 0),
        JUNE + dt.timedelta(days=4): (1440, 480, pytest.approx(100 / 3), 480, 2, False, 0),
    }
    # The imputed series: flag on every row, the three imputed minutes interpolated, the 2-hour gap absent.
    gap_day = LocalDay(JUNE + dt.timedelta(days=2), LANDING.timezone)
    imputed = query(
        "SELECT bucket, mean_bpm FROM heart_rate_1m_imputed WHERE participant_id = %s AND imputed ORDER BY bucket",
        (LANDING.participant_id,),
    )
    assert [(b - gap_day.start_utc.to_pydatetime(), m) for b, m in imputed] == [
        (dt.timedelta(minutes=600), 90.0),
        (dt.timedelta(minutes=601), 81.0),
        (dt.timedelta(minutes=602), 72.0),
    ]
    long_gap = LocalDay(JUNE + dt.timedelta(days=3), LANDING.timezone)
    assert query(
        "SELECT count(*) FROM heart_rate_1m_imputed WHERE participant_id = %s AND bucket >= %s AND bucket < %s",
        (LANDING.participant_id, long_gap.start_utc + dt.timedelta(minutes=720), long_gap.start_utc + dt.timedelta(minutes=840)),
    ) == [(0,)]
    assert query("SELECT count(*) FILTER (WHERE imputed IS NULL) FROM heart_rate_1m_imputed") == [(0,)]

    # Participant rollup: trailing 7 days end at the latest day, which is invalid (1 in a row).
    [(pct, valid_7d, invalid_in_a_row, last)] = query(
        "SELECT trailing_7d_adherence_pct, valid_days_7d, consecutive_invalid_days, last_local_date"
        " FROM participant_adherence WHERE participant_id = %s",
        (LANDING.participant_id,),
    )
    assert pct == pytest.approx(round(100 * (1440 + 0 + 1437 + 1320 + 480) / (5 * 1440), 2))
    assert (valid_7d, invalid_in_a_row, last) == (3, 1, JUNE + dt.timedelta(days=4))

    # The WARN check: one evaluation per partition, failing exactly on the two invalid days.
    per_day = {
        dt.date.fromisoformat(e.partition): e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "daily_adherence_valid_day" and e.partition
    }
    assert {d for d, e in per_day.items() if not e.passed} == {JUNE + dt.timedelta(days=1), JUNE + dt.timedelta(days=4)}
    assert all(e.severity.value == "WARN" for e in per_day.values())
    [invalid] = failing_participant_days(per_day[JUNE + dt.timedelta(days=4)])
    assert invalid["participant_id"] == LANDING.participant_id
    assert "worn 480 of 1440 min" in invalid["reason"] and "600 min" in invalid["reason"]
    assert "no heart-rate data" in failing_participant_days(per_day[JUNE + dt.timedelta(days=1)])[0]["reason"]
    # land-01 has no sync records: the reason leads with what the cohort page calls it, the doubt named.
    assert invalid["reason"].startswith("not wearing: no device sync records for this participant, so not syncing")
    # Dagster stores a status per partition (what the UI shows per partition).
    import dagster as dg

    infos = instance.event_log_storage.get_asset_check_partition_info(
        [dg.AssetCheckKey(dg.AssetKey("daily_adherence"), "daily_adherence_valid_day")]
    )
    statuses = {i.partition_key: i.latest_execution_status.value for i in infos if i.partition_key}
    assert statuses == {d.isoformat(): ("SUCCEEDED" if e.passed else "FAILED") for d, e in per_day.items()}


def test_dst_days_end_to_end(instance, study_files, roster, warehouse, query):
    for date in (SPRING, FALL):
        drop_day(study_files, LANDING, date, all_worn)
        key = ParticipantDayKey(date, LANDING.participant_id)
        assert materialize_days(instance, study_files, warehouse, participant_day=key).success
    rows = adherence_rows(query, LANDING.participant_id)
    assert rows[SPRING][:3] == (1380, 1380, 100.0)
    assert rows[FALL][:3] == (1500, 1500, 100.0)
    assert query("SELECT count(*) FROM heart_rate_1m_imputed WHERE NOT imputed") == [(1380 + 1500,)]


def test_configured_thresholds_reach_the_table(instance, study_files, roster, warehouse, query):
    date = JUNE + dt.timedelta(days=4)
    drop_day(study_files, LANDING, date, worn_only(480, 960))
    key = ParticipantDayKey(date, LANDING.participant_id)
    params = AdherenceResource(valid_day_minutes=480, impute_max_gap_minutes=10, worn_minute_min_samples=1)
    result = materialize_days(instance, study_files, warehouse, participant_day=key, adherence=params)
    assert result.success
    assert query("SELECT valid_day, valid_day_minutes, impute_max_gap_minutes FROM daily_adherence") == [(True, 480, 10)]
    assert all(e.passed for e in result.get_asset_check_evaluations())
