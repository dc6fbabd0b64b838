"""Source adapters: each format's happy path and malformed inputs (clear error naming file and rows, nothing
staged or loaded), through Dagster on the embedded PostgreSQL for the landing participant."""

from __future__ import annotations

import datetime as dt
import json
from functools import partial
from pathlib import Path

import pandas as pd
import pytest

from fitbit_assets.defs.datasets.checks import heart_rate_rows_match_validated, validated_heart_rate_schema
from fitbit_assets.defs.datasets.factory import heart_rate_rows, raw_heart_rate_csv, validated_heart_rate
from fitbit_assets.defs.device_sync.assets import device_sync_events
from fitbit_assets.domain.roster import Participant, Roster, read_roster
from fitbit_assets.domain.sources import ExportFormatError, fitabase, scan, sync_events, takeout, webapi
from fitbit_assets.domain.sources.staging import stage_days
from fitbit_assets.lib.partitions import PARTICIPANTS_TAG, ParticipantDayKey
from fitbit_assets_tests.support.runs import day_evaluations, failing_participant_days, materialize_graph
from fitbit_assets_tests.support.study import LANDING

DAY = dt.date(2025, 6, 10)
GRAPH = [
    raw_heart_rate_csv, validated_heart_rate, heart_rate_rows, validated_heart_rate_schema,
    heart_rate_rows_match_validated, device_sync_events,
]
materialize = partial(materialize_graph, GRAPH)


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text)
    return path


def fitabase_csv(participant_id: str, rows: list[tuple[str, str]]) -> str:
    return "Id,Time,Value\r\n" + "".join(f"{participant_id},{t},{v}\r\n" for t, v in rows) + "\r\n"


def takeout_json(rows: list[tuple[str, object, object]]) -> str:
    return json.dumps([{"dateTime": t, "value": {"bpm": b, "confidence": c}} for t, b, c in rows])


def webapi_json(date: str, rows: list[tuple[str, object]], dataset_type: str = "second") -> str:
    return json.dumps(
        {
            "activities-heart": [{"dateTime": date, "value": {"customHeartRateZones": [], "heartRateZones": []}}],
            "activities-heart-intraday": {
                "dataset": [{"time": t, "value": v} for t, v in rows],
                "datasetInterval": 1,
                "datasetType": dataset_type,
            },
        }
    )


def assert_refused(read, path: Path, message: str) -> None:
    """``read`` refuses the file with an error that names it (and the rows, as ``message`` says)."""
    with pytest.raises(ExportFormatError, match=message) as error:
        read(path)
    assert str(path) in str(error.value)


# ---- Fitabase CSV -------------------------------------------------------------------------------------------


def test_fitabase_happy_path_splits_local_days(tmp_path):
    path = write(
        tmp_path / "p1" / "p1_heartrate_seconds_20160412_20160512.csv",
        fitabase_csv("p1", [("4/12/2016 11:59:55 PM", "70"), ("4/13/2016 12:00:00 AM", "71"), ("4/13/2016 1:05:10 PM", "99")]),
    )
    samples = fitabase.read(path, "p1", "UTC")
    assert samples["bpm"].tolist() == [70, 71, 99]
    assert samples["line"].tolist() == [2, 3, 4]
    participant = Participant("p1", 0, "UTC", dt.date(2016, 4, 1), "landing")
    roster = Roster(tmp_path / "roster.csv", (participant,), ())
    wanted = {"p1": [dt.date(2016, 4, d) for d in (11, 12, 13)]}
    day_file = lambda pid, date: tmp_path / "heart_rate" / pid / f"{date}.csv"  # noqa: E731
    result = stage_days("heart_rate", tmp_path, tmp_path / "ledger", roster, wanted, day_file)
    assert sorted(date for _, date in result.staged) == [dt.date(2016, 4, 12), dt.date(2016, 4, 13)]
    assert day_file("p1", dt.date(2016, 4, 13)).read_bytes() == b"time,value\n00:00:00,71\n13:05:10,99\n"
    assert result.staged[("p1", dt.date(2016, 4, 13))].source_files == (path.name,)


@pytest.mark.parametrize(
    "body, message",
    [
        ("Id,Timestamp,Value\n1,4/12/2016 7:00:00 AM,70\n", r"header is \['Id', 'Timestamp', 'Value'\], expected"),
        ("", r"empty file"),
        (fitabase_csv("p1", [("4/12/2016 7:00:00 AM", "70")]).replace("p1,", "2022484408,", 1),
         r"Id \['2022484408'\] does not match participant 'p1' .*\(1 row\(s\): 2\)"),
        ("Id,Time,Value\n1,4/12/2016 7:00:00 AM,70\n1,4/12/2016 7:00:05 AM,7", r"looks truncated.*\(1 row\(s\): 3\)"),
        ("Id,Time,Value\np1,4/12/2016 7:00:00 AM,70\np1,4/12/2016 7:00:05 AM,71 caf\xe9\n".encode("latin-1"),
         r"not UTF-8 text \(mixed encodings.*\(1 row\(s\): 3\)"),
        (fitabase_csv("p1", [("4/12/2016 7:00:00 AM", "70"), ("2016-04-12 07:00:05", "71"), ("4/31/2016 7:00:10 AM", "72")]),
         r"Time is not M/D/YYYY h:mm:ss AM/PM, e.g. '2016-04-12 07:00:05' \(2 row\(s\): 3, 4\)"),
        (fitabase_csv("p1", [("4/12/2016 7:00:00 AM", "70.5"), ("4/12/2016 7:00:05 AM", "x"), ("4/12/2016 7:00:10 AM", "72")]),
         r"Value is not an integer bpm, e.g. '70.5' \(2 row\(s\): 2, 3\)"),
    ],
    ids=["wrong_header", "empty", "id_mismatch", "truncated_last_line", "mixed_encodings", "bad_dates", "non_integer_bpm"],
)
def test_fitabase_malformed_names_file_and_rows(tmp_path, body, message):
    assert_refused(lambda path: fitabase.read(path, "p1", "UTC"), write(tmp_path / "heartrate_seconds_merged.csv", body), message)


# ---- Takeout JSON -------------------------------------------------------------------------------------------


def test_takeout_local_and_utc_timestamps_keep_confidence(tmp_path):
    path = write(tmp_path / "heart_rate-2019-04-22.json", takeout_json([("04/22/19 04:00:05", 69, 2), ("04/22/19 04:00:10", 70, 0)]))
    local = takeout.read(path, "p1", "America/New_York", "local")
    assert local["local_time"].tolist() == [pd.Timestamp("2019-04-22 04:00:05"), pd.Timestamp("2019-04-22 04:00:10")]
    assert local["confidence"].tolist() == [2, 0]
    utc = takeout.read(path, "p1", "America/New_York", "utc")  # EDT = UTC-4: the previous local evening/night
    assert utc["local_time"].tolist() == [pd.Timestamp("2019-04-22 00:00:05"), pd.Timestamp("2019-04-22 00:00:10")]


def test_roster_takeout_timestamps_setting(tmp_path):
    path = write(
        tmp_path / "roster.csv",
        "participant_id,seed,timezone,enrolled_on,source,takeout_timestamps\n"
        "a,1,UTC,2025-01-01,landing,\nb,2,UTC,2025-01-01,landing,utc\nc,3,UTC,2025-01-01,landing,gmt\n",
    )
    roster = read_roster(path)
    assert [p.takeout_timestamps for p in roster.participants] == ["local", "utc"]
    assert "takeout_timestamps 'gmt' must be one of local, utc" in str(roster.errors[0])


@pytest.mark.parametrize(
    "body, message",
    [
        ('[{"dateTime": "04/22/19 04:00:05", "value": {"bpm": 69, "confidence": 2}', r"not valid JSON"),
        ('{"dateTime": "04/22/19 04:00:05"}', r"expected a JSON array"),
        (takeout_json([("04/22/19 04:00:05", 69, 2), ("2019-04-22T04:00:10", 70, 2)]), r"dateTime is not MM/DD/YY HH:MM:SS.*\[1\]"),
        (takeout_json([("04/22/19 04:00:05", 69.5, 2), ("04/22/19 04:00:10", "70", 2), ("04/22/19 04:00:15", None, 2)]),
         r"value.bpm is not an integer, e.g. 69.5 \(2 row\(s\): \[0\], \[2\]\)"),
        (takeout_json([("04/22/19 04:00:05", 69, 7)]), r"confidence is not an integer 0-3.*\[0\]"),
        ('[{"dateTime": "04/22/19 04:00:05", "bpm": 69}]', r"element is not .*\(1 row\(s\): \[0\]\)"),
    ],
    ids=["bad_json", "not_array", "bad_dates", "non_integer_bpm", "bad_confidence", "wrong_shape"],
)
def test_takeout_malformed_names_file_and_rows(tmp_path, body, message):
    assert_refused(lambda path: takeout.read(path, "p1", "UTC"), write(tmp_path / "heart_rate-2019-04-22.json", body), message)


# ---- Web API JSON -------------------------------------------------------------------------------------------


def test_webapi_happy_path(tmp_path):
    path = write(tmp_path / "webapi-heart-2020-10-07.json", webapi_json("2020-10-07", [("00:00:00", 68), ("00:00:05", 67)]))
    samples = webapi.read(path, "p1", "UTC")
    assert samples["local_time"].tolist() == [pd.Timestamp("2020-10-07 00:00:00"), pd.Timestamp("2020-10-07 00:00:05")]
    assert samples["bpm"].tolist() == [68, 67]


@pytest.mark.parametrize(
    "body, message",
    [
        ('{"activities-heart": [', r"not valid JSON"),
        ('{"activities-heart": [{"dateTime": "2020-10-07"}]}', r"no 'activities-heart-intraday' object"),
        (webapi_json("10/07/2020", [("00:00:00", 68)]), r"dateTime '10/07/2020' is not YYYY-MM-DD"),
        (webapi_json("2020-10-07", [("00:00:00", 68), ("25:00:00", 67), ("0:0", 66)]), r"time is not HH:MM:SS.*\(2 row\(s\): dataset\[1\], dataset\[2\]\)"),
        (webapi_json("2020-10-07", [("00:00:00", "68bpm"), ("00:00:05", 67)]), r"value is not an integer bpm.*dataset\[0\]"),
        (webapi_json("2020-10-07", [("00:00:00", 68)], dataset_type="hour"), r"datasetType 'hour'"),
    ],
    ids=["bad_json", "no_intraday", "bad_date", "bad_times", "non_integer_bpm", "bad_dataset_type"],
)
def test_webapi_malformed_names_file_and_rows(tmp_path, body, message):
    assert_refused(lambda path: webapi.read(path, "p1", "UTC"), write(tmp_path / "activities-heart-2020-10-07.json", body), message)


# ---- Sync files ---------------------------------------------------------------------------------------------


def test_sync_files_and_registry(tmp_path):
    folder = tmp_path / "p1"
    write(folder / "p1_syncEvents_20211130_20211231.csv",
          "DateTime,SyncDateUTC,Provider,DeviceName\n11/30/2021 12:31:28 PM,11/30/2021 5:31:28 PM,Fitbit,Alta HR\n")
    write(folder / "devices.json", json.dumps([{"deviceVersion": "Charge HR", "lastSyncTime": "2016-05-12T14:50:00.000"}]))
    write(folder / "notes.txt", "hello")
    write(folder / "Takeout" / "Fitbit" / "Global Export Data" / "resting_heart_rate-2019-04-22.json", "[]")
    found = {path.name: adapter.format for adapter, path in scan(folder).files}
    assert found == {"p1_syncEvents_20211130_20211231.csv": "fitabase_sync_csv", "devices.json": "webapi_devices_json"}
    assert {p.name for p in scan(folder).ignored} == {"notes.txt", "resting_heart_rate-2019-04-22.json"}
    events = sync_events.read_fitabase(folder / "p1_syncEvents_20211130_20211231.csv", "America/New_York")
    assert events["synced_at"].tolist() == [pd.Timestamp("2021-11-30 17:31:28", tz="UTC")]
    devices = sync_events.read_devices(folder / "devices.json", "America/New_York")
    assert devices["synced_at"].tolist() == [pd.Timestamp("2016-05-12 18:50:00", tz="UTC")]  # EDT
    assert devices["device"].tolist() == ["Charge HR"]


@pytest.mark.parametrize(
    "name, body, message",
    [
        ("x_syncEvents.csv", "DateTime,SyncDate,Provider,DeviceName\n", r"header is"),
        ("x_syncEvents.csv", "DateTime,SyncDateUTC,Provider,DeviceName\n1/1/2021 1:00:00 AM,yesterday,Fitbit,Alta\n",
         r"SyncDateUTC is not .*\(1 row\(s\): 2\)"),
        ("devices.json", "[{", r"not valid JSON"),
        ("devices.json", '[{"lastSyncTime": "soon"}]', r"lastSyncTime is not .*\[0\]"),
    ],
    ids=["sync_wrong_header", "sync_bad_date", "devices_bad_json", "devices_bad_time"],
)
def test_sync_malformed_names_file_and_rows(tmp_path, name, body, message):
    reader = sync_events.read_fitabase if name.endswith(".csv") else sync_events.read_devices
    assert_refused(lambda path: reader(path, "UTC"), write(tmp_path / name, body), message)


# ---- Through Dagster ----------------------------------------------------------------------------------------


def test_takeout_and_webapi_exports_load_with_lineage_and_confidence(instance, study_files, warehouse, query, roster):
    folder = Path(study_files.landing_dir) / LANDING.participant_id
    write(folder / "Takeout" / "Fitbit" / "Global Export Data" / f"heart_rate-{DAY}.json",
          takeout_json([("06/10/25 08:00:00", 70, 3), ("06/10/25 08:00:05", 71, 1)]))
    next_day = DAY + dt.timedelta(days=1)
    write(folder / f"webapi-heart-{next_day}.json", webapi_json(next_day.isoformat(), [("09:00:00", 80), ("09:00:01", 81)]))
    for date in (DAY, next_day):
        result = materialize(instance, study_files, warehouse, participant_day=ParticipantDayKey(date, LANDING.participant_id))
        assert result.success
    rows = query("SELECT ts, bpm, confidence FROM heart_rate WHERE participant_id = %s ORDER BY ts", (LANDING.participant_id,))
    assert rows == [
        (pd.Timestamp("2025-06-10T06:00:00Z"), 70, 3),  # Berlin CEST, Takeout read as local (default)
        (pd.Timestamp("2025-06-10T06:00:05Z"), 71, 1),
        (pd.Timestamp("2025-06-11T07:00:00Z"), 80, None),
        (pd.Timestamp("2025-06-11T07:00:01Z"), 81, None),
    ]
    lineage = query("SELECT local_date, source_format, source_files, rows FROM heart_rate_lineage ORDER BY local_date")
    assert lineage == [
        (DAY, "takeout_json", [f"heart_rate-{DAY}.json"], 2),
        (next_day, "webapi_json", [f"webapi-heart-{next_day}.json"], 2),
    ]


def test_malformed_export_is_held_back_clearly_and_loads_nothing(instance, study_files, warehouse, query, roster):
    """The run goes on (other participant-days load); the day the file would have fed is held back: a failed schema
    check naming the file and rows (what the alert sensor sends the data engineers), nothing staged or loaded."""
    folder = Path(study_files.landing_dir) / LANDING.participant_id
    write(folder / "heartrate_seconds_merged.csv", fitabase_csv("2022484408", [("6/10/2025 8:00:00 AM", "70")]))
    key = ParticipantDayKey(DAY, LANDING.participant_id)
    result = materialize(instance, study_files, warehouse, participant_day=key)
    assert result.success
    [landing] = [m for m in result.get_asset_materialization_events() if m.asset_key.path == ["raw_heart_rate_csv"]]
    metadata = landing.step_materialization_data.materialization.metadata
    [error] = metadata["run_export_file_errors"].value
    assert "heartrate_seconds_merged.csv" in error and "(1 row(s): 2)" in error
    assert "does not match participant 'land-01'" in error
    assert metadata["run_days_held_back"].value == [f"land-01/{DAY}: export.readable"]
    assert metadata["participants_held_back_list"].value == ["land-01"]
    [check] = day_evaluations(result, "validated_heart_rate_schema")
    assert not check.passed and "heartrate_seconds_merged.csv" in check.description
    [held_back] = failing_participant_days(check)
    assert (held_back["participant_id"], held_back["local_date"]) == ("land-01", DAY.isoformat())
    assert "not staged from the other exports until this file is fixed" in check.description
    assert not study_files.day_file("heart_rate", key).exists()
    assert query("SELECT count(*) FROM heart_rate") == [(0,)]
    assert query("SELECT count(*) FROM heart_rate_lineage") == [(0,)]


def test_hand_dropped_day_csv_and_synthetic_days_have_lineage(instance, study_files, warehouse, query, roster):
    key = ParticipantDayKey(DAY, LANDING.participant_id)
    write(study_files.day_file("heart_rate", key), "time,value\n08:00:00,70\n")
    assert materialize(instance, study_files, warehouse, participant_day=key).success
    synthetic = ParticipantDayKey(DAY, roster[0].participant_id)
    assert materialize(instance, study_files, warehouse, participant_day=synthetic).success
    assert query("SELECT participant_id, source_format, source_files FROM heart_rate_lineage ORDER BY 1") == [
        ("land-01", "day_csv", [f"{DAY}.csv"]),
        ("syn-01", "synthetic", [f"{DAY}.csv"]),
    ]


def test_a_participant_never_reads_another_participants_files(instance, study_files, warehouse, query, roster):
    """Exports live in landing/<participant>/ and the pipeline's day files in landing/<dataset>/<participant>/: a
    participant named like a dataset would read every participant's day files, so the roster refuses such names."""
    from fitbit_assets.definitions import defs
    from fitbit_assets.domain.roster import landing_datasets

    roster_path = Path(study_files.roster_path)
    roster_path.write_text(
        roster_path.read_text()
        + "heart_rate_summary,9,UTC,2025-01-01,landing\n"
        + "Heart_Rate,10,UTC,2025-01-01,landing\n"
    )
    landing = Path(study_files.landing_dir)
    write(landing / LANDING.participant_id / f"heart_rate-{DAY}.json", takeout_json([("06/10/25 08:00:00", 70, 3)]))
    job = defs.resolve_job_def("pipeline_job")
    resources = {"study_files": study_files, "warehouse": warehouse}
    for participant in roster:  # the synthetic participant fills every dataset folder, the landing one its own
        tags = {PARTICIPANTS_TAG: participant.participant_id}
        assert job.execute_in_process(instance=instance, partition_key=DAY.isoformat(), tags=tags, resources=resources).success
    # Every folder of the landing folder is a participant's export folder or a reserved dataset name.
    folders = {path.name for path in landing.iterdir()}
    assert LANDING.participant_id in folders and "heart_rate_summary" in folders
    assert folders - {LANDING.participant_id} <= landing_datasets()
    assert query("SELECT source_format, source_files FROM heart_rate_lineage WHERE participant_id = %s",
                 (LANDING.participant_id,)) == [("takeout_json", [f"heart_rate-{DAY}.json"])]
    # A run naming it (e.g. a backfill launched by hand) is refused with the roster's reason, and loads nothing.
    result = job.execute_in_process(
        instance=instance, partition_key=DAY.isoformat(), tags={PARTICIPANTS_TAG: "heart_rate_summary"},
        resources=resources, raise_on_error=False,
    )
    assert not result.success
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failures and all("is reserved" in e.step_failure_data.error.to_string() for e in failures)
    assert query("SELECT count(*) FROM heart_rate WHERE participant_id ILIKE 'heart_rate%%'") == [(0,)]
    assert [error.participant_id for error in read_roster(roster_path).errors] == ["heart_rate_summary", "Heart_Rate"]
