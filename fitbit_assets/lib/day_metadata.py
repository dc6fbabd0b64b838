"""Each day's own materialization metadata: a run covering many days and participants reports, on every day, what
it did for that day (Dagster attaches partition-scoped metadata to that partition's event only)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import dagster as dg

LISTED = 50  # participants named per day and list; the counts stay exact


class DayTally:
    """Counts and named participants per local day of a run."""

    def __init__(self, dates: Iterable[dt.date], **fixed: object):
        # fixed: the same value on every day (e.g. the backend, the adherence settings the day was judged with)
        self._counts: dict[dt.date, dict[str, int]] = {day: {} for day in dates}
        self._lists: dict[dt.date, dict[str, list[str]]] = {day: {} for day in dates}
        self._fixed = fixed

    def add_run_values(self, **values: object) -> None:
        """Values of the whole run (e.g. export files spanning many days), on every day as ``run_<name>``."""
        self._fixed.update({f"run_{name}": value for name, value in values.items()})

    def count(self, day: dt.date, name: str, amount: int = 1) -> None:
        counts = self._counts[day]
        counts[name] = counts.get(name, 0) + amount

    def name(self, day: dt.date, name: str, item: str) -> None:
        """Count ``name`` and keep ``item`` (a participant and why) in the day's list of that name."""
        self.count(day, name)
        items = self._lists[day].setdefault(name, [])
        if len(items) < LISTED:
            items.append(item)

    def metadata(self, day: dt.date, names: Iterable[str]) -> dict[str, object]:
        counts, lists = self._counts[day], self._lists[day]
        values: dict[str, object] = {"local_date": day.isoformat()}
        for name in names:
            values[name] = counts.get(name, 0)
            if name in lists:
                values[f"{name}_list"] = lists[name]
        return {**values, **self._fixed}

    def report(self, context: dg.AssetExecutionContext, names: Iterable[str]) -> dg.MaterializeResult:
        """Attach each day's metadata to its own materialization; the result carries none of the run's totals."""
        names = list(names)
        for day in self._counts:
            context.add_asset_metadata(self.metadata(day, names), partition_key=day.isoformat())
        return dg.MaterializeResult()

    def total(self, name: str) -> int:
        return sum(counts.get(name, 0) for counts in self._counts.values())
