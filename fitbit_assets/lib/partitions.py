"""Partitions: one per participant's local calendar day; the participants of a run are a run tag.

Why not day x participant: Dagster 1.13 keeps the status of a multi-partitioned asset as the explicit set of its
keys and rebuilds check statuses key by key, so every UI page grew with participants x days (47-90 s for a check's
partition view at 100 participants x 1 year; docs/pipeline.md "Partitions, schedule and backfills"). Daily partitions are kept as
ranges. A run covers days of the participants its ``fitbit/participants`` tag names (all enrolled participants of
the roster when absent): a participant added to the roster needs no deploy, and a backfill of any day range is one
run. Every partitioned asset handles a range of days (single-run backfills).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import dagster as dg

from fitbit_assets import settings
from fitbit_assets.domain.roster import Roster, read_roster


def study_start_date(configured: settings.Settings) -> dt.date:
    """First day of the daily partitions: FITBIT_STUDY_START, else the roster's earliest enrolment, else 2024-01-01.

    Starting at the first enrolment keeps the partition bar of a young study short (a demo enrolled last week
    does not show two empty years); keep it realistic either way (partitions = days x participants).
    """
    if configured.study_start is not None:
        return configured.study_start
    try:
        roster = read_roster(configured.roster_path)
    except (FileNotFoundError, ValueError):
        # No roster yet, or an unreadable one: the roster sensor and `fitbit-assets register` name the problem.
        return settings.DEFAULT_STUDY_START
    today = dt.datetime.now(dt.timezone.utc).date()
    enrolments = [p.enrolled_on for p in roster.participants]
    # A participant enrolled for next week must not move the start into the future (Dagster refuses that).
    return min(min(enrolments), today) if enrolments else settings.DEFAULT_STUDY_START


# Read when the code location loads.
STUDY_START = study_start_date(settings.load())
local_day_partitions = dg.DailyPartitionsDefinition(start_date=STUDY_START.isoformat(), end_offset=0)
# Comma-separated participant ids a run covers; absent: every participant of the roster.
PARTICIPANTS_TAG = "fitbit/participants"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"


@dataclass(frozen=True, order=True)
class ParticipantDayKey:
    local_date: dt.date
    participant_id: str

    def __str__(self) -> str:
        return f"{self.participant_id}/{self.local_date.isoformat()}"


def run_participants(tags: dict[str, str], roster: Roster) -> list[str]:
    """The participants a run covers: its tag's, each checked against the roster, else the whole roster."""
    named = [p.strip() for p in tags.get(PARTICIPANTS_TAG, "").split(",") if p.strip()]
    if not named:
        return roster.participant_ids
    unknown = sorted(set(named) - set(roster.participant_ids))
    if unknown:
        # The roster's reason when it rejected the row (e.g. a reserved name), not just "unknown".
        rejected = [str(error) for error in roster.errors if error.participant_id in unknown]
        raise dg.Failure(
            description=f"run tag {PARTICIPANTS_TAG} names participant(s) not in the roster {roster.path}: "
            f"{', '.join(unknown)}" + (f" (rejected rows: {'; '.join(rejected)})" if rejected else "")
        )
    return sorted(set(named))


def run_local_dates(context) -> list[dt.date]:
    return sorted(dt.date.fromisoformat(key) for key in context.partition_keys)


def participant_days(context, roster: Roster) -> list[ParticipantDayKey]:
    """The participant-days a (possibly ranged) run covers, in (date, participant) order."""
    participants = run_participants(context.run.tags, roster)
    return [ParticipantDayKey(day, p) for day in run_local_dates(context) for p in participants]


def range_tags(participants: str | Iterable[str], first: dt.date, last: dt.date) -> dict[str, str]:
    """Run tags that make one run cover the local days [first, last] of the given participant(s)."""
    ids = [participants] if isinstance(participants, str) else sorted(participants)
    return {
        RANGE_START_TAG: first.isoformat(),
        RANGE_END_TAG: last.isoformat(),
        PARTICIPANTS_TAG: ",".join(ids),
    }


# A backfill runs as runs of at most this many days (each for every participant it covers): a week or two from the UI
# is one run, a study's first month two runs side by side (the instance runs two at a time, one per core), a year 25.
DAYS_PER_BACKFILL_RUN = 15
# Dagster's UI labels the partitions "Daily, starting <date> UTC." (its text for a DailyPartitionsDefinition, made
# in the webserver from the definition's snapshot: no subclass or setting reaches it), so each asset's description
# says what a partition is.
PARTITION_MEANING = (
    "Partitions: one per local day, each participant's own calendar day in their roster time zone (the UTC in "
    "Dagster's \"Daily ... UTC\" label is not the participants'); a run's fitbit/participants tag names whom it "
    f"covers (none: the whole roster); a backfill runs as runs of at most {DAYS_PER_BACKFILL_RUN} days each."
)


def participant_day_asset(*, description: str, **spec):
    """The decorator of every pipeline asset: one partition per local day, a range of days in one run."""
    return dg.asset(
        partitions_def=local_day_partitions,
        backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=DAYS_PER_BACKFILL_RUN),
        description=f"{description.rstrip()}\n\n{PARTITION_MEANING}", **spec,
    )
