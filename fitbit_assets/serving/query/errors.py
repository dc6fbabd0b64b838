"""What the query layer raises for a request it cannot answer; the API maps them to 422 and 404."""

from __future__ import annotations

import datetime as dt


class QueryError(ValueError):
    """A request the layer cannot answer as asked (bad range, too many points): the caller's fault."""


class UnknownParticipant(LookupError):
    pass


def check_day_range(start: dt.date, end: dt.date) -> None:
    """Day ranges are inclusive at both ends, so a one-day range has start == end."""
    if end < start:
        raise QueryError("end must not be before start")
