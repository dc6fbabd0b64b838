"""The two real Fitabase 2016 files (../shared/datasets/fitabase-2016) end to end: landing folder -> Dagster
assets (partitions + range runs) -> heart_rate, with worn minutes per local day computed independently here."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from fitbit_assets.domain.roster import Participant, write_roster

REPO = Path(__file__).resolve().parents[2]
DATASETS = REPO.parent / "shared" / "datasets" / "fitabase-2016"
TIMEZONE = "America/New_York"  # not recorded in the dataset; any zone gives the same local days
FILES = {
    "2022484408": DATASETS / "participant_2022484408_heartrate_seconds.csv",
    "8877689391": DATASETS / "participant_8877689391_heartrate_seconds.csv",
}

pytestmark = pytest.mark.skipif(
    not all(path.exists() for path in FILES.values()) and not os.environ.get("CI"),
    reason=f"real Fitabase samples not found in {DATASETS} (CI has them)",
)


def independent_worn_minutes(path: Path) -> dict[dt.date, int]:
    """Minutes with >= 1 sample per local date, straight from the raw file with the csv module."""
    minutes: dict[dt.date, set[tuple[int, int]]] = defaultdict(set)
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        assert next(reader) == ["Id", "Time", "Value"]
        for row in reader:
            if not row:
                continue
            stamp = dt.datetime.strptime(row[1], "%m/%d/%Y %I:%M:%S %p")
            minutes[stamp.date()].add((stamp.hour, stamp.minute))
    return {day: len(worn) for day, worn in sorted(minutes.items())}


def test_independent_computation_matches_the_research_notes():
    assert independent_worn_minutes(FILES["8877689391"]) == {
        dt.date(2016, 5, 10): 873,
        dt.date(2016, 5, 11): 929,
        dt.date(2016, 5, 12): 479,
    }


def run_pipeline(tmp_path: Path, dsn: str, runs: list[list[str]]) -> list[dict]:
    """Materialize the landing -> heart_rate path (``real_exports_runner``) over ``runs`` (participant, first,
    last); the study files are ``tmp_path``'s roster.csv, landing/ and parquet/, the warehouse the test's."""
    config = {
        "study_files": {
            "roster_path": str(tmp_path / "roster.csv"),
            "landing_dir": str(tmp_path / "landing"),
            "parquet_dir": str(tmp_path / "parquet"),
        },
        "dsn": dsn,
        "runs": runs,
    }
    env = {**os.environ, "FITBIT_STUDY_START": "2016-03-01", "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    (tmp_path / "dagster_home").mkdir(exist_ok=True)
    completed = subprocess.run(
        [sys.executable, "-m", "fitbit_assets_tests.support.real_exports_runner", json.dumps(config)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])["runs"]


def test_real_fitabase_files_load_through_the_landing_folder(tmp_path, warehouse_dsn, query):
    landing = tmp_path / "landing"
    participants = []
    runs = []
    for participant_id, path in FILES.items():
        days = independent_worn_minutes(path)
        first, last = min(days), max(days)
        participants.append(Participant(participant_id, 0, TIMEZONE, first, "landing"))
        (landing / participant_id).mkdir(parents=True)
        shutil.copy(path, landing / participant_id / path.name)  # what a coordinator does: drop the export
        runs.append([participant_id, first.isoformat(), last.isoformat()])
    write_roster(tmp_path / "roster.csv", participants)
    for run in run_pipeline(tmp_path, warehouse_dsn, runs):
        assert run["success"], run
        assert run["checks_passed"] and all(run["checks_passed"]), run

    for participant_id, path in FILES.items():
        expected = independent_worn_minutes(path)
        loaded = query(
            "SELECT (ts AT TIME ZONE %(tz)s)::date, count(DISTINCT date_trunc('minute', ts AT TIME ZONE %(tz)s))"
            " FROM heart_rate WHERE participant_id = %(pid)s GROUP BY 1 ORDER BY 1",
            {"tz": TIMEZONE, "pid": participant_id},
        )
        assert dict(loaded) == expected, participant_id
        raw_rows = sum(1 for line in path.read_text().splitlines()[1:] if line.strip())
        assert query("SELECT count(*) FROM heart_rate WHERE participant_id = %s", (participant_id,)) == [(raw_rows,)]
        lineage = query(
            "SELECT local_date, source_format, source_files, rows, ingested_at IS NOT NULL FROM heart_rate_lineage"
            " WHERE participant_id = %s ORDER BY local_date",
            (participant_id,),
        )
        assert [row[0] for row in lineage] == list(expected)
        assert {(fmt, tuple(files), stamped) for _, fmt, files, _, stamped in lineage} == {
            ("fitabase_csv", (path.name,), True)
        }
        assert sum(row[3] for row in lineage) == raw_rows
        # Every row joins to its lineage (rows per lineage day == rows of that local day).
        assert query(
            "SELECT count(*) FROM heart_rate h JOIN heart_rate_lineage l ON l.participant_id = h.participant_id"
            " AND l.local_date = (h.ts AT TIME ZONE %s)::date WHERE h.participant_id = %s",
            (TIMEZONE, participant_id),
        ) == [(raw_rows,)]
    assert query(
        "SELECT (ts AT TIME ZONE %s)::date, count(DISTINCT date_trunc('minute', ts)) FROM heart_rate"
        " WHERE participant_id = '8877689391' GROUP BY 1 ORDER BY 1",
        (TIMEZONE,),
    ) == [(dt.date(2016, 5, 10), 873), (dt.date(2016, 5, 11), 929), (dt.date(2016, 5, 12), 479)]


# ---- Real exports as study teams get them (issue 13): built from the two real files at test time --------------

WORN = {  # the independent computation above, per local day
    "8877689391": {dt.date(2016, 5, 10): 873, dt.date(2016, 5, 11): 929, dt.date(2016, 5, 12): 479},
    "2022484408": {dt.date(2016, 4, 1): 537, dt.date(2016, 4, 2): 634, dt.date(2016, 4, 3): 50},
}
UNKNOWN_ID = "1503960366"  # a subject of the study who is not in this roster


def data_lines(fitabase_id: str) -> list[str]:
    """The real file's data lines (CRLF stripped), in file order."""
    return [line for line in FILES[fitabase_id].read_text().splitlines()[1:] if line.strip()]


def fitabase_file(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("Id,Time,Value\r\n" + "".join(f"{line}\r\n" for line in lines) + "\r\n")
    return path


def line_date(line: str) -> dt.date:
    return dt.datetime.strptime(line.split(",")[1], "%m/%d/%Y %I:%M:%S %p").date()


def worn_minutes(query, participant_id: str) -> dict[dt.date, int]:
    return dict(query(
        "SELECT (ts AT TIME ZONE %(tz)s)::date, count(DISTINCT date_trunc('minute', ts AT TIME ZONE %(tz)s))"
        " FROM heart_rate WHERE participant_id = %(pid)s GROUP BY 1 ORDER BY 1",
        {"tz": TIMEZONE, "pid": participant_id},
    ))


def run_values(run: dict, asset: str) -> dict:
    """The run-wide metadata of ``asset`` (``run_*``: the same on every day the run covered)."""
    days = list(run["metadata"][asset].values())
    values = {k: v for k, v in days[0].items() if k.startswith("run_")}
    assert all({k: v for k, v in day.items() if k.startswith("run_")} == values for day in days), asset
    return values


def run_days(participant_id: str, fitabase_id: str) -> list[str]:
    days = sorted(WORN[fitabase_id])
    return [participant_id, days[0].isoformat(), days[-1].isoformat()]


def test_cohort_file_routes_rows_by_fitabase_id_and_reports_unknown_ids(tmp_path, warehouse_dsn, query):
    """One merged heartrate_seconds file with both real Ids and an Id not in the roster, dropped in landing/fitabase/:
    each participant gets exactly their rows (routed by the roster's fitabase_id), the unknown Id is reported."""
    unknown = [line.replace("2022484408", UNKNOWN_ID, 1) for line in data_lines("2022484408")[:120]]
    merged = fitabase_file(tmp_path / "landing" / "fitabase" / "heartrate_seconds_merged.csv",
                           data_lines("2022484408") + unknown + data_lines("8877689391"))
    participants = {"sub-a": "8877689391", "sub-b": "2022484408"}
    write_roster(tmp_path / "roster.csv", [
        Participant(pid, 0, TIMEZONE, dt.date(2016, 3, 1), "landing", fitabase_id=fid) for pid, fid in participants.items()
    ])
    runs = run_pipeline(tmp_path, warehouse_dsn, [run_days(pid, fid) for pid, fid in participants.items()])
    for run in runs:
        assert run["success"] and all(run["checks_passed"]), run
        assert run_values(run, "raw_heart_rate_csv")["run_unknown_fitabase_ids"] == [
            {"file": f"fitabase/{merged.name}", "Id": UNKNOWN_ID, "rows": 120}
        ]
    for participant_id, fitabase_id in participants.items():
        assert worn_minutes(query, participant_id) == WORN[fitabase_id]
        assert query("SELECT count(*) FROM heart_rate WHERE participant_id = %s", (participant_id,)) == [
            (len(data_lines(fitabase_id)),)
        ]
        assert query("SELECT DISTINCT source_format, source_files FROM heart_rate_lineage WHERE participant_id = %s",
                     (participant_id,)) == [("fitabase_csv", [f"fitabase/{merged.name}"])]
    assert query("SELECT count(*) FROM participant WHERE participant_id = %s", (UNKNOWN_ID,)) == [(0,)]


def test_overlapping_exports_and_duplicate_reversed_rows_load_once(tmp_path, warehouse_dsn, query):
    """8877689391 as two weekly downloads that overlap by a whole day (5/11 in both); 2022484408 as one export in
    reverse order with one row repeated. Both load exactly the real rows; the duplicates are counted."""
    lines = data_lines("8877689391")
    folder = tmp_path / "landing" / "sub-a"
    first = fitabase_file(folder / "8877689391_heartrate_seconds_20160510_20160511.csv",
                          [line for line in lines if line_date(line) <= dt.date(2016, 5, 11)])
    second = fitabase_file(folder / "8877689391_heartrate_seconds_20160511_20160512.csv",
                           [line for line in lines if line_date(line) >= dt.date(2016, 5, 11)])
    reversed_lines = data_lines("2022484408")[::-1]
    fitabase_file(tmp_path / "landing" / "sub-b" / "2022484408_heartrate_seconds.csv",
                  reversed_lines[:10] + [reversed_lines[5]] + reversed_lines[10:])
    participants = {"sub-a": "8877689391", "sub-b": "2022484408"}
    write_roster(tmp_path / "roster.csv", [
        Participant(pid, 0, TIMEZONE, dt.date(2016, 3, 1), "landing", fitabase_id=fid) for pid, fid in participants.items()
    ])
    runs = run_pipeline(tmp_path, warehouse_dsn, [run_days(pid, fid) for pid, fid in participants.items()])
    for run in runs:
        assert run["success"] and all(run["checks_passed"]), run
    overlap_rows = sum(1 for line in lines if line_date(line) == dt.date(2016, 5, 11))
    assert run_values(runs[0], "raw_heart_rate_csv")["run_overlapping_rows_kept_once"] == {"sub-a/2016-05-11": overlap_rows}
    assert run_values(runs[1], "raw_heart_rate_csv")["run_duplicate_rows_dropped"] == {"sub-b/2016-04-03": 1}
    for participant_id, fitabase_id in participants.items():
        assert worn_minutes(query, participant_id) == WORN[fitabase_id]
        assert query("SELECT count(*), count(DISTINCT ts) FROM heart_rate WHERE participant_id = %s",
                     (participant_id,)) == [(len(data_lines(fitabase_id)), len(data_lines(fitabase_id)))]
    assert query("SELECT local_date, source_files FROM heart_rate_lineage WHERE participant_id = 'sub-a' ORDER BY 1") == [
        (dt.date(2016, 5, 10), [first.name]),
        (dt.date(2016, 5, 11), [first.name, second.name]),
        (dt.date(2016, 5, 12), [second.name]),
    ]


def test_re_sent_exports_replace_in_place_or_conflict_for_that_day_only(tmp_path, warehouse_dsn, query):
    """A re-downloaded export replacing the earlier one with a corrected value reloads just that day (atomic
    replace, new lineage); a second export giving another value for a loaded timestamp fails that day only,
    naming both files and lines, while the other days stay loaded."""
    lines = data_lines("8877689391")
    folder = tmp_path / "landing" / "sub-a"
    export = fitabase_file(folder / "8877689391_heartrate_seconds.csv", lines)
    write_roster(tmp_path / "roster.csv", [Participant("sub-a", 0, TIMEZONE, dt.date(2016, 3, 1), "landing",
                                                       fitabase_id="8877689391")])
    run = run_days("sub-a", "8877689391")
    [first] = run_pipeline(tmp_path, warehouse_dsn, [run])
    assert first["success"] and all(first["checks_passed"]), first
    before = dict(query("SELECT local_date, ingested_at FROM heart_rate_lineage WHERE participant_id = 'sub-a'"))

    # Re-sent in place: the last sample of 5/12 corrected from 56 to 57 bpm.
    assert lines[-1].endswith(",56")
    fitabase_file(export, lines[:-1] + [lines[-1][: -len("56")] + "57"])
    [second] = run_pipeline(tmp_path, warehouse_dsn, [run])
    assert second["success"] and all(second["checks_passed"]), second
    assert run_values(second, "raw_heart_rate_csv")["run_days_split_from_exports"] == ["sub-a/2016-05-12 (fitabase_csv)"]
    assert {day: values["participants_loaded"] for day, values in second["metadata"]["heart_rate_rows"].items()} == {
        "2016-05-10": 0, "2016-05-11": 0, "2016-05-12": 1}
    assert query("SELECT bpm FROM heart_rate WHERE participant_id = 'sub-a' ORDER BY ts DESC LIMIT 1") == [(57,)]
    after = dict(query("SELECT local_date, ingested_at FROM heart_rate_lineage WHERE participant_id = 'sub-a'"))
    assert [day for day in after if after[day] != before[day]] == [dt.date(2016, 5, 12)]
    assert worn_minutes(query, "sub-a") == WORN["8877689391"]

    # Re-sent as another file, with a different value for one timestamp of 5/11: that day is held back.
    day_lines = [line for line in lines if line_date(line) == dt.date(2016, 5, 11)]
    changed = day_lines[:3] + [day_lines[3].rsplit(",", 1)[0] + ",150"] + day_lines[4:]
    resent = fitabase_file(folder / "8877689391_heartrate_seconds_resent.csv", changed)
    [third] = run_pipeline(tmp_path, warehouse_dsn, [run])
    assert third["success"], third
    [failed] = third["failed_checks"]
    assert failed["check"] == "validated_heart_rate_schema" and failed["partition"] == "2016-05-11"
    assert failed["failing_participant_days"] == ["sub-a/2016-05-11"]
    line_in_export = lines.index(day_lines[3]) + 2  # header is line 1
    assert f"{export.name}:{line_in_export}" in failed["description"] and f"{resent.name}:5" in failed["description"]
    assert "different bpm/confidence for the same timestamp, e.g. local time 2016-05-11 " in failed["description"]
    assert run_values(third, "raw_heart_rate_csv")["run_days_held_back"] == ["sub-a/2016-05-11: export.conflicting_values"]
    assert worn_minutes(query, "sub-a") == WORN["8877689391"]  # the earlier rows of 5/11 stay loaded

    resent.unlink()  # the coordinator removes the wrong download: the day is released and loads unchanged
    [fourth] = run_pipeline(tmp_path, warehouse_dsn, [run])
    assert fourth["success"] and all(fourth["checks_passed"]) and not fourth["failed_checks"], fourth
