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

from fitbit_assets.roster import Participant, write_roster

REPO = Path(__file__).resolve().parents[1]
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
    config = {
        "study_files": {
            "roster_path": str(tmp_path / "roster.csv"),
            "landing_dir": str(landing),
            "parquet_dir": str(tmp_path / "parquet"),
        },
        "dsn": warehouse_dsn,
        "runs": runs,
    }
    env = {**os.environ, "FITBIT_STUDY_START": "2016-03-01", "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    (tmp_path / "dagster_home").mkdir()
    completed = subprocess.run(
        [sys.executable, "-m", "fitbit_assets_tests.real_exports_runner", json.dumps(config)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    for run in result["runs"]:
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
