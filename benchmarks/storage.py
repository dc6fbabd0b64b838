"""4. Storage: bytes per heart-rate sample of the year of section 3 on plain PostgreSQL and on a native TimescaleDB
(loaded by section 6), before and after compression."""

from __future__ import annotations

from benchmarks.report import Section, Table, fmt_bytes, fmt_int
from benchmarks.sizes import Sizes


def storage_section(storage_rows: list[tuple], sizes: Sizes) -> Section:
    table = Table(["layout", "samples", "bytes on disk (table + indexes)", "bytes / sample", "detail"])
    for label, rows, size, detail in storage_rows:
        if rows is None:
            table.add(label, "-", "-", "not measured", detail)
        else:
            size = float(size)
            table.add(label, fmt_int(rows), fmt_bytes(size), f"{size / rows:.1f}", detail)
    return Section(
        "4. Storage: bytes per heart-rate sample",
        f"The same {sizes.year_days} days of one participant (section 3): `pg_total_relation_size` on plain "
        "PostgreSQL, `hypertable_size` on TimescaleDB (loaded by the production COPY in section 6), before and after "
        "`compress_chunk`.",
        [("", table)],
        ["A row is (participant_id text, ts timestamptz, bpm smallint): 24-byte tuple header + 4-byte line pointer "
         "+ ~20 bytes of data; the PK btree repeats participant_id and ts."],
    )
