"""Export staging (sources.staging): study-wide Fitabase files routed by the roster, union of overlapping exports,
DST fall-back order, malformed files held back per file, the incremental ledger, and the Fitabase daily activity
and sleep files -> Web API documents (hand-built files with known totals; the daily activity ones through Dagster
into activity_daily_summary)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path

import pytest

from fitbit_assets.defs.datasets.checks import CHECKS
from fitbit_assets.defs.datasets.factory import DATASET_ASSETS
from fitbit_assets.domain.local_days import LocalDay
from fitbit_assets.domain.metrics import FAMILIES_BY_NAME, read_metric_file, validate_frame
from fitbit_assets.domain.roster import Participant, Roster, read_roster, write_roster
from fitbit_assets.domain.sources import fitabase_daily
from fitbit_assets.domain.sources.staging import stage_days
from fitbit_assets.lib.partitions import range_tags
from fitbit_assets_tests.support.runs import day_evaluations, materialize_graph
from fitbit_assets_tests.support.study import LANDING

NY = "America/New_York"
ROSTER = Roster(Path("roster.csv"), (
    Participant("ann", 0, NY, dt.date(2016, 4, 1), "landing", fitabase_id="1111"),
    Participant("bob", 0, NY, dt.date(2016, 4, 1), "landing", fitabase_id="2222"),
), ())


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def csv_text(header: str, rows: list[str]) -> str:
    return header + "\r\n" + "".join(f"{row}\r\n" for row in rows)


def stage(tmp_path: Path, dataset: str, wanted: dict[str, list[dt.date]], roster: Roster = ROSTER):
    def day_file(participant_id: str, date: dt.date) -> Path:
        return tmp_path / dataset / participant_id / f"{date}{'.csv' if dataset == 'heart_rate' else '.json'}"

    return stage_days(dataset, tmp_path / "landing", tmp_path / "ledger", roster, wanted, day_file), day_file


def days(*numbers: int, month: int = 4) -> list[dt.date]:
    return [dt.date(2016, month, n) for n in numbers]


# ---- heart rate: union, order, DST ------------------------------------------------------------------------------


def test_duplicates_reversed_rows_and_overlaps(tmp_path):
    rows = ["1111,4/12/2016 7:00:10 AM,72", "1111,4/12/2016 7:00:05 AM,71", "1111,4/12/2016 7:00:05 AM,71",
            "1111,4/12/2016 7:00:00 AM,70"]
    write(tmp_path / "landing" / "ann" / "a_heartrate_seconds.csv", csv_text("Id,Time,Value", rows))
    write(tmp_path / "landing" / "ann" / "b_heartrate_seconds.csv",
          csv_text("Id,Time,Value", ["1111,4/12/2016 7:00:10 AM,72", "1111,4/12/2016 7:00:15 AM,73"]))
    result, day_file = stage(tmp_path, "heart_rate", {"ann": days(12)})
    assert day_file("ann", days(12)[0]).read_text() == "time,value\n07:00:00,70\n07:00:05,71\n07:00:10,72\n07:00:15,73\n"
    assert result.duplicates_dropped == {"ann/2016-04-12": 1} and result.overlapping_rows == {"ann/2016-04-12": 1}
    assert result.staged[("ann", days(12)[0])].source_files == ("a_heartrate_seconds.csv", "b_heartrate_seconds.csv")


FALL_BACK = dt.date(2016, 11, 6)  # America/New_York: 1:00-1:59 local happens twice


def test_fall_back_day_keeps_file_order_and_refuses_an_unresolvable_mix(tmp_path):
    # EDT 1:30, then back to 1:00 EST (the repeated hour), 1:30 EST: file order says which pass each is.
    ordered = ["1111,11/6/2016 12:59:00 AM,60", "1111,11/6/2016 1:30:00 AM,61", "1111,11/6/2016 1:00:00 AM,62",
               "1111,11/6/2016 1:30:00 AM,63", "1111,11/6/2016 2:00:00 AM,64"]
    write(tmp_path / "landing" / "fitabase" / "heartrate_seconds_merged.csv", csv_text("Id,Time,Value", ordered))
    # The same night downloaded again by another export (identical rows): kept once, fold by its own file order.
    write(tmp_path / "landing" / "fitabase" / "heartrate_seconds_merged_2.csv", csv_text("Id,Time,Value", ordered[1:4]))
    result, day_file = stage(tmp_path, "heart_rate", {"ann": [FALL_BACK]})
    assert day_file("ann", FALL_BACK).read_text() == (
        "time,value\n00:59:00,60\n01:30:00,61\n01:00:00,62\n01:30:00,63\n02:00:00,64\n"
    )
    assert result.overlapping_rows == {f"ann/{FALL_BACK}": 3} and not result.held_back
    # Sorting would mix the two passes, so an out-of-order file on a fall-back day is refused for that day only.
    shuffled = [ordered[3], ordered[0], ordered[2], ordered[1], ordered[4]]
    write(tmp_path / "landing" / "bob" / "2222_heartrate_seconds.csv",
          csv_text("Id,Time,Value", [r.replace("1111", "2222") for r in shuffled + ["1111,11/7/2016 9:00:00 AM,70"]]))
    result, day_file = stage(tmp_path, "heart_rate", {"bob": [FALL_BACK, FALL_BACK + dt.timedelta(days=1)]})
    rule, message = result.held_back[("bob", FALL_BACK)]
    assert rule == "export.fall_back_order" and "file order decides which of the two repeated hours" in message
    assert "2222_heartrate_seconds.csv:" in message and not day_file("bob", FALL_BACK).exists()
    assert day_file("bob", FALL_BACK + dt.timedelta(days=1)).read_text() == "time,value\n09:00:00,70\n"


# ---- bad input: per file ----------------------------------------------------------------------------------------

GOOD = ["1111,4/12/2016 7:00:00 AM,70", "1111,4/13/2016 7:00:00 AM,71"]


@pytest.mark.parametrize(
    "body, message",
    [
        (csv_text("Id,Timestamp,Value", GOOD), r"header is \['Id', 'Timestamp', 'Value'\]"),
        (csv_text("Id,Time,Value", GOOD + ["1111,4/13/2016 25:00:00 PM,72"]), r"Time is not .*\(1 row\(s\): 4\)"),
        (csv_text("Id,Time,Value", GOOD + ["1111,4/13/2016 7:00:05 AM,7x"]), r"Value is not an integer .*\(1 row\(s\): 4\)"),
        (csv_text("Id,Time,Value", GOOD).encode() + "1111,4/13/2016 7:00:05 AM,72 \xe9\r\n".encode("latin-1"),
         r"not UTF-8 text .*\(1 row\(s\): 4\)"),
        (csv_text("Id,Time,Value", GOOD) + "1111,4/13/2016 7:00:0", r"looks truncated.*\(1 row\(s\): 4\)"),
    ],
    ids=["wrong_header", "unparseable_time", "non_integer_value", "mixed_encodings", "truncated_last_line"],
)
def test_a_malformed_file_stages_nothing_and_holds_back_only_its_days(tmp_path, body, message):
    bad = write(tmp_path / "landing" / "fitabase" / "heartrate_seconds_merged.csv", body)
    write(tmp_path / "landing" / "ann" / "1111_heartrate_seconds.csv",
          csv_text("Id,Time,Value", ["1111,4/12/2016 8:00:00 AM,80", "1111,4/14/2016 8:00:00 AM,81"]))
    write(tmp_path / "landing" / "bob" / "2222_heartrate_seconds.csv", csv_text("Id,Time,Value", ["2222,4/12/2016 8:00:00 AM,90"]))
    result, day_file = stage(tmp_path, "heart_rate", {"ann": days(12, 13, 14), "bob": days(12)})
    [error] = result.file_errors
    assert str(bad) in error
    assert re.search(message, error), error
    # Nothing of the bad file is staged; other files and participants go on.
    assert day_file("ann", days(14)[0]).read_text() == "time,value\n08:00:00,81\n"
    assert day_file("bob", days(12)[0]).read_text() == "time,value\n08:00:00,90\n"
    assert not day_file("ann", days(13)[0]).exists()
    held = {key: rule for key, (rule, _) in result.held_back.items()}
    if "Timestamp" in message:  # the rows cannot even be dated: nothing to hold back, the error is reported
        assert held == {} and day_file("ann", days(12)[0]).read_text() == "time,value\n08:00:00,80\n"
    else:  # the days it would have fed are held back rather than staged half
        assert held == {("ann", days(12)[0]): "export.readable", ("ann", days(13)[0]): "export.readable"}
        assert not day_file("ann", days(12)[0]).exists()


# ---- incremental staging ----------------------------------------------------------------------------------------


def test_only_new_or_changed_files_are_parsed(tmp_path):
    folder = tmp_path / "landing" / "ann"
    for n in range(1, 6):
        write(folder / f"1111_heartrate_seconds_{n}.csv", csv_text("Id,Time,Value", [f"1111,4/{n}/2016 7:00:00 AM,7{n}"]))
    wanted = {"ann": days(1, 2, 3, 4, 5, 6)}
    result, day_file = stage(tmp_path, "heart_rate", wanted)
    assert (result.files_parsed, result.files_unchanged) == (5, 0) and len(result.staged) == 5
    result, _ = stage(tmp_path, "heart_rate", wanted)
    assert (result.files_parsed, result.files_unchanged) == (0, 5) and len(result.unchanged) == 5
    os.utime(folder / "1111_heartrate_seconds_1.csv", ns=(1, 1))  # touched, same bytes: not parsed again
    result, _ = stage(tmp_path, "heart_rate", wanted)
    assert result.files_parsed == 0
    write(folder / "1111_heartrate_seconds_2.csv", csv_text("Id,Time,Value", ["1111,4/2/2016 7:00:00 AM,99"]))
    write(folder / "1111_heartrate_seconds_6.csv", csv_text("Id,Time,Value", ["1111,4/6/2016 7:00:00 AM,76"]))
    result, _ = stage(tmp_path, "heart_rate", wanted)
    assert (result.files_parsed, result.files_unchanged) == (2, 4)
    assert day_file("ann", days(2)[0]).read_text() == "time,value\n07:00:00,99\n"
    assert sorted(k for k in result.staged if k not in result.unchanged) == [("ann", days(2)[0]), ("ann", days(6)[0])]
    # A lost or half-written ledger entry only means the file is parsed again.
    for entry in (tmp_path / "ledger").glob("*.json"):
        entry.write_text("{")
    result, _ = stage(tmp_path, "heart_rate", wanted)
    assert result.files_parsed == 6 and len(result.unchanged) == 6


def test_roster_fitabase_id_round_trips_and_is_unique(tmp_path):
    path = tmp_path / "roster.csv"
    write_roster(path, list(ROSTER.participants) + [Participant("cat", 0, NY, dt.date(2016, 4, 1), "landing")])
    assert [p.fitabase_id for p in read_roster(path).participants] == ["1111", "2222", "cat"]
    path.write_text(path.read_text() + "dan,0,UTC,2016-04-01,landing,typical,local,1111\nfitabase,0,UTC,2016-04-01,landing\n")
    errors = read_roster(path).errors
    assert "duplicate fitabase_id '1111' (also participant 'ann')" in str(errors[0])
    assert "'fitabase' is reserved" in str(errors[1])


# ---- daily activity and sleep -----------------------------------------------------------------------------------

ACTIVITY = [  # Id, date, steps, distances x7, very/fairly/lightly/sedentary minutes, calories
    "1111,4/12/2016,13162,8.5,8.5,0,1.88,0.55,6.06,0,25,13,328,728,1985",
    "2222,4/12/2016,4163,2.81,2.81,0,0,0,2.81,0,0,0,204,1236,1819",
    "3333,4/12/2016,100,0.07,0.07,0,0,0,0.07,0,0,0,10,1430,1500",
    "1111,4/13/2016,10735,6.97,6.97,0,1.57,0.69,4.71,0,21,19,217,776,1797",
]


def test_daily_activity_cohort_file_becomes_activity_documents(tmp_path):
    header = ",".join(fitabase_daily.ACTIVITY_HEADER)
    write(tmp_path / "landing" / "fitabase" / "dailyActivity_merged.csv", csv_text(header, ACTIVITY))
    write(tmp_path / "landing" / "fitabase" / "dailyActivity_merged_resent.csv", csv_text(header, ACTIVITY[:1]))
    result, day_file = stage(tmp_path, "activity_summary", {"ann": days(12, 13), "bob": days(12)})
    assert result.unknown_ids == [{"file": "fitabase/dailyActivity_merged.csv", "Id": "3333", "rows": 1}]
    assert result.overlapping_rows == {"ann/2016-04-12": 1}
    document = json.loads(day_file("ann", days(12)[0]).read_text())
    summary = document["summary"]
    assert (summary["steps"], summary["caloriesOut"], summary["veryActiveMinutes"], summary["fairlyActiveMinutes"],
            summary["lightlyActiveMinutes"], summary["sedentaryMinutes"]) == (13162, 1985, 25, 13, 328, 728)
    assert {d["activity"]: d["distance"] for d in summary["distances"]}["total"] == 8.5
    # The activity family's own parser and Pandera model accept it (no BMR split in Fitabase: null).
    family = FAMILIES_BY_NAME["activity_summary"]
    day = LocalDay(days(12)[0], NY)
    frame = read_metric_file(family, day_file("ann", days(12)[0]), "ann", day)
    assert validate_frame(family.schema(day), frame).passed
    assert frame[["steps", "distance_km", "calories_out"]].iloc[0].tolist() == [13162, 8.5, 1985]
    assert frame["calories_bmr"].isna().all()


MINUTES = (  # Fitabase minuteSleep: one log 4/12 23:58 -> 4/13 00:07 (10 minutes), a nap 4/13 14:00 (3 minutes)
    [f"1111,4/12/2016 11:{m}:30 PM,{v},11380564589" for m, v in ((58, 3), (59, 1))]
    + [f"1111,4/13/2016 12:0{m}:30 AM,{v},11380564589" for m, v in enumerate([1, 1, 1, 2, 2, 1, 1, 3])]
    + [f"1111,4/13/2016 2:0{m}:00 PM,1,11380564590" for m in range(3)]
)


def test_sleep_minutes_and_day_totals_become_sleep_documents(tmp_path):
    write(tmp_path / "landing" / "fitabase" / "minuteSleep_merged.csv", csv_text("Id,date,value,logId", MINUTES))
    write(tmp_path / "landing" / "fitabase" / "sleepDay_merged.csv", csv_text(
        "Id,SleepDay,TotalSleepRecords,TotalMinutesAsleep,TotalTimeInBed",
        ["1111,4/13/2016 12:00:00 AM,2,9,13", "1111,4/14/2016 12:00:00 AM,1,327,346", "2222,4/14/2016 12:00:00 AM,2,384,407"],
    ))
    result, day_file = stage(tmp_path, "sleep", {"ann": days(13, 14), "bob": days(14)})
    assert not result.held_back and not result.file_errors
    night = json.loads(day_file("ann", days(13)[0]).read_text())
    main, nap = night["sleep"]
    assert night["summary"] == {"totalMinutesAsleep": 9, "totalSleepRecords": 2, "totalTimeInBed": 13}
    assert (main["logId"], main["dateOfSleep"], main["startTime"], main["endTime"]) == (
        11380564589, "2016-04-13", "2016-04-12T23:58:30.000", "2016-04-13T00:08:30.000")
    assert (main["timeInBed"], main["minutesAsleep"], main["minutesAwake"], main["efficiency"], main["isMainSleep"]) == (
        10, 6, 4, 60, True)
    assert main["duration"] == 600_000 and main["type"] == "classic" and not nap["isMainSleep"]
    assert [(d["level"], d["seconds"]) for d in main["levels"]["data"]] == [
        ("awake", 60), ("asleep", 240), ("restless", 120), ("asleep", 120), ("awake", 60)]
    assert main["levels"]["summary"] == {"asleep": {"count": 2, "minutes": 6}, "restless": {"count": 1, "minutes": 2},
                                         "awake": {"count": 2, "minutes": 2}}
    assert (nap["startTime"], nap["minutesAsleep"], nap["timeInBed"]) == ("2016-04-13T14:00:00.000", 3, 3)
    # Days known only from the daily totals file: no logs, the totals.
    assert json.loads(day_file("ann", days(14)[0]).read_text()) == {
        "sleep": [], "summary": {"totalMinutesAsleep": 327, "totalSleepRecords": 1, "totalTimeInBed": 346}}
    assert json.loads(day_file("bob", days(14)[0]).read_text())["summary"]["totalMinutesAsleep"] == 384
    assert result.staged[("ann", days(13)[0])].source_format == "fitabase_minute_sleep_csv"
    assert result.staged[("ann", days(14)[0])].source_format == "fitabase_sleep_day_csv"


def test_conflicting_sleep_minutes_fail_that_night_only(tmp_path):
    write(tmp_path / "landing" / "fitabase" / "minuteSleep_merged.csv", csv_text("Id,date,value,logId", MINUTES))
    write(tmp_path / "landing" / "fitabase" / "minuteSleep_resent.csv",
          csv_text("Id,date,value,logId", [MINUTES[2].replace(",1,", ",3,")]))
    write(tmp_path / "landing" / "fitabase" / "sleepDay_merged.csv", csv_text(
        "Id,SleepDay,TotalSleepRecords,TotalMinutesAsleep,TotalTimeInBed", ["1111,4/14/2016 12:00:00 AM,1,327,346"]))
    result, day_file = stage(tmp_path, "sleep", {"ann": days(13, 14)})
    rule, message = result.held_back[("ann", days(13)[0])]
    assert rule == "export.conflicting_values"
    assert "fitabase/minuteSleep_merged.csv line 4" in message and "fitabase/minuteSleep_resent.csv line 2" in message
    assert day_file("ann", days(14)[0]).exists() and not day_file("ann", days(13)[0]).exists()


# ---- through Dagster: the activity family's landing asset stages the Fitabase file ------------------------------

ACTIVITY_GRAPH = [*DATASET_ASSETS["activity_summary"], *[c for c in CHECKS if "activity_summary" in str(c.check_specs)]]


def test_daily_activity_loads_into_activity_daily_summary(instance, study_files, warehouse, query, roster):
    header = ",".join(fitabase_daily.ACTIVITY_HEADER)
    rows = [r.replace("1111", LANDING.participant_id).replace("4/12/2016", "6/10/2025").replace("4/13/2016", "6/11/2025")
            for r in (ACTIVITY[0], ACTIVITY[3])]
    write(Path(study_files.landing_dir) / "fitabase" / "dailyActivity_merged.csv", csv_text(header, rows + [ACTIVITY[2]]))
    first, last = dt.date(2025, 6, 10), dt.date(2025, 6, 11)
    result = materialize_graph(ACTIVITY_GRAPH, instance, study_files, warehouse,
                               tags=range_tags(LANDING.participant_id, first, last))
    assert result.success and day_evaluations(result) and all(e.passed for e in day_evaluations(result))
    assert query("SELECT local_date, steps, distance_km, calories_out, calories_bmr, very_active_minutes"
                 " FROM activity_daily_summary WHERE participant_id = %s ORDER BY 1", (LANDING.participant_id,)) == [
        (first, 13162, 8.5, 1985, None, 25), (last, 10735, pytest.approx(6.97), 1797, None, 21)]
    [landing] = [e for e in result.get_asset_materialization_events() if e.asset_key.path == ["raw_activity_summary_json"]][:1]
    unknown = landing.step_materialization_data.materialization.metadata["run_unknown_fitabase_ids"].value
    assert unknown == [{"file": "fitabase/dailyActivity_merged.csv", "Id": "3333", "rows": 1}]

