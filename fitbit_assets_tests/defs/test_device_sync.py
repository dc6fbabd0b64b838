"""Device sync: synthetic events, classification (pure and SQL view), sync files through Dagster."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pandas as pd

from fitbit_assets.defs.datasets.factory import heart_rate_rows, raw_heart_rate_csv, validated_heart_rate
from fitbit_assets.defs.device_sync.assets import device_sync_events
from fitbit_assets.domain.device_sync import DayStatus, generate_sync_events, in_no_sync_stretch, synthetic_sync_window
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.roster import Participant, write_roster
from fitbit_assets.domain.synthetic import generate_heart_rate_day
from fitbit_assets.lib.partitions import ParticipantDayKey, range_tags
from fitbit_assets.serving.query import cohort_overview
from fitbit_assets.warehouse.days import create_heart_rate_partitions, upsert_participant
from fitbit_assets.warehouse.sql_files import sql_query
from fitbit_assets_tests.support.runs import materialize_graph
from fitbit_assets_tests.support.study import LANDING, SYNTHETIC

DAY = dt.date(2025, 6, 10)


def test_participant_day_status_view_tells_not_wearing_from_not_syncing(warehouse, query):
    """The one status rule (the SQL view), at its edges: a sync exactly at the day's end counts as after it."""
    who = Participant("status-01", 1, "Europe/Berlin", DAY, "landing")
    days = [LocalDay(DAY + dt.timedelta(days=i), who.timezone) for i in range(6)]
    # (wear minutes, valid_day, valid_day_minutes) per day from daily_adherence; None: not computed, no heart rate
    adherence = [(700, True, 600), (120, False, 600), (0, False, 600), (120, False, 600), None, (500, True, 480)]
    syncs = [days[1].end_utc + pd.Timedelta(hours=3), days[2].end_utc]
    with warehouse.connection() as conn, conn.cursor() as cur:
        upsert_participant(conn, who)
        for day, row in zip(days, adherence):
            if row is not None:
                wear, valid, threshold = row
                cur.execute(
                    "INSERT INTO daily_adherence (participant_id, local_date, timezone, day_minutes, wear_minutes, "
                    "adherence_pct, longest_gap_minutes, gap_count, valid_day, imputed_minutes, samples, "
                    "worn_minute_min_samples, valid_day_minutes, impute_max_gap_minutes) "
                    "VALUES (%s, %s, %s, 1440, %s, %s, 0, 0, %s, 0, 0, 1, %s, 5)",
                    (who.participant_id, day.local_date, who.timezone, wear, wear / 14.4, valid, threshold),
                )
        for synced_at in syncs:
            cur.execute(
                "INSERT INTO device_sync (participant_id, synced_at, device, source_format, source_file) "
                "VALUES (%s, %s, 'Charge 6', 'fitabase_sync_csv', 'sync.csv')",
                (who.participant_id, synced_at.to_pydatetime()),
            )
        conn.commit()
    rows = query(sql_query("participant_day_status"),
                 {"participant_id": who.participant_id, "first": days[0].local_date, "last": days[-1].local_date})
    assert [(r[1], r[2]) for r in rows] == [
        (days[0].local_date, DayStatus.OK.value),  # the data is here, whenever it synced
        (days[1].local_date, DayStatus.NOT_WEARING.value),  # synced 3 h after the day ended
        (days[2].local_date, DayStatus.NOT_WEARING.value),  # a sync exactly at the end of the day counts
        (days[3].local_date, DayStatus.NOT_SYNCING.value),
        (days[4].local_date, DayStatus.NOT_SYNCING.value),  # nothing computed, no heart rate, no sync since
        (days[5].local_date, DayStatus.OK.value),  # valid under the study's own threshold (480)
    ]
    assert rows[1][5] == syncs[0] and rows[2][5] == syncs[1] and rows[3][5] is None  # first sync after the day
    assert all(r[7] for r in rows)  # sync data available


def test_day_status_of_a_date_range_counts_the_same_worn_minutes_as_the_view(warehouse, query):
    """participant_day_status_between (the cohort's window, with constant heart-rate bounds) equals the view on the
    same days, for days daily_adherence has not computed, at UTC+14 and UTC-11 and at the local day's edges."""
    who = [Participant("edge-east", 1, "Pacific/Kiritimati", DAY, "landing"),
           Participant("edge-west", 2, "Pacific/Pago_Pago", DAY, "landing")]
    with warehouse.connection() as conn, conn.cursor() as cur:
        for participant in who:
            upsert_participant(conn, participant)
            day = LocalDay(DAY + dt.timedelta(days=1), participant.timezone)
            create_heart_rate_partitions(conn, day.start_utc, day.end_utc)
            # first and last minute of the local day (2 samples in the first), and one minute of each neighbour
            for ts in (day.start_utc, day.start_utc + pd.Timedelta(seconds=30), day.end_utc - pd.Timedelta(seconds=1),
                       day.start_utc - pd.Timedelta(seconds=1), day.end_utc):
                cur.execute("INSERT INTO heart_rate (participant_id, ts, bpm) VALUES (%s, %s, 70)",
                            (participant.participant_id, ts.to_pydatetime()))
        conn.commit()
    first, last = DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=1)
    ranged = query("SELECT participant_id, local_date, wear_minutes, status FROM participant_day_status_between(%s, %s)"
                   " ORDER BY 1, 2", (first, last))
    viewed = query("SELECT participant_id, local_date, wear_minutes, status FROM participant_day_status"
                   " WHERE local_date BETWEEN %s AND %s ORDER BY 1, 2", (first, last))
    assert ranged == viewed == [("edge-east", first, 2, DayStatus.NOT_SYNCING.value),
                                ("edge-west", first, 2, DayStatus.NOT_SYNCING.value)]


def test_synthetic_sync_events_are_deterministic_with_no_sync_stretches():
    participant = Participant("s", 42, "America/New_York", dt.date(2025, 1, 1), "synthetic", "low_wear")
    typical = Participant("t", 42, "America/New_York", dt.date(2025, 1, 1), "synthetic")
    assert not any(in_no_sync_stretch(typical, dt.date(2025, 1, 1) + dt.timedelta(days=i)) for i in range(365))
    days = [dt.date(2025, 1, 1) + dt.timedelta(days=i) for i in range(365)]
    counts = [len(generate_sync_events(participant, d)) for d in days]
    assert counts == [len(generate_sync_events(participant, d)) for d in days]
    pd.testing.assert_frame_equal(generate_sync_events(participant, days[3]), generate_sync_events(participant, days[3]))
    synced = [c > 0 for c in counts]
    assert 0.5 < sum(synced) / len(synced) < 0.9  # mostly syncing ...
    runs, run = [], 0
    for s in synced:
        run = 0 if s else run + 1
        runs.append(run)
    assert max(runs) >= 2  # ... with multi-day no-sync stretches
    for d in days[:60]:
        events = generate_sync_events(participant, d)
        window = synthetic_sync_window(participant, d)
        assert ((events["synced_at"] >= window.start_utc) & (events["synced_at"] < window.end_utc)).all()
        assert events["synced_at"].is_monotonic_increasing
        day = LocalDay(d, participant.timezone)
        recorded = generate_heart_rate_day(participant, d)
        if len(events):  # the overnight sync uploads the end of the day
            assert events["synced_at"].iloc[-1] > day.end_utc
        else:  # a no-sync stretch: nothing reached the phone
            assert recorded.empty


def test_participant_day_status_view(instance, study_files, warehouse, query, roster):
    """land-01: day 1 well worn; day 2 barely worn but synced after (not wearing); day 3 barely worn and no
    sync since it ended (not syncing)."""
    folder = Path(study_files.landing_dir) / LANDING.participant_id
    d1, d2, d3 = DAY, DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=2)
    full_day = "".join(f"{h:02d}:{m:02d}:00,70\n" for h in range(12) for m in range(60))  # 720 worn minutes
    for date, body in ((d1, full_day), (d2, "08:00:00,70\n08:01:00,71\n"), (d3, "09:00:00,70\n")):
        path = study_files.day_file("heart_rate", ParticipantDayKey(date, LANDING.participant_id))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("time,value\n" + body)
    # Berlin CEST: d2 ends 2025-06-11 22:00 UTC; the last sync is 2025-06-12 09:00 UTC, during d3.
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "land-01_syncEvents.csv").write_text(
        "DateTime,SyncDateUTC,Provider,DeviceName\n"
        "6/10/2025 9:00:00 AM,6/10/2025 7:00:00 AM,Fitbit,Charge 6\n"
        "6/12/2025 11:00:00 AM,6/12/2025 9:00:00 AM,Fitbit,Charge 6\n"
    )
    result = dg.materialize(
        [raw_heart_rate_csv, validated_heart_rate, heart_rate_rows, device_sync_events],
        instance=instance,
        tags=range_tags(LANDING.participant_id, d1, d3),
        resources={"study_files": study_files, "warehouse": warehouse},
        raise_on_error=False,
    )
    assert result.success
    assert query("SELECT count(*), min(source_format), min(source_file) FROM device_sync") == [
        (2, "fitabase_sync_csv", "land-01_syncEvents.csv")
    ]
    rows = query(sql_query("participant_day_status"), {"participant_id": LANDING.participant_id, "first": d1, "last": d3})
    assert [(r[1], r[2], r[3]) for r in rows] == [
        (d1, "ok", 720),
        (d2, "not_wearing", 2),
        (d3, "not_syncing", 1),
    ]
    assert rows[2][6] == pd.Timestamp("2025-06-12T09:00:00Z") and rows[2][7] is True  # last_sync_at, sync data

    # Re-running replaces the file's events (a corrected export leaves no stale events).
    (folder / "land-01_syncEvents.csv").write_text(
        "DateTime,SyncDateUTC,Provider,DeviceName\n6/13/2025 11:00:00 AM,6/13/2025 9:00:00 AM,Fitbit,Charge 6\n"
    )
    assert materialize_graph(
        [device_sync_events], instance, study_files, warehouse, participant_day=ParticipantDayKey(d3, LANDING.participant_id)
    ).success
    assert query("SELECT synced_at FROM device_sync") == [(pd.Timestamp("2025-06-13T09:00:00Z"),)]
    rows = query(sql_query("participant_day_status"), {"participant_id": LANDING.participant_id, "first": d3, "last": d3})
    assert rows[0][2] == "not_wearing"


def test_synthetic_participant_gets_sync_events(instance, study_files, warehouse, query, roster):
    result = dg.materialize(
        [device_sync_events], instance=instance, tags=range_tags(SYNTHETIC.participant_id, DAY, DAY + dt.timedelta(days=2)),
        resources={"study_files": study_files, "warehouse": warehouse},
    )
    assert result.success
    expected = sum(len(generate_sync_events(SYNTHETIC, DAY + dt.timedelta(days=i))) for i in range(3))
    assert query("SELECT count(*) FROM device_sync WHERE source_format = 'synthetic'") == [(expected,)]
    # Idempotent per day.
    assert materialize_graph(
        [device_sync_events], instance, study_files, warehouse, participant_day=ParticipantDayKey(DAY, SYNTHETIC.participant_id)
    ).success
    assert query("SELECT count(*) FROM device_sync") == [(expected,)]


def test_a_malformed_sync_file_loads_nothing_and_does_not_hold_back_the_others(instance, study_files, warehouse, query, roster):
    folder = Path(study_files.landing_dir) / LANDING.participant_id
    folder.mkdir(parents=True)
    (folder / "a_syncEvents.csv").write_text("DateTime,SyncDateUTC,Provider,DeviceName\n1/1/2025 1:00:00 AM,1/1/2025 6:00:00 AM,Fitbit,X\n")
    (folder / "devices.json").write_text('[{"lastSyncTime": "not a time"}]')
    result = materialize_graph(
        [device_sync_events], instance, study_files, warehouse, participant_day=ParticipantDayKey(DAY, LANDING.participant_id)
    )
    assert result.success
    [event] = result.get_asset_materialization_events()
    [error] = event.step_materialization_data.materialization.metadata["run_sync_file_errors"].value
    assert "devices.json" in error and "lastSyncTime" in error and "[0]" in error
    assert query("SELECT source_file, device FROM device_sync") == [("a_syncEvents.csv", "X")]


# Two synthetic devices over 2026-01-05..09: the low-wear one (demo-003's seed) is in a no-sync stretch on the
# last two days (2026-01-08, 09), the typical one syncs every day.
HONEST_WINDOW = (dt.date(2026, 1, 5), dt.date(2026, 1, 9))
HONEST = [
    Participant("syn-low", 303, "America/Los_Angeles", HONEST_WINDOW[0], "synthetic", "low_wear"),
    Participant("syn-typ", 101, "America/New_York", HONEST_WINDOW[0], "synthetic", "typical"),
]


def test_synthetic_devices_sync_after_the_data_they_carry_and_unsynced_days_read_not_syncing(
    study_files, warehouse, query
):
    first, last = HONEST_WINDOW
    stretch = [d for d in (first + dt.timedelta(days=i) for i in range(5)) if in_no_sync_stretch(HONEST[0], d)]
    assert stretch == [dt.date(2026, 1, 8), last]
    write_roster(Path(study_files.roster_path), HONEST)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("participant", [p.participant_id for p in HONEST])
        for participant in HONEST:
            assert dg.materialize(
                [raw_heart_rate_csv, validated_heart_rate, heart_rate_rows, device_sync_events], instance=instance,
                tags=range_tags(participant.participant_id, first, last),
                resources={"study_files": study_files, "warehouse": warehouse},
            ).success
    # Every participant-day's last sample was uploaded by a sync at or after it, so last data <= last sync.
    late = query(
        "SELECT h.participant_id, max(h.ts), (SELECT max(synced_at) FROM device_sync s WHERE s.participant_id = "
        "h.participant_id) FROM heart_rate h GROUP BY h.participant_id ORDER BY 1"
    )
    assert [row[0] for row in late] == ["syn-low", "syn-typ"]
    assert all(last_data <= last_sync for _, last_data, last_sync in late), late
    assert query(
        "SELECT count(*) FROM (SELECT participant_id, date_trunc('day', ts) AS d, max(ts) AS t FROM heart_rate "
        "GROUP BY 1, 2) days WHERE NOT EXISTS (SELECT 1 FROM device_sync s WHERE s.participant_id = days.participant_id "
        "AND s.synced_at >= days.t)"
    ) == [(0,)]
    # The days that did not sync: no heart rate, no sync since they ended -> not syncing, and so is the participant.
    rows = query(sql_query("participant_day_status"), {"participant_id": "syn-low", "first": first, "last": last})
    assert [(r[1], r[2]) for r in rows if r[1] in stretch] == [(d, DayStatus.NOT_SYNCING.value) for d in stretch]
    assert all(r[3] == 0 and r[7] for r in rows if r[1] in stretch)  # nothing worn arrived; sync data exists
    with warehouse.connection() as conn:
        cohort = {row["participant_id"]: row for row in cohort_overview(conn, pd.Timestamp("2026-01-10T12:00Z"))}
    low = cohort["syn-low"]
    assert (low["status"], low["status_words"], low["since"]) == ("not_syncing", "not syncing", stretch[0])
    assert "last device sync 2026-01-08 00:" in low["evidence"] and "PST" in low["evidence"]
    assert "open the Fitbit app and sync" in low["action"]
    assert cohort["syn-typ"]["last_sync"] > pd.Timestamp("2026-01-10T05:00Z")  # New York's 01-09 ends 05:00 UTC
