"""Partitions: the participant's local calendar day x participant.

Participants are a dynamic dimension so a coordinator adds one to the roster and the sensor registers
it without a deploy. Every multi-partitioned asset handles a range of keys (single-run backfills).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import dagster as dg

from fitbit_assets import settings

# Read when the code location loads: FITBIT_STUDY_START, else the roster's earliest enrolment (settings).
STUDY_START = settings.study_start_date(settings.load())
participant_partitions = dg.DynamicPartitionsDefinition(name="participant")
date_partitions = dg.DailyPartitionsDefinition(start_date=STUDY_START.isoformat(), end_offset=0)
participant_day_partitions = dg.MultiPartitionsDefinition({"date": date_partitions, "participant": participant_partitions})


@dataclass(frozen=True, order=True)
class ParticipantDayKey:
    local_date: dt.date
    participant_id: str

    @classmethod
    def parse(cls, key: str | dg.MultiPartitionKey) -> "ParticipantDayKey":
        if not isinstance(key, dg.MultiPartitionKey):
            date_part, participant_part = str(key).split("|", 1)
            key = dg.MultiPartitionKey({"date": date_part, "participant": participant_part})
        by_dimension = key.keys_by_dimension
        return cls(dt.date.fromisoformat(by_dimension["date"]), by_dimension["participant"])

    @property
    def key(self) -> str:
        # MultiPartitionKey orders dimensions by name: "date|participant".
        return f"{self.local_date.isoformat()}|{self.participant_id}"

    def __str__(self) -> str:
        return f"{self.participant_id}/{self.local_date.isoformat()}"


def participant_days(context) -> list[ParticipantDayKey]:
    """The partitions a (possibly ranged) run covers, in (date, participant) order."""
    return sorted(ParticipantDayKey.parse(key) for key in context.partition_keys)


def range_tags(
    participant_id: str, first: dt.date, last: dt.date, *, through_participant: str | None = None
) -> dict[str, str]:
    """Run tags that make one run cover the days [first, last] of one participant, or of the participants from
    ``participant_id`` through ``through_participant`` in registration order (a rectangle of the multi-partitions:
    Dagster expands a range dimension by dimension)."""
    return {
        "dagster/asset_partition_range_start": ParticipantDayKey(first, participant_id).key,
        "dagster/asset_partition_range_end": ParticipantDayKey(last, through_participant or participant_id).key,
    }


def participant_day_asset(**spec):
    """The decorator of every pipeline asset: one partition per participant-day, any backfill in one run."""
    return dg.asset(partitions_def=participant_day_partitions, backfill_policy=dg.BackfillPolicy.single_run(), **spec)
