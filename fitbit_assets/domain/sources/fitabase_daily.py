"""Fitabase daily activity and sleep exports -> the Web-API-shaped day documents the metric families read.

* ``dailyActivity_merged.csv``: ``Id,ActivityDate,TotalSteps,TotalDistance,TrackerDistance,...,Calories`` (one row
  per subject and local date, ``M/D/YYYY``) -> ``landing/activity_summary/<participant>/<date>.json`` in the shape of
  ``GET /1/user/-/activities/date/{date}.json`` (``metrics.activity_summary``). Fitabase gives no BMR/activity
  calorie split, so ``caloriesBMR`` and ``activityCalories`` are absent (null in the table).
* ``minuteSleep_merged.csv``: ``Id,date,value,logId`` (one row per minute of a sleep log, value 1 asleep,
  2 restless, 3 awake) -> ``landing/sleep/<participant>/<dateOfSleep>.json``, Web API v1.2 "classic" sleep logs.
* ``sleepDay_merged.csv``: ``Id,SleepDay,TotalSleepRecords,TotalMinutesAsleep,TotalTimeInBed`` -> the same
  document with ``"sleep": []`` and only the day's totals, for days without minute data.

Readers return one frame per file with ``Id``, ``local_date`` (the day the row belongs to), ``line`` and the values;
any bad row fails the whole file (``ExportFormatError`` naming the rows).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fitbit_assets.domain.sources.samples import integer_values, read_export_csv, reject_rows

ACTIVITY_FORMAT = "fitabase_daily_activity_csv"
SLEEP_DAY_FORMAT = "fitabase_sleep_day_csv"
MINUTE_SLEEP_FORMAT = "fitabase_minute_sleep_csv"
DATE_FORMAT = "%m/%d/%Y"
TIME_FORMAT = "%m/%d/%Y %I:%M:%S %p"

ACTIVITY_HEADER = [
    "Id", "ActivityDate", "TotalSteps", "TotalDistance", "TrackerDistance", "LoggedActivitiesDistance",
    "VeryActiveDistance", "ModeratelyActiveDistance", "LightActiveDistance", "SedentaryActiveDistance",
    "VeryActiveMinutes", "FairlyActiveMinutes", "LightlyActiveMinutes", "SedentaryMinutes", "Calories",
]
ACTIVITY_INTEGERS = ["TotalSteps", "VeryActiveMinutes", "FairlyActiveMinutes", "LightlyActiveMinutes",
                     "SedentaryMinutes", "Calories"]
ACTIVITY_DISTANCES = {  # Fitabase column -> Web API summary.distances[].activity
    "TotalDistance": "total", "TrackerDistance": "tracker", "LoggedActivitiesDistance": "loggedActivities",
    "VeryActiveDistance": "veryActive", "ModeratelyActiveDistance": "moderatelyActive",
    "LightActiveDistance": "lightlyActive", "SedentaryActiveDistance": "sedentaryActive",
}
SLEEP_DAY_HEADER = ["Id", "SleepDay", "TotalSleepRecords", "TotalMinutesAsleep", "TotalTimeInBed"]
SLEEP_DAY_VALUES = SLEEP_DAY_HEADER[2:]
MINUTE_SLEEP_HEADER = ["Id", "date", "value", "logId"]
CLASSIC_LEVELS = {1: "asleep", 2: "restless", 3: "awake"}  # Fitabase minuteSleep value -> Web API classic level


def _named(path: Path, *parts: str) -> bool:
    return path.suffix.lower() == ".csv" and any(part.lower() in path.name.lower() for part in parts)


def _header(first_line: str, header: list[str]) -> bool:
    return first_line.strip().lstrip("\ufeff").split(",") == header


def claims_activity(path: Path, first_line: str) -> bool:
    return _named(path, "dailyActivity") or (path.suffix.lower() == ".csv" and _header(first_line, ACTIVITY_HEADER))


def claims_sleep_day(path: Path, first_line: str) -> bool:
    return _named(path, "sleepDay") or (path.suffix.lower() == ".csv" and _header(first_line, SLEEP_DAY_HEADER))


def claims_minute_sleep(path: Path, first_line: str) -> bool:
    return _named(path, "minuteSleep") or (path.suffix.lower() == ".csv" and _header(first_line, MINUTE_SLEEP_HEADER))


def _dates(path: Path, values: pd.Series, line: pd.Series, column: str, fmt: str, shown: str) -> pd.Series:
    parsed = pd.to_datetime(values.str.strip(), format=fmt, errors="coerce")
    reject_rows(path, parsed.isna(), values, line, f"{column} is not {shown}")
    return parsed


def _integers(path: Path, raw: pd.DataFrame, line: pd.Series, columns: list[str]) -> dict[str, pd.Series]:
    out = {}
    for column in columns:
        values = integer_values(raw[column])
        reject_rows(path, values.isna() | (values < 0), raw[column], line, f"{column} is not a whole number >= 0")
        out[column] = values.astype("int64")
    return out


def read_activity(path: Path) -> pd.DataFrame:
    raw, line = read_export_csv(path, ACTIVITY_HEADER, "Fitabase dailyActivity", "Fitabase dailyActivity_merged")
    local_date = _dates(path, raw["ActivityDate"], line, "ActivityDate", DATE_FORMAT, "M/D/YYYY")
    columns = {"Id": raw["Id"].str.strip(), "local_date": local_date, "line": line}
    columns.update(_integers(path, raw, line, ACTIVITY_INTEGERS))
    for column in ACTIVITY_DISTANCES:
        values = pd.to_numeric(raw[column].str.strip(), errors="coerce")
        reject_rows(path, values.isna() | (values < 0), raw[column], line, f"{column} is not a distance >= 0 (km)")
        columns[column] = values.astype("float64")
    return pd.DataFrame(columns).reset_index(drop=True)


def read_sleep_day(path: Path) -> pd.DataFrame:
    raw, line = read_export_csv(path, SLEEP_DAY_HEADER, "Fitabase sleepDay", "Fitabase sleepDay_merged")
    day = _dates(path, raw["SleepDay"], line, "SleepDay", TIME_FORMAT, "M/D/YYYY h:mm:ss AM/PM")
    columns = {"Id": raw["Id"].str.strip(), "local_date": day.dt.normalize(), "line": line}
    columns.update(_integers(path, raw, line, SLEEP_DAY_VALUES))
    return pd.DataFrame(columns).reset_index(drop=True)


def read_minute_sleep(path: Path) -> pd.DataFrame:
    """Minutes of sleep logs; ``local_date`` is each log's dateOfSleep (the local date its last minute is on)."""
    raw, line = read_export_csv(path, MINUTE_SLEEP_HEADER, "Fitabase minuteSleep", "Fitabase minuteSleep_merged")
    local_time = _dates(path, raw["date"], line, "date", TIME_FORMAT, "M/D/YYYY h:mm:ss AM/PM")
    value = integer_values(raw["value"])
    reject_rows(path, ~value.isin(list(CLASSIC_LEVELS)).fillna(False).astype(bool), raw["value"], line,
                "value is not a sleep level 1 (asleep), 2 (restless) or 3 (awake)")
    log_id = raw["logId"].str.strip()
    reject_rows(path, ~log_id.str.fullmatch(r"\d+"), raw["logId"], line, "logId is not a whole number")
    frame = pd.DataFrame({"Id": raw["Id"].str.strip(), "local_time": local_time, "value": value.astype("int64"),
                          "logId": log_id, "line": line}).reset_index(drop=True)
    last_minute = frame.groupby(["Id", "logId"])["local_time"].transform("max")
    frame.insert(1, "local_date", last_minute.dt.normalize())
    return frame


# ---- documents ------------------------------------------------------------------------------------------------


def activity_document(row: pd.Series) -> dict:
    """One dailyActivity row -> the ``activities/date/{date}.json`` response the activity family parses."""
    summary = {
        "caloriesOut": int(row["Calories"]),
        "distances": [{"activity": name, "distance": float(row[column])} for column, name in ACTIVITY_DISTANCES.items()],
        "fairlyActiveMinutes": int(row["FairlyActiveMinutes"]),
        "lightlyActiveMinutes": int(row["LightlyActiveMinutes"]),
        "sedentaryMinutes": int(row["SedentaryMinutes"]),
        "steps": int(row["TotalSteps"]),
        "veryActiveMinutes": int(row["VeryActiveMinutes"]),
    }
    return {"activities": [], "summary": summary}


def _iso(stamp: pd.Timestamp) -> str:
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.000")


def sleep_log(log_id: str, minutes: pd.DataFrame) -> dict:
    """The minutes of one Fitabase sleep log -> one Web API v1.2 classic sleep log."""
    minutes = minutes.sort_values("local_time", kind="stable")
    times, levels = minutes["local_time"].reset_index(drop=True), minutes["value"].map(CLASSIC_LEVELS).reset_index(drop=True)
    # A run continues while the next minute follows 60 s later with the same level.
    new_run = (levels != levels.shift()) | (times.diff() != pd.Timedelta(minutes=1))
    run_id = new_run.cumsum()
    data = [{"dateTime": _iso(group_times.iloc[0]), "level": level, "seconds": 60 * len(group_times)}
            for (_, level), group_times in times.groupby([run_id, levels], sort=False)]
    summary = {name: {"count": sum(1 for d in data if d["level"] == name),
                      "minutes": sum(d["seconds"] for d in data if d["level"] == name) // 60}
               for name in CLASSIC_LEVELS.values()}
    in_bed = len(minutes)
    asleep = summary["asleep"]["minutes"]
    end = times.iloc[-1] + pd.Timedelta(minutes=1)
    return {
        "logId": int(log_id), "dateOfSleep": times.iloc[-1].date().isoformat(),
        "startTime": _iso(times.iloc[0]), "endTime": _iso(end), "duration": in_bed * 60_000,
        "minutesAsleep": asleep, "minutesAwake": in_bed - asleep, "timeInBed": in_bed,
        "efficiency": round(100 * asleep / in_bed), "isMainSleep": False, "type": "classic",
        "levels": {"data": data, "summary": summary},
    }


def sleep_document(minutes: pd.DataFrame | None, totals: pd.Series | None) -> dict:
    """A dateOfSleep's logs from minute rows (``local_time, value, logId``), else the sleepDay totals alone."""
    if minutes is not None and not minutes.empty:
        logs = sorted((sleep_log(log_id, group) for log_id, group in minutes.groupby("logId")), key=lambda l: l["startTime"])
        main = max(range(len(logs)), key=lambda i: (logs[i]["timeInBed"], -i))
        logs[main]["isMainSleep"] = True
        return {"sleep": logs, "summary": {"totalMinutesAsleep": sum(l["minutesAsleep"] for l in logs),
                                           "totalSleepRecords": len(logs),
                                           "totalTimeInBed": sum(l["timeInBed"] for l in logs)}}
    assert totals is not None
    return {"sleep": [], "summary": {"totalMinutesAsleep": int(totals["TotalMinutesAsleep"]),
                                     "totalSleepRecords": int(totals["TotalSleepRecords"]),
                                     "totalTimeInBed": int(totals["TotalTimeInBed"])}}

