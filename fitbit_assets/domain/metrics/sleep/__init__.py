"""Sleep: nightly totals per participant-day and the minute-level sleep states, from one sleep-log document.

One document, two tables: the family ``sleep`` loads the nightly totals (``sleep_daily``, one row per
participant-day, zeros when no sleep was recorded) and ``sleep_minutes`` reads the same landing files for the
states of each minute (``sleep_minutes``, none for summary-only days). Rules that tie the parts of the document
together (runs summing to the log's duration, summary = sums over logs, ...) are checked while parsing, so a
document that contradicts itself fails the day in both tables; value rules are the two Pandera models.

Modules: ``document`` (the sleep-log document and its rules), ``tables`` (the two tables' rows and Pandera models),
``synthetic`` (the generator's nights).
"""

from fitbit_assets.domain.metrics.family import MetricFamily, sleep_window
from fitbit_assets.domain.metrics.sleep.document import LEVELS
from fitbit_assets.domain.metrics.sleep.synthetic import generate
from fitbit_assets.domain.metrics.sleep.tables import (
    DAILY_COLUMNS,
    DAILY_INTEGER_COLUMNS,
    MINUTE_COLUMNS,
    SleepDailyFrame,
    SleepMinuteFrame,
    parse_daily,
    parse_minutes,
)

FAMILY = MetricFamily(
    name="sleep",
    table="sleep_daily",
    columns=DAILY_COLUMNS,
    integer_columns=DAILY_INTEGER_COLUMNS,
    model=SleepDailyFrame,
    generate=generate,
    parse=parse_daily,
    window=None,
    title="Sleep, nightly totals (minutes asleep, time in bed, records, main sleep)",
    source="GET /1.2/user/-/sleep/date/{date}.json",
)

MINUTES_FAMILY = MetricFamily(
    name="sleep_minutes",
    table="sleep_minutes",
    columns=MINUTE_COLUMNS,
    integer_columns=("log_id",),
    model=SleepMinuteFrame,
    generate=generate,
    parse=parse_minutes,
    window=sleep_window,
    title="Sleep, minute-level states (levels.data of each sleep log)",
    source="GET /1.2/user/-/sleep/date/{date}.json",
    landing=FAMILY.name,
)

__all__ = ["FAMILY", "LEVELS", "MINUTES_FAMILY", "MINUTE_COLUMNS", "generate", "parse_daily", "parse_minutes"]
