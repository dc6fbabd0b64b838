"""Union of one participant-day's rows from several exports of the same format (overlapping or re-sent downloads).

Rules (docs/real-exports.md): a row present in several files is kept once; an exact duplicate row inside
one file is dropped and counted; two different values for the same key (timestamp, date, sleep minute) are a
conflict that fails that participant-day only, naming both files and lines; rows are sorted by key. On a DST
fall-back day the repeated local hour is resolved per file from file order first (a step back in wall-clock time
into the repeated hour starts the second pass, as ``local_days.fall_back_fold`` reads it), so such a file must be
in order apart from that one step; otherwise the day is refused with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from fitbit_assets.domain.local_days import LocalDay, constant_utc_offset, fall_back_fold
from fitbit_assets.domain.sources.samples import describe_rows


class DayRefused(ValueError):
    """A participant-day the exports cannot give unambiguously; ``rows`` are ``file:line`` references."""

    def __init__(self, rule: str, reason: str, rows: list[str]):
        self.rule = rule
        self.reason = reason
        self.rows = rows
        super().__init__(f"{reason}{describe_rows(rows)}")


@dataclass
class UnionStats:
    duplicates_in_file: int = 0  # exact duplicate rows inside one file, dropped
    overlapping_rows: int = 0  # rows also present in another file, kept once
    files: list[str] = field(default_factory=list)


def union_rows(
    pieces: list[tuple[str, pd.DataFrame]], key: list[str], values: list[str], key_name: str | None = None
) -> tuple[pd.DataFrame, UnionStats]:
    """(file name, rows with ``key`` + ``values`` + ``line``) -> the rows once each, sorted by key (stable).

    Raises ``DayRefused`` when one key has different values, naming every file:line of the clash.
    """
    stats = UnionStats(files=list(dict.fromkeys(name for name, _ in pieces)))
    frames = [frame.assign(file=name) for name, frame in pieces if not frame.empty]
    if not frames:
        return pd.DataFrame(columns=[*key, *values, "line", "file"]), stats
    rows = pd.concat(frames, ignore_index=True)
    same = rows.duplicated([*key, *values], keep="first")
    in_file = rows.duplicated(["file", *key, *values], keep="first")
    stats.duplicates_in_file = int(in_file.sum())
    stats.overlapping_rows = int((same & ~in_file).sum())
    rows = rows[~same]
    clash = rows.duplicated(key, keep=False)
    if clash.any():
        first = rows[clash].sort_values(key, kind="stable")
        first_key = first.iloc[0][key]
        group = first[(first[key] == first_key).all(axis=1)]
        shown = ", ".join(
            f"{'/'.join(str(v) for v in vals if not pd.isna(v))} ({f} line {ln})"
            for vals, f, ln in zip(group[values].itertuples(index=False), group["file"], group["line"])
        )
        what = (f"local time {group['local_time'].iloc[0]}" if "local_time" in group
                else ", ".join(f"{k}={first_key[k]}" for k in key))
        raise DayRefused(
            "export.conflicting_values",
            f"{clash.sum()} row(s) give different {'/'.join(values)} for the same {key_name or '/'.join(key)}, "
            f"e.g. {what}: {shown}; "
            "keep the export that is right and remove or fix the other",
            [f"{f}:{ln}" for f, ln in zip(first["file"], first["line"])],
        )
    return rows.sort_values(key, kind="stable").reset_index(drop=True), stats


def heart_rate_day(pieces: list[tuple[str, pd.DataFrame]], day: LocalDay) -> tuple[pd.DataFrame, UnionStats]:
    """Samples (``local_time, bpm, confidence, line``) of one local day from several files -> one ordered frame."""
    zone = ZoneInfo(day.timezone)
    fall_back = day.seconds > 86_400 and constant_utc_offset(day, zone) is None
    keyed = []
    for name, samples in pieces:
        frame = samples[["local_time", "bpm", "confidence", "line"]].reset_index(drop=True)
        if fall_back:
            # File order decides the repeated hour: allowed is one step back, into the repeated hour.
            first_pass = fall_back_fold(frame["local_time"], zone)
            steps_back = np.flatnonzero((frame["local_time"].diff() < pd.Timedelta(0)).to_numpy())
            second_pass = np.flatnonzero(~first_pass)
            stray = [i for i in steps_back if not (second_pass.size and i == second_pass[0])]
            if stray:
                raise DayRefused(
                    "export.fall_back_order",
                    f"{day.local_date} is a DST fall-back day in {day.timezone}: file order decides which of the two "
                    f"repeated hours a time belongs to, and {name} is out of order; re-export it in time order",
                    [f"{name}:{frame['line'][i]}" for i in stray],
                )
            instant = frame["local_time"].dt.tz_localize(zone, ambiguous=first_pass, nonexistent="NaT")
            frame["key"] = instant.dt.tz_convert("UTC").dt.tz_localize(None)
        else:
            frame["key"] = frame["local_time"]
        keyed.append((name, frame))
    rows, stats = union_rows(keyed, ["key"], ["bpm", "confidence"], "timestamp")
    return rows.drop(columns=["key", "file"]), stats

