"""The participant roster: the source of truth for who is in the study and where their data comes from.

CSV columns: ``participant_id,seed,timezone,enrolled_on,source`` and an optional ``wear_profile``
(``typical`` or ``low_wear``, synthetic participants only). Optional ``takeout_timestamps`` (``local``, the
default, or ``utc``) says how to read the disputed timestamps of this participant's Takeout heart-rate files
(docs/real-exports.md). Optional ``fitabase_id`` (default: the participant_id) is the participant's
Fitabase ``Id``: rows of study-wide Fitabase files in ``landing/fitabase/`` are routed by it. Optional ``site``
(the study site; coordinators of the HTTP API see the participants of their sites only). Bad rows are reported,
never loaded.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fitbit_assets.domain.local_days import LocalDay

PARTICIPANT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
SITE_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
REQUIRED_COLUMNS = ("participant_id", "seed", "timezone", "enrolled_on", "source")
GOOGLE_HEALTH = "google_health"  # the source of participants whose data the Google Health API gives
SOURCES = ("synthetic", "landing", GOOGLE_HEALTH)
WEAR_PROFILES = ("typical", "low_wear")
TAKEOUT_TIMESTAMPS = ("local", "utc")


@dataclass(frozen=True)
class Participant:
    participant_id: str
    seed: int
    timezone: str
    enrolled_on: dt.date
    source: str
    wear_profile: str = "typical"
    takeout_timestamps: str = "local"
    fitabase_id: str = ""  # empty: the participant_id
    site: str = ""  # empty: no site (only data engineers see the participant in the API)

    def __post_init__(self) -> None:
        if not self.fitabase_id:
            object.__setattr__(self, "fitabase_id", self.participant_id)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class RosterError:
    line: int
    participant_id: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line} ({self.participant_id!r}): {self.reason}"


@dataclass(frozen=True)
class Roster:
    path: Path
    participants: tuple[Participant, ...]
    errors: tuple[RosterError, ...]

    @cached_property
    def _by_id(self) -> dict[str, Participant]:
        return {participant.participant_id: participant for participant in self.participants}

    def get(self, participant_id: str) -> Participant:
        # A dict, not a scan: runs look participants up once per participant-day (1,000 x days per asset).
        if participant_id in self._by_id:
            return self._by_id[participant_id]
        raise UnknownParticipantError(
            f"participant {participant_id!r} is not a valid row of the roster {self.path}"
            + (f" (roster errors: {'; '.join(map(str, self.errors))})" if self.errors else "")
        )

    def local_day(self, key) -> LocalDay:
        """The local day of a participant-day key (``partitions.ParticipantDayKey``) in the participant's zone."""
        return LocalDay(key.local_date, self.get(key.participant_id).timezone)

    @property
    def participant_ids(self) -> list[str]:
        return [p.participant_id for p in self.participants]


class RosterNotFoundError(FileNotFoundError):
    """No roster file at the configured path (a fresh checkout, or FITBIT_ROSTER_PATH pointing elsewhere)."""


class UnknownParticipantError(KeyError):
    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


def landing_datasets() -> frozenset[str]:
    """The folders the pipeline keeps its own day files in, ``landing/<dataset>/<participant>/``."""
    # Imported here: the heart-rate and metric modules import this one.
    from fitbit_assets.domain.heart_rate import HEART_RATE
    from fitbit_assets.domain.metrics import FAMILIES
    from fitbit_assets.domain.sources import COHORT_DIR, STAGED_DATASETS

    # COHORT_DIR holds study-wide exports; STAGED_DATASETS includes datasets staged before their family exists;
    # GOOGLE_HEALTH the raw API responses.
    return frozenset({HEART_RATE, COHORT_DIR, GOOGLE_HEALTH, *STAGED_DATASETS, *(family.name for family in FAMILIES)})


def _parse_row(row: dict[str, str]) -> Participant:
    participant_id = (row.get("participant_id") or "").strip()
    if not PARTICIPANT_ID_PATTERN.match(participant_id):
        raise ValueError(f"participant_id must match {PARTICIPANT_ID_PATTERN.pattern}")
    # A participant's exports live in landing/<participant_id>/: with a dataset's name that folder would be the one
    # holding every participant's day files of that dataset. Case-insensitive for case-insensitive file systems.
    if participant_id.lower() in landing_datasets():
        raise ValueError(
            f"participant_id {participant_id!r} is reserved: landing/{participant_id}/ holds the pipeline's own "
            f"day files (reserved: {', '.join(sorted(landing_datasets()))})"
        )
    try:
        seed = int(row["seed"])
    except (TypeError, ValueError):
        raise ValueError(f"seed {row.get('seed')!r} is not an integer") from None
    timezone = (row.get("timezone") or "").strip()
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"timezone {timezone!r} is not an IANA timezone") from None
    try:
        enrolled_on = dt.date.fromisoformat((row.get("enrolled_on") or "").strip())
    except ValueError:
        raise ValueError(f"enrolled_on {row.get('enrolled_on')!r} is not a YYYY-MM-DD date") from None
    source = (row.get("source") or "").strip()
    if source not in SOURCES:
        raise ValueError(f"source {source!r} must be one of {', '.join(SOURCES)}")
    wear_profile = (row.get("wear_profile") or "typical").strip()
    if wear_profile not in WEAR_PROFILES:
        raise ValueError(f"wear_profile {wear_profile!r} must be one of {', '.join(WEAR_PROFILES)}")
    takeout_timestamps = (row.get("takeout_timestamps") or "local").strip()
    if takeout_timestamps not in TAKEOUT_TIMESTAMPS:
        raise ValueError(f"takeout_timestamps {takeout_timestamps!r} must be one of {', '.join(TAKEOUT_TIMESTAMPS)}")
    fitabase_id = (row.get("fitabase_id") or "").strip() or participant_id
    if not PARTICIPANT_ID_PATTERN.match(fitabase_id):
        raise ValueError(f"fitabase_id {fitabase_id!r} must match {PARTICIPANT_ID_PATTERN.pattern}")
    site = (row.get("site") or "").strip()
    if site and not SITE_PATTERN.match(site):
        raise ValueError(f"site {site!r} must match {SITE_PATTERN.pattern}")
    return Participant(
        participant_id, seed, timezone, enrolled_on, source, wear_profile, takeout_timestamps, fitabase_id, site
    )


def read_roster(path: Path) -> Roster:
    """Parse the roster; every bad row becomes a ``RosterError`` and is left out."""
    path = Path(path)
    if not path.exists():
        raise RosterNotFoundError(
            f"roster file {path} does not exist: set FITBIT_ROSTER_PATH to the study's roster, or run "
            "`fitbit-assets demo` (make demo) to write a demo roster there"
        )
    participants: list[Participant] = []
    errors: list[RosterError] = []
    seen: set[str] = set()
    fitabase_ids: dict[str, str] = {}  # each Fitabase Id routes to one participant
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        # csv.reader, not DictReader: it returns blank lines (DictReader skips them), so the line a record starts
        # on is always the line after the previous record's last one, also for quoted fields spanning lines.
        header = next(reader, [])
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise ValueError(f"roster {path} lacks columns {missing}; expected {list(REQUIRED_COLUMNS)}")
        line = reader.line_num + 1
        for values in reader:
            first_line, line = line, reader.line_num + 1
            if not values:
                continue
            row = dict(zip(header, values))
            participant_id = (row.get("participant_id") or "").strip()
            try:
                participant = _parse_row(row)
            except ValueError as exc:
                errors.append(RosterError(first_line, participant_id, str(exc)))
                continue
            if participant.participant_id in seen:
                errors.append(RosterError(first_line, participant_id, "duplicate participant_id"))
                continue
            if participant.fitabase_id in fitabase_ids:
                errors.append(RosterError(first_line, participant_id, f"duplicate fitabase_id {participant.fitabase_id!r} "
                                          f"(also participant {fitabase_ids[participant.fitabase_id]!r})"))
                continue
            seen.add(participant.participant_id)
            fitabase_ids[participant.fitabase_id] = participant.participant_id
            participants.append(participant)
    return Roster(path, tuple(participants), tuple(errors))


def write_roster(path: Path, participants: list[Participant]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([*REQUIRED_COLUMNS, "wear_profile", "takeout_timestamps", "fitabase_id", "site"])
        for p in participants:
            writer.writerow(
                [p.participant_id, p.seed, p.timezone, p.enrolled_on.isoformat(), p.source, p.wear_profile,
                 p.takeout_timestamps, p.fitabase_id, p.site]
            )
