"""Hand-built sleep-log documents shaped like the Fitabase staging writes them (classic levels from minuteSleep
1/2/3), with totals known by construction: for test_sleep, the metrics pipeline and the API cohort."""

import datetime as dt

import pandas as pd

NIGHT = dt.date(2016, 4, 12)
MAIN_RUNS = [("awake", 5), ("asleep", 200), ("restless", 10), ("asleep", 180), ("awake", 3), ("asleep", 50), ("restless", 2)]
NAP_RUNS = [("asleep", 40), ("awake", 5)]


def classic_log(log_id, start, runs, main, efficiency, night=NIGHT):
    """A Fitabase-style classic log (minuteSleep 1/2/3 as asleep/restless/awake runs) with consistent totals."""
    start_ts = pd.Timestamp(start)
    minutes = sum(n for _, n in runs)
    data, at = [], start_ts
    for level, n in runs:
        data.append({"dateTime": at.strftime("%Y-%m-%dT%H:%M:%S.000"), "level": level, "seconds": n * 60})
        at += pd.Timedelta(minutes=n)
    asleep = sum(n for level, n in runs if level == "asleep")
    return {
        "logId": log_id, "dateOfSleep": night.isoformat(), "startTime": start_ts.strftime("%Y-%m-%dT%H:%M:%S.000"),
        "endTime": at.strftime("%Y-%m-%dT%H:%M:%S.000"), "duration": minutes * 60_000, "minutesAsleep": asleep,
        "minutesAwake": minutes - asleep, "timeInBed": minutes, "efficiency": efficiency, "isMainSleep": main,
        "type": "classic", "levels": {"data": data, "summary": {}},
    }


def fitabase_document(night=NIGHT):
    """Main sleep 22:40 -> 06:10 and a nap 14:00 -> 14:45 ending on ``night``."""
    main = classic_log(11380564589, pd.Timestamp(night) - pd.Timedelta(minutes=80), MAIN_RUNS, True, 96, night)
    nap = classic_log(11380564590, pd.Timestamp(night) + pd.Timedelta(hours=14), NAP_RUNS, False, 89, night)
    return {"sleep": [main, nap], "summary": {"totalMinutesAsleep": 470, "totalSleepRecords": 2, "totalTimeInBed": 495}}
