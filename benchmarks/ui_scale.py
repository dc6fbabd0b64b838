"""Benchmark of the Dagster UI at study scale: what the UI's GraphQL costs once a study has run for a while.

    python -m benchmarks.ui_scale --sizes 100x365,300x730,500x1095   # updates "UI at study scale" in RESULTS.md
    python -m benchmarks.ui_scale --quick                            # CI smoke run: a tiny size plus the check
                                                                      # that bulk-built rows equal Dagster's own

Per size (participants x days), in a child process with the size's environment (FITBIT_STUDY_START = the first
day, so the partition space is exactly the size):
1. The job runs once for real (``execute_in_process``) on a template instance over a tiny partition set: 1
   participant x 2 days when the job has a dynamic participant dimension, else 2 days. Its event log is the
   template of "what a run leaves".
2. A fresh instance on the project's own instance file (dagster.yaml: runs and events in an embedded
   PostgreSQL) gets N registered participants and the template run cloned for every partition key of every asset
   and check the template touched: one run per participant (or per day chunk without a participant dimension),
   each with the run-level events once and the per-partition events once per key, partition/run/storage ids and
   timestamps rewritten, ``--failed-checks`` of the partitioned check evaluations turned into failures. Rows go
   in with COPY into ``event_logs``, ``asset_event_tags`` and ``asset_check_executions`` exactly as Dagster's SQL
   storage fills them for those events (``--verify`` / ``--quick`` compares with a real run's rows); runs,
   snapshots, dynamic partitions and ``asset_keys`` are written through Dagster's own storage methods.
3. ``dagster-webserver`` serves that instance with the project's workspace.yaml, and the GraphQL documents the
   pinned UI sends (read from the installed dagster-webserver's source maps, fragments included) are timed over
   HTTP, each with a timeout recorded as "> T s".

Nothing here depends on the partitioning design: partitions come from the code location's Definitions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import hashlib
import io
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.report import Section, Table, fmt_s, log, machine, update_section

ROOT = Path(__file__).resolve().parent.parent
SECTION_TITLE = "UI at study scale"
JOB = "pipeline_job"
ASSET = "heart_rate_rows"  # the asset page that is timed
CHECKS = ("validated_heart_rate_schema", "daily_adherence_valid_day")  # the check partition view: first one present
PARTICIPANT_PREFIX = "uis-p"
TIMEZONE = "America/New_York"
TEMPLATE_DAYS = 2
QUICK_SIZES = ((2, 3),)
STATE_DEFAULT = ROOT / ".state" / "bench-ui-scale"
INSTANCE_FILE = ROOT / "dagster.yaml"


# --- the UI's GraphQL, as the pinned dagster-webserver ships it ------------------------------------------------

def ui_documents(names: set[str]) -> dict[str, str]:
    """The named operations of the installed Dagster UI with the fragments they use, from its source maps
    (the ``gql`` literals of ui-core); ``${...}`` interpolations are fragment constants, found by name instead."""
    from graphql import parse, print_ast
    from graphql.language import FragmentSpreadNode, visit, Visitor

    import dagster_webserver

    chunks = Path(dagster_webserver.__file__).parent / "webapp" / "build" / "_next" / "static" / "chunks"
    definitions = {}
    for source_map in glob.glob(str(chunks / "**" / "*.js.map"), recursive=True):
        data = json.loads(Path(source_map).read_text())
        for content in data.get("sourcesContent") or []:
            for literal in re.findall(r"gql`(.*?)`", content or "", re.S):
                text = re.sub(r"\$\{[^}]*\}", "", literal)
                try:
                    document = parse(text)
                except Exception:  # noqa: BLE001 - not every literal is a standalone document
                    continue
                for definition in document.definitions:
                    if getattr(definition, "name", None) is not None:
                        definitions.setdefault(definition.name.value, definition)

    class Spreads(Visitor):
        def __init__(self):
            super().__init__()
            self.found = set()

        def enter_fragment_spread(self, node: FragmentSpreadNode, *_):
            self.found.add(node.name.value)

    out = {}
    for name in names:
        if name not in definitions:
            raise SystemExit(f"the installed Dagster UI has no GraphQL operation {name!r} ({chunks})")
        wanted, todo = [], [name]
        while todo:
            current = todo.pop()
            if current in wanted:
                continue
            wanted.append(current)
            spreads = Spreads()
            visit(definitions[current], spreads)
            todo += sorted(spreads.found - set(wanted))
        out[name] = "\n\n".join(print_ast(definitions[n]) for n in wanted)
    return out


UI_OPERATIONS = {
    "PartitionHealthQuery", "AssetCatalogTableQuery", "AssetGraphLiveQuery", "AssetCheckPartitionHealthQuery",
    "AssetPartitionDetailQuery", "AddDynamicPartitionMutation", "LaunchPipelineExecution",
}
# The field the catalog shows per asset, on its own (the catalog's live data also asks for check statuses).
PARTITION_STATS_QUERY = """
query PartitionStats($assetKeys: [AssetKeyInput!]!) {
  assetNodes(assetKeys: $assetKeys) { id partitionStats { numMaterialized numMaterializing numPartitions numFailed } }
}
"""


# --- sizes and the environment of one size ---------------------------------------------------------------------

@dataclass(frozen=True)
class Size:
    participants: int
    days: int

    @property
    def label(self) -> str:
        return f"{self.participants}x{self.days}"

    @classmethod
    def parse(cls, text: str) -> "Size":
        participants, days = text.lower().split("x")
        return cls(int(participants), int(days))


def first_day(size: Size) -> dt.date:
    """The study start that makes the partition space exactly the size: the last day is yesterday (UTC)."""
    return dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=size.days)


def participant_ids(n: int) -> list[str]:
    return [f"{PARTICIPANT_PREFIX}{i:04d}" for i in range(n)]


def prepare_instance_dir(folder: Path, participants: list[str], study_start: dt.date) -> dict[str, str]:
    """A fresh state folder + DAGSTER_HOME with the project's local instance file; returns its environment."""
    from fitbit_assets.domain.roster import Participant, write_roster

    if folder.exists():
        from fitbit_assets.warehouse.embedded_server import stop_server

        stop_server(folder / "pgdata")
        shutil.rmtree(folder)
    home = folder / "dagster_home"
    home.mkdir(parents=True)
    shutil.copy(INSTANCE_FILE, home / "dagster.yaml")
    write_roster(folder / "roster.csv",
                 [Participant(pid, 1000 + i, TIMEZONE, study_start, "synthetic") for i, pid in enumerate(participants)])
    return {"DAGSTER_HOME": str(home), "FITBIT_STATE_DIR": str(folder), "FITBIT_STUDY_START": study_start.isoformat()}


def open_instance(environment: dict[str, str]):
    import dagster as dg

    os.environ.update(environment)
    return dg.DagsterInstance.from_config(environment["DAGSTER_HOME"])


# --- the partition shapes of the Definitions -------------------------------------------------------------------

def dimension_values(partitions_def, key: str) -> dict[str | None, str]:
    """The key's value per dimension (one unnamed dimension for a plain partitions definition)."""
    import dagster as dg

    if isinstance(partitions_def, dg.MultiPartitionsDefinition):
        return dict(partitions_def.get_partition_key_from_str(key).keys_by_dimension)
    return {None: key}


def keys_for(partitions_def, dates: list[str], participant: str | None) -> list[str]:
    """Every key of ``partitions_def`` a run over ``dates`` (and ``participant``) covers, in Dagster's key order."""
    import dagster as dg

    def values(definition) -> list[str]:
        if isinstance(definition, dg.TimeWindowPartitionsDefinition):
            return dates
        if isinstance(definition, dg.DynamicPartitionsDefinition):
            return [participant] if participant else []
        return list(definition.get_partition_keys())

    if isinstance(partitions_def, dg.MultiPartitionsDefinition):
        dims = partitions_def.partitions_defs
        return [str(dg.MultiPartitionKey({d.name: v for d, v in zip(dims, combo)}))
                for combo in itertools.product(*(values(d.partitions_def) for d in dims))]
    return values(partitions_def)


def dynamic_names(partitions_defs) -> list[str]:
    import dagster as dg

    names = set()
    for definition in partitions_defs:
        inner = ([d.partitions_def for d in definition.partitions_defs]
                 if isinstance(definition, dg.MultiPartitionsDefinition) else [definition])
        names |= {d.name for d in inner if isinstance(d, dg.DynamicPartitionsDefinition)}
    return sorted(names)


def graph_dynamic_names(asset_graph) -> list[str]:
    """The dynamic partitions definitions any asset is partitioned by (registered participants, if any)."""
    return dynamic_names({asset_graph.get(k).partitions_def for k in asset_graph.get_all_asset_keys()
                          if asset_graph.get(k).partitions_def is not None})


# --- step 1: the template run ------------------------------------------------------------------------------

@dataclass
class Template:
    run: object  # DagsterRun
    records: list  # EventLogRecord, in storage order
    job_snapshot: object
    plan_snapshot: object
    dates: list[str]
    participant: str | None
    seconds: float


def run_template(folder: Path, defs, job, study_start: dt.date, dynamic: list[str], roster: list[str]) -> Template:
    """The job once for real over TEMPLATE_DAYS days (x the first participant if partitioned by participant).

    ``folder`` is this process's FITBIT_STATE_DIR: the resources read its roster (``roster``) and warehouse."""
    yesterday = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1)
    dates = [(yesterday - dt.timedelta(days=TEMPLATE_DAYS - i)).isoformat() for i in range(TEMPLATE_DAYS)]
    participant = participant_ids(1)[0] if dynamic else None
    environment = prepare_instance_dir(folder, roster, study_start)
    instance = open_instance(environment)
    for name in dynamic:
        instance.add_dynamic_partitions(name, roster)
    keys = keys_for(job.partitions_def, dates, participant)
    tags = {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]}
    quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
    started = time.perf_counter()
    result = job.execute_in_process(instance=instance, tags=tags, run_config=quiet, raise_on_error=False)
    seconds = time.perf_counter() - started
    if not result.success:
        raise SystemExit(f"the template run of {JOB} over {keys[0]} .. {keys[-1]} failed (instance {folder})")
    run = instance.get_run_by_id(result.run_id)
    records = list(instance.get_records_for_run(result.run_id, limit=1_000_000).records)
    return Template(run, records, instance.get_job_snapshot(run.job_snapshot_id),
                    instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id), dates, participant, seconds)


# --- step 2: clone the template into a fresh instance --------------------------------------------------------

class CopyText:
    """Rows as COPY FROM STDIN text (tab-separated, ``\\N`` for NULL, backslash escapes)."""

    def __init__(self):
        self.buffer = io.StringIO()

    def writerow(self, row) -> None:
        self.buffer.write("\t".join("\\N" if v is None else copy_escaped(str(v)) for v in row) + "\n")


def copy_escaped(text: str) -> str:
    if "\\" in text:
        text = text.replace("\\", "\\\\")
    return text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def utc_naive(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).replace(tzinfo=None).isoformat(sep=" ")


@dataclass
class EventTemplate:
    """One template event as text pieces between the tokens a clone rewrites."""
    record: object
    pieces: list[str]  # even indexes: literal text; odd: a token
    partition_values: dict[str | None, str] | None  # the template key's dimension values, for per-partition events
    partitions_def: object | None
    check: tuple[str, str] | None  # (asset key string, check name) for check events
    passed: bool | None
    subset_asset: object | None  # AssetKey whose partitions a planned subset covers
    # The row's columns and what the storage indexes, read once (Dagster's event properties are slow per clone).
    event_type: str | None
    asset_key: str | None
    step_key: str | None
    has_partition: bool
    is_run_event: bool
    is_check_planned: bool
    asset_tags: list[tuple[str, str]] | None  # asset_event_tags of an asset event, else None
    clone_of: tuple  # (event type, AssetKey): what a storage id in another event's body points at


@dataclass
class Loaded:
    events: int = 0
    tags: int = 0
    check_rows: int = 0
    runs: int = 0


def build_state(instance, defs, template: Template, size: Size, days_per_run: int, failed_checks: float) -> Loaded:
    """The template run cloned for every key of the size into ``instance`` (empty but for its schema)."""
    import dagster as dg
    import psycopg2
    from dagster._core.definitions.partitions.subset.default import DefaultPartitionsSubset
    from dagster._core.events import DagsterEventType
    from dagster._core.events.log import EventLogEntry
    from dagster._serdes import deserialize_value, serialize_value
    from dagster._time import datetime_from_timestamp

    asset_graph = defs.resolve_asset_graph()
    storage = instance.event_log_storage
    run_id_t = template.run.run_id
    records = template.records
    # Per-partition events are cloned from the template's first key of their partitions definition only.
    template_keys: dict[object, set[str]] = defaultdict(set)
    for record in records:
        event = record.event_log_entry.dagster_event
        if event and event.partition and event.asset_key:
            template_keys[id(asset_graph.get(event.asset_key).partitions_def)].add(event.partition)
    first_key = {definition: min(keys) for definition, keys in template_keys.items()}
    asset_events = (DagsterEventType.ASSET_MATERIALIZATION, DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
                    DagsterEventType.ASSET_OBSERVATION)

    token = re.compile(r'("timestamp": [0-9.e+-]+|"storage_id": \d+|"success": true|' + re.escape(run_id_t) + ")")
    dims_pattern_cache: dict[tuple, re.Pattern] = {}
    templates: list[EventTemplate] = []
    for record in records:
        entry = record.event_log_entry
        event = entry.dagster_event
        text = serialize_value(entry)
        partition = event.partition if event else None
        values = definition = check = passed = subset_asset = None
        if event and event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION:
            data = event.event_specific_data
            check = (data.asset_key.to_string(), data.check_name)
            passed = data.passed
            if data.partition:
                definition = asset_graph.get(data.asset_key).partitions_def
                partition = data.partition
        elif event and event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED:
            data = event.event_specific_data
            check = (data.asset_key.to_string(), data.check_name)
            subset_asset = data.asset_key if data.partitions_subset is not None else None
        elif partition and event.asset_key:
            definition = asset_graph.get(event.asset_key).partitions_def
        elif event and getattr(event.event_specific_data, "partitions_subset", None) is not None:
            subset_asset = event.asset_key
        if partition:
            if partition != first_key.get(id(definition), partition):
                continue  # another template key: its events are the first key's, cloned per key
            values = dimension_values(definition, partition)
            literal = tuple(v for v in values.values())
            if literal not in dims_pattern_cache:
                dims_pattern_cache[literal] = re.compile(
                    token.pattern[:-1] + "".join("|" + re.escape(v) for v in literal) + ")")
            pieces = dims_pattern_cache[literal].split(text)
        else:
            pieces = token.split(text)
        is_asset_event = bool(event and event.asset_key and event.event_type in asset_events)
        templates.append(EventTemplate(
            record, pieces, values, definition, check, passed, subset_asset,
            event_type=event.event_type_value if event else None,
            asset_key=event.asset_key.to_string() if event and event.asset_key else None,
            step_key=event.step_key if event else entry.step_key,
            has_partition=bool(event and event.partition),
            is_run_event=bool(event and event.is_job_event),
            is_check_planned=bool(event and event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED),
            asset_tags=list(storage._tags_for_asset_event(entry).items()) if is_asset_event else None,
            clone_of=(entry.dagster_event_type, event.asset_key if event else None)))

    # Storage ids in event bodies (a check's target materialization) point at (event type, asset) of the run.
    template_targets = {r.storage_id: (r.event_log_entry.dagster_event_type,
                                       r.event_log_entry.dagster_event.asset_key if r.event_log_entry.dagster_event
                                       else None) for r in records}
    dates = [(first_day(size) + dt.timedelta(days=i)).isoformat() for i in range(size.days)]
    participants = participant_ids(size.participants) if template.participant else [None]
    chunks = [dates[i:i + days_per_run] for i in range(0, len(dates), days_per_run)]
    runs = [(p, chunk) for p in participants for chunk in chunks]
    t_start = records[0].event_log_entry.timestamp
    t_span = records[-1].event_log_entry.timestamp - t_start + 1.0
    job_pdef = instance_job_partitions(defs)

    for name in graph_dynamic_names(asset_graph):
        instance.add_dynamic_partitions(name, [p for p in participants if p])
    instance.run_storage.add_snapshot(template.job_snapshot)
    instance.run_storage.add_snapshot(template.plan_snapshot)

    url = storage.postgres_url.replace("postgresql+psycopg2://", "postgresql://")
    conn = psycopg2.connect(url)
    conn.autocommit = False
    loaded = Loaded()
    event_id = 0
    run_events: list[tuple[str, str, float]] = []  # (run id, serialized run-level event, timestamp)
    last_asset_events: dict[str, dict[str, tuple[int, str]]] = defaultdict(dict)  # asset -> type -> (id, event)

    def flush(buffers):
        with conn.cursor() as cur:
            for table, columns, text in buffers:
                text.buffer.seek(0)
                cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", text.buffer)
        conn.commit()

    event_columns = ["id", "run_id", "event", "dagster_event_type", "timestamp", "step_key", "asset_key", "partition"]
    tag_columns = ["event_id", "asset_key", "key", "value", "event_timestamp"]
    check_columns = ["asset_key", "check_name", "partition", "run_id", "execution_status", "evaluation_event",
                     "evaluation_event_timestamp", "evaluation_event_storage_id", "materialization_event_storage_id",
                     "create_timestamp"]

    for index, (participant, chunk) in enumerate(runs):
        run_id = str(uuid.uuid4())
        offset = (index - len(runs)) * t_span
        events_w, tags_w, checks_w = CopyText(), CopyText(), CopyText()
        cloned_ids: dict[tuple, dict[str | None, int]] = defaultdict(dict)  # (type, asset) -> key -> new id
        last_clone: dict[tuple, int] = {}  # (type, asset) -> this run's last new id
        check_rows: dict[tuple, list] = {}  # (asset, check, partition) -> row, in insertion order
        keys_cache: dict[int, list[str]] = {}
        values_cache: dict[str, dict[str | None, str]] = {}

        def run_keys(definition) -> list[str]:
            if id(definition) not in keys_cache:
                keys_cache[id(definition)] = keys_for(definition, chunk, participant)
            return keys_cache[id(definition)]

        for template_event in templates:
            entry = template_event.record.event_log_entry
            if template_event.partition_values is not None:
                targets = run_keys(template_event.partitions_def)
            else:
                targets = [None]
            for key in targets:
                event_id += 1
                replacements = {}
                if key is not None:
                    if key not in values_cache:
                        values_cache[key] = dimension_values(template_event.partitions_def, key)
                    target_values = values_cache[key]
                    replacements = {template_event.partition_values[d]: target_values[d] for d in target_values}
                fails = (key is not None and template_event.passed and failed_checks > 0
                         and stable_fraction(key, template_event.check[1]) < failed_checks)
                new_storage_id = None
                out = []
                for i, piece in enumerate(template_event.pieces):
                    if i % 2 == 0:
                        out.append(piece)
                    elif piece == run_id_t:
                        out.append(run_id)
                    elif piece.startswith('"timestamp": '):
                        out.append('"timestamp": ' + repr(float(piece[13:]) + offset))
                    elif piece.startswith('"storage_id": '):
                        # The same asset's event of the same key in this run; for a run-level event (a check
                        # over the whole run), the asset's last event in this run, which Dagster reads as latest.
                        template_target = int(piece[14:])
                        target = template_targets.get(template_target)
                        clones = cloned_ids.get(target, {})
                        new_storage_id = clones.get(key, last_clone.get(target)) if key else last_clone.get(target)
                        out.append('"storage_id": ' + str(new_storage_id if new_storage_id is not None else template_target))
                    elif piece == '"success": true':
                        out.append('"success": false' if fails else piece)
                    else:
                        out.append(replacements.get(piece, piece))
                text = "".join(out)
                if template_event.subset_asset is not None:  # a planned event over the run's partition subset
                    definition = asset_graph.get(template_event.subset_asset).partitions_def
                    planned_keys = run_keys(definition)
                    data = deserialize_value(text, EventLogEntry)
                    specific = data.dagster_event.event_specific_data
                    original = specific.partitions_subset
                    subset = (DefaultPartitionsSubset(set(planned_keys)) if isinstance(original, DefaultPartitionsSubset)
                              else definition.subset_with_partition_keys(planned_keys).to_serializable_subset())
                    data = replace(data, dagster_event=replace(
                        data.dagster_event, event_specific_data=replace(specific, partitions_subset=subset)))
                    text = serialize_value(data)
                else:
                    planned_keys = None
                timestamp = entry.timestamp + offset
                stamp = utc_naive(timestamp)
                cloned_ids[template_event.clone_of][key] = event_id
                last_clone[template_event.clone_of] = event_id
                asset_key = template_event.asset_key
                events_w.writerow([event_id, run_id, text, template_event.event_type, stamp, template_event.step_key,
                                   asset_key, key if template_event.has_partition else None])
                loaded.events += 1
                if template_event.asset_tags is not None:
                    for tag, value in template_event.asset_tags:
                        tags_w.writerow([event_id, asset_key, tag, replacements.get(value, value), stamp])
                        loaded.tags += 1
                    last_asset_events[asset_key][template_event.event_type] = (event_id, text)
                if template_event.is_run_event:
                    run_events.append((run_id, text, timestamp))
                if template_event.check is not None:
                    asset, check_name = template_event.check
                    if template_event.is_check_planned:
                        for planned in planned_keys or [None]:
                            check_rows[(asset, check_name, planned)] = [
                                asset, check_name, planned, run_id, "PLANNED", text, stamp, event_id, None, stamp]
                    else:
                        status = "SUCCEEDED" if template_event.passed and not fails else "FAILED"
                        row = check_rows.get((asset, check_name, key))
                        if row is None:
                            row = check_rows[(asset, check_name, key)] = [
                                asset, check_name, key, run_id, None, None, None, None, None, stamp]
                        row[4:9] = [status, text, stamp, event_id, new_storage_id]
        for row in check_rows.values():
            checks_w.writerow(row)
            loaded.check_rows += 1
        run = template.run
        new_tags = dict(run.tags)
        job_keys = keys_for(job_pdef, chunk, participant)
        for tag in ("dagster/asset_partition_range_start", "dagster/partition"):
            if tag in new_tags:
                new_tags[tag] = job_keys[0]
        if "dagster/asset_partition_range_end" in new_tags:
            new_tags["dagster/asset_partition_range_end"] = job_keys[-1]
        instance.run_storage.add_run(replace(run, run_id=run_id, tags=new_tags,
                                                  status=dg.DagsterRunStatus.NOT_STARTED))
        flush([("event_logs", event_columns, events_w), ("asset_event_tags", tag_columns, tags_w),
               ("asset_check_executions", check_columns, checks_w)])
        loaded.runs += 1
        if index % max(1, len(runs) // 10) == 0:
            log(f"  run {index + 1}/{len(runs)}: {loaded.events:,} events so far")
    with conn.cursor() as cur:
        cur.execute("SELECT setval(pg_get_serial_sequence('event_logs', 'id'), %s)", (event_id,))
    conn.commit()
    conn.close()
    for run_id, text, timestamp in run_events:
        entry = deserialize_value(text, EventLogEntry)
        instance.run_storage.handle_run_event(run_id, entry.dagster_event, datetime_from_timestamp(timestamp))
    # asset_keys through Dagster's own upsert, with each asset's last planned and materialization events in order.
    for asset_key, by_type in last_asset_events.items():
        for event_id_last, text in sorted(by_type.values()):
            storage.store_asset_event(deserialize_value(text, EventLogEntry), event_id_last)
    return loaded


def replace(value, **changes):
    """A copy of a Dagster ``@record`` or NamedTuple with ``changes``."""
    from dagster_shared.record import is_record, replace as replace_record

    return replace_record(value, **changes) if is_record(value) else value._replace(**changes)


def stable_fraction(key: str, check_name: str) -> float:
    """A deterministic number in [0, 1) per (partition, check): which evaluations are made to fail."""
    digest = hashlib.blake2b(f"{check_name}|{key}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") / 2 ** 32


def instance_job_partitions(defs):
    job = defs.resolve_job_def(JOB)
    if job.partitions_def is not None:
        return job.partitions_def
    return defs.resolve_asset_graph().get(asset_key_of(ASSET)).partitions_def


def asset_key_of(name: str):
    import dagster as dg

    return dg.AssetKey(name.split("/"))


# --- step 3: the webserver and the UI's queries ---------------------------------------------------------------

class Webserver:
    """``dagster-webserver`` on an instance, with the project's workspace.yaml; its own session, ended by ``stop``."""

    def __init__(self, environment: dict[str, str], log_path: Path):
        self.environment, self.log_path = environment, log_path
        self.process: subprocess.Popen | None = None
        self.port = 0

    def start(self, timeout_s: float = 300) -> float:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        command = [str(Path(sys.executable).with_name("dagster-webserver")), "-w", str(ROOT / "workspace.yaml"),
                   "-h", "127.0.0.1", "-p", str(self.port)]
        started = time.perf_counter()
        with self.log_path.open("a") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **self.environment}, stdout=out,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        while time.perf_counter() - started < timeout_s:
            if self.process.poll() is not None:
                raise SystemExit(f"dagster-webserver exited with {self.process.returncode}: see {self.log_path}")
            try:
                status = self.graphql("query { workspaceOrError { ... on Workspace { locationEntries { "
                                      "loadStatus locationOrLoadError { __typename } } } } }", {}, timeout_s=10)
                entries = status["data"]["workspaceOrError"]["locationEntries"]
                if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                    if any(e["locationOrLoadError"]["__typename"] != "RepositoryLocation" for e in entries):
                        raise SystemExit(f"the code location did not load: see {self.log_path}")
                    return time.perf_counter() - started
            except (urllib.error.URLError, ConnectionError, TimeoutError, KeyError, TypeError):
                pass
            time.sleep(1)
        raise SystemExit(f"dagster-webserver not ready after {timeout_s} s: see {self.log_path}")

    def graphql(self, query: str, variables: dict, timeout_s: float) -> dict:
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/graphql", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return json.loads(response.read())

    def rss_mb(self) -> float:
        import psutil

        try:
            root = psutil.Process(self.process.pid)
            return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]) / 1e6
        except psutil.NoSuchProcess:
            return float("nan")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass


@dataclass
class Timing:
    seconds: list[float] = field(default_factory=list)
    failure: str | None = None

    def cell(self) -> str:
        parts = [fmt_s(s) for s in self.seconds]
        text = ", ".join(parts) if parts else ""
        if self.failure:
            text = f"{text}; {self.failure}" if text else self.failure
        return text or "-"


def first_error(answer: dict) -> str | None:
    """A GraphQL error, or a result typed as an error (``PythonError``...), anywhere in the answer."""
    if answer.get("errors"):
        return answer["errors"][0].get("message", "error")[:160]

    def walk(value):
        if isinstance(value, dict):
            if str(value.get("__typename", "")).endswith("Error"):
                return str(value.get("message", value["__typename"]))[:160]
            for item in value.values():
                found = walk(item)
                if found:
                    return found
        elif isinstance(value, list):
            for item in value:
                found = walk(item)
                if found:
                    return found
        return None

    return walk(answer.get("data"))


def timed_query(server: Webserver, document: str, variables: dict, timeout_s: float, timing: Timing) -> dict | None:
    started = time.perf_counter()
    try:
        answer = server.graphql(document, variables, timeout_s)
    except (TimeoutError, socket.timeout):
        timing.failure = f"> {timeout_s:.0f} s"
        return None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, (TimeoutError, socket.timeout)):
            timing.failure = f"> {timeout_s:.0f} s"
        else:
            timing.failure = f"error: {exc.reason}"
        return None
    seconds = time.perf_counter() - started
    error = first_error(answer)
    if error:
        timing.failure = f"error after {fmt_s(seconds)} s ({error})"
        return None
    timing.seconds.append(seconds)
    return answer


def with_typename(document: str) -> str:
    """The UI's Apollo client adds ``__typename`` to every selection; errors are then visible as such."""
    from graphql import parse, print_ast
    from graphql.language import FieldNode, NameNode, SelectionSetNode, visit, Visitor

    class AddTypename(Visitor):
        def leave_selection_set(self, node: SelectionSetNode, *_):
            names = {s.name.value for s in node.selections if isinstance(s, FieldNode)}
            if "__typename" in names:
                return None
            return SelectionSetNode(selections=(*node.selections, FieldNode(name=NameNode(value="__typename"))))

    return print_ast(visit(parse(document), AddTypename()))


CASES = [
    ("asset_cold", "asset page, `assetPartitionStatuses` of {asset} (`PartitionHealthQuery`), cold"),
    ("asset_warm", "same, warm (3 times)"),
    ("catalog_list", "catalog list (`AssetCatalogTableQuery`)"),
    ("catalog_stats", "`partitionStats` of every asset (catalog), first time, then warm"),
    ("lineage", "lineage page live data (`AssetGraphLiveQuery`, {assets} assets, {checks} checks), 2 times"),
    ("check", "a check's partition view (`AssetCheckPartitionHealthQuery`, {check}), 2 times"),
    ("partition", "page of one partition (`AssetPartitionDetailQuery`), 3 times"),
    ("new_participant", "asset page right after registering one participant (`AddDynamicPartitionMutation`)"),
    ("launch", "launching one partition run (`LaunchPipelineExecution`)"),
]


def measure_ui(server: Webserver, defs, size: Size, timeout_s: float, has_participants: bool) -> dict:
    import dagster as dg

    docs = {name: with_typename(text) for name, text in ui_documents(UI_OPERATIONS).items()}
    asset_graph = defs.resolve_asset_graph()
    asset_keys = [{"path": list(k.path)} for k in sorted(asset_graph.get_all_asset_keys(), key=lambda k: k.to_string())]
    check_keys = sorted(asset_graph.asset_check_keys, key=lambda k: (k.asset_key.to_string(), k.name))
    check = next((k for name in CHECKS for k in check_keys if k.name == name), check_keys[0] if check_keys else None)
    pdef = asset_graph.get(asset_key_of(ASSET)).partitions_def
    last_date = (first_day(size) + dt.timedelta(days=size.days - 1)).isoformat()
    partition_key = keys_for(pdef, [last_date], participant_ids(1)[0])[0]
    asset_var = {"assetKey": {"path": ASSET.split("/")}}
    timings: dict[str, Timing] = defaultdict(Timing)
    restart = []

    def run(case: str, name: str, variables: dict, times: int = 1, document: str | None = None) -> dict | None:
        answer = None
        for _ in range(times):
            answer = timed_query(server, document or docs[name], variables, timeout_s, timings[case])
            if timings[case].failure:
                if timings[case].failure.startswith(">"):
                    log(f"  {case}: timed out after {timeout_s:.0f} s; restarting the webserver")
                    server.stop()
                    server.start()
                    restart.append(case)
                break
        log(f"  {case}: {timings[case].cell()}")
        return answer

    run("asset_cold", "PartitionHealthQuery", asset_var)
    run("asset_warm", "PartitionHealthQuery", asset_var, times=3)
    run("catalog_list", "AssetCatalogTableQuery", {"limit": 1000})
    run("catalog_stats", "", {"assetKeys": asset_keys}, times=3, document=PARTITION_STATS_QUERY)
    run("lineage", "AssetGraphLiveQuery", {"assetKeys": asset_keys}, times=2)
    if check is not None:
        run("check", "AssetCheckPartitionHealthQuery",
            {"assetKey": {"path": list(check.asset_key.path)}, "checkName": check.name}, times=2)
    run("partition", "AssetPartitionDetailQuery", {**asset_var, "partitionKey": partition_key}, times=3)
    if has_participants:
        names = dynamic_names([pdef])
        selector = {"repositoryLocationName": "fitbit_assets", "repositoryName": "__repository__"}
        answer = server.graphql(docs["AddDynamicPartitionMutation"], {
            "partitionsDefName": names[0], "partitionKey": f"{PARTICIPANT_PREFIX}new",
            "repositorySelector": selector}, timeout_s)
        if first_error(answer):
            timings["new_participant"].failure = f"registering failed: {first_error(answer)}"
        else:
            run("new_participant", "PartitionHealthQuery", asset_var)
    job_keys = keys_for(instance_job_partitions(defs), [last_date], participant_ids(1)[0])
    tags = [{"key": "dagster/partition", "value": job_keys[0]}]
    if isinstance(instance_job_partitions(defs), dg.MultiPartitionsDefinition):
        tags += [{"key": f"dagster/partition/{d}", "value": v}
                 for d, v in dimension_values(instance_job_partitions(defs), job_keys[0]).items()]
    params = {"selector": {"repositoryLocationName": "fitbit_assets", "repositoryName": "__repository__",
                           "pipelineName": JOB}, "runConfigData": {}, "mode": "default",
              "executionMetadata": {"tags": tags}}
    run("launch", "LaunchPipelineExecution", {"executionParams": params})
    return {"timings": {k: dataclass_dict(v) for k, v in timings.items()}, "restarts": restart,
            "assets": len(asset_keys), "checks": len(check_keys), "check": check.name if check else None,
            "rss_mb": server.rss_mb()}


def dataclass_dict(timing: Timing) -> dict:
    return {"seconds": timing.seconds, "failure": timing.failure}


# --- one size, in a child process with its own environment ------------------------------------------------------

def table_bytes(url: str) -> dict[str, int]:
    import psycopg2

    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM event_logs")
            rows = cur.fetchone()[0]
            cur.execute("SELECT pg_database_size(current_database()), pg_total_relation_size('event_logs')")
            database, events = cur.fetchone()
        return {"event_rows": rows, "database_bytes": database, "event_log_bytes": events}
    finally:
        conn.close()


def measure_size(size: Size, state: Path, days_per_run: int | None, failed_checks: float, timeout_s: float,
                 keep: bool) -> dict:
    """Template run, bulk build and UI timings of one size (runs in a child: the Definitions read the size's
    FITBIT_STUDY_START when imported)."""
    study_start = first_day(size)
    os.environ["FITBIT_STUDY_START"] = study_start.isoformat()
    os.environ.pop("FITBIT_WAREHOUSE_DSN", None)  # each instance folder's embedded server holds its warehouse too
    os.environ["FITBIT_STATE_DIR"] = str(state / "template")
    from fitbit_assets.definitions import defs
    from fitbit_assets.warehouse.embedded_server import stop_server

    job = defs.resolve_job_def(JOB)
    asset_graph = defs.resolve_asset_graph()
    dynamic = graph_dynamic_names(asset_graph)
    log(f"{size.label}: template run of {JOB} ({TEMPLATE_DAYS} days{' x 1 participant' if dynamic else ''})")
    template = run_template(state / "template", defs, job, study_start, dynamic, participant_ids(1))
    folder = state / f"instance-{size.label}"
    environment = prepare_instance_dir(folder, participant_ids(size.participants), study_start)
    instance = open_instance(environment)
    log(f"{size.label}: cloning {len(template.records)} template events for every key")
    started = time.perf_counter()
    loaded = build_state(instance, defs, template, size, days_per_run or size.days, failed_checks)
    build_s = time.perf_counter() - started
    url = instance.event_log_storage.postgres_url.replace("postgresql+psycopg2://", "postgresql://")
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE")  # what autovacuum would have done after a year of runs
    conn.close()
    stored = table_bytes(url)
    log(f"{size.label}: built in {build_s:.0f} s: {loaded.events:,} events, {loaded.check_rows:,} check rows, "
        f"{loaded.runs} runs, {stored['database_bytes'] / 1e9:.1f} GB")
    instance.dispose()
    stop_server(state / "template" / "pgdata")
    server = Webserver(environment, folder / "webserver.log")
    try:
        startup = server.start()
        log(f"{size.label}: webserver up in {startup:.0f} s")
        ui = measure_ui(server, defs, size, timeout_s, bool(dynamic))
    finally:
        server.stop()
        stop_server(folder / "pgdata")
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    return {"size": size.label, "participants": size.participants, "days": size.days, "build_s": build_s,
            "template_run_s": template.seconds, "events": loaded.events, "check_rows": loaded.check_rows,
            "tags": loaded.tags, "runs": loaded.runs, "webserver_start_s": startup, **stored, **ui,
            "assets_cloned": len({r.event_log_entry.dagster_event.asset_key for r in template.records
                                  if r.event_log_entry.dagster_event and r.event_log_entry.dagster_event.asset_key}),
            "partitions_per_asset": sum(len(keys_for(asset_graph.get(asset_key_of(ASSET)).partitions_def,
                                                     [f"d{i}" for i in range(size.days)], p))
                                        for p in (participant_ids(size.participants) if dynamic else [None])),
            "dynamic": dynamic}


# --- the check: bulk-built rows against the rows Dagster itself writes ------------------------------------------

def normalized_rows(url: str) -> dict[str, Counter]:
    """Every row the UI reads, without ids, timestamps and values that differ between runs (run ids become the
    run's range start; storage ids the (type, asset, partition, run) of the event they point to; event bodies
    their structure: the field names and the types of their values, lists as lists: their lengths follow the data)."""
    import psycopg2

    conn = psycopg2.connect(url)
    cur = conn.cursor()
    cur.execute("SELECT r.run_id, t.value FROM runs r LEFT JOIN run_tags t ON t.run_id = r.run_id "
                "AND t.key = 'dagster/asset_partition_range_start'")
    run_name = {run_id: start or "-" for run_id, start in cur.fetchall()}
    cur.execute("SELECT id, run_id, dagster_event_type, step_key, asset_key, partition, event FROM event_logs")
    events = cur.fetchall()
    by_id = {row[0]: (row[2], row[4], row[5], run_name.get(row[1])) for row in events}

    def shape(value):
        if isinstance(value, dict):
            return {k: shape(v) for k, v in sorted(value.items()) if k not in ("pid",)}
        if isinstance(value, list):  # lengths and element types follow the data (sync files, rule failures)
            return "list"
        return type(value).__name__

    out: dict[str, Counter] = {}
    out["event_logs"] = Counter((run_name.get(r[1]), r[2], r[3], r[4], r[5], json.dumps(shape(json.loads(r[6])),
                                                                                          sort_keys=True))
                                for r in events)
    cur.execute("SELECT event_id, asset_key, key, value FROM asset_event_tags")
    out["asset_event_tags"] = Counter((by_id.get(e), a, k, v if k not in ("dagster/data_version", "dagster/code_version")
                                       else "-") for e, a, k, v in cur.fetchall())
    cur.execute("SELECT asset_key, check_name, partition, run_id, execution_status, evaluation_event_storage_id, "
                "materialization_event_storage_id, evaluation_event FROM asset_check_executions")
    # A check over a whole run targets the asset's last materialization of the run, whose partition follows the
    # order Dagster happens to store a ranged step's materializations in (not the key order): compared without it.
    out["asset_check_executions"] = Counter(
        (a, c, p, run_name.get(r), s, by_id.get(e), by_id.get(m) if p or m is None else by_id[m][:2] + by_id[m][3:],
         json.dumps(shape(json.loads(ev)), sort_keys=True))
        for a, c, p, r, s, e, m, ev in cur.fetchall())
    cur.execute("SELECT asset_key, last_run_id, last_materialization IS NOT NULL, "
                "last_materialization_timestamp IS NOT NULL, cached_status_data IS NOT NULL FROM asset_keys")
    out["asset_keys"] = Counter((a, run_name.get(r), m, t, c) for a, r, m, t, c in cur.fetchall())
    cur.execute("SELECT partitions_def_name, partition FROM dynamic_partitions")
    out["dynamic_partitions"] = Counter(cur.fetchall())
    cur.execute("SELECT run_id, status, start_time IS NOT NULL, end_time IS NOT NULL FROM runs")
    out["runs"] = Counter((run_name.get(r), s, a, b) for r, s, a, b in cur.fetchall())
    cur.execute("SELECT run_id, key, value FROM run_tags")
    out["run_tags"] = Counter((run_name.get(r), k, v if "partition" in k else "-") for r, k, v in cur.fetchall())
    conn.close()
    return out


def verify(state: Path) -> list[tuple[str, int, int, int]]:
    """The job run for real over 2 participants x 3 days (one ranged run per participant, as a backfill), against
    the same state built from the template; (table, rows real, rows built, rows differing)."""
    size = Size(2, 3)
    study_start = first_day(size)
    os.environ["FITBIT_STUDY_START"] = study_start.isoformat()
    os.environ.pop("FITBIT_WAREHOUSE_DSN", None)
    os.environ["FITBIT_STATE_DIR"] = str(state / "template")
    from fitbit_assets.definitions import defs
    from fitbit_assets.warehouse.embedded_server import stop_server

    job = defs.resolve_job_def(JOB)
    asset_graph = defs.resolve_asset_graph()
    dynamic = graph_dynamic_names(asset_graph)
    template = run_template(state / "template", defs, job, study_start, dynamic, participant_ids(size.participants))
    dates = [(study_start + dt.timedelta(days=i)).isoformat() for i in range(size.days)]
    participants = participant_ids(size.participants) if dynamic else [None]
    environment = prepare_instance_dir(state / "verify-real", [p for p in participants if p] or participant_ids(1),
                                       study_start)
    real = open_instance(environment)
    for name in dynamic:
        real.add_dynamic_partitions(name, participants)
    quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
    for participant in participants:
        keys = keys_for(job.partitions_def, dates, participant)
        log(f"verify: real run over {keys[0]} .. {keys[-1]}")
        result = job.execute_in_process(instance=real, run_config=quiet, raise_on_error=False, tags={
            "dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]})
        if not result.success:
            raise SystemExit(f"verify: the real run over {keys[0]} .. {keys[-1]} failed")
    real_rows = normalized_rows(real.event_log_storage.postgres_url.replace("+psycopg2", ""))
    real.dispose()
    environment = prepare_instance_dir(state / "verify-built", [p for p in participants if p] or participant_ids(1),
                                       study_start)
    built = open_instance(environment)
    build_state(built, defs, template, size, size.days, failed_checks=0.0)
    built_rows = normalized_rows(built.event_log_storage.postgres_url.replace("+psycopg2", ""))
    built.dispose()
    for folder in ("template", "verify-real", "verify-built"):
        stop_server(state / folder / "pgdata")
    report = []
    for table, rows in real_rows.items():
        other = built_rows[table]
        differing = sum(((rows - other) + (other - rows)).values())
        if differing:
            for row in list((rows - other).elements())[:3]:
                log(f"verify: {table}: only in the real run's rows: {str(row)[:400]}")
            for row in list((other - rows).elements())[:3]:
                log(f"verify: {table}: only in the built rows: {str(row)[:400]}")
        report.append((table, sum(rows.values()), sum(other.values()), differing))
    return report


# --- the report -----------------------------------------------------------------------------------------------

def cell(result: dict, case: str) -> str:
    timing = result["timings"].get(case)
    if timing is None:
        return "-"
    return Timing(timing["seconds"], timing["failure"]).cell()


def section(results: list[dict], checked: list[tuple] | None, mode: str, timeout_s: float, elapsed: float,
            load: tuple[float, float], days_per_run: int | None, failed_checks: float) -> Section:
    info = machine()
    first = results[0]
    scope = (f"every asset and check the job's run touched ({first['assets_cloned']} assets; the repository has "
             f"{first['assets']} assets and {first['checks']} checks)")
    intro = (
        f"Generated by `python -m benchmarks.ui_scale{' --quick' if mode == 'quick' else ''}` on "
        f"{dt.datetime.now().strftime('%Y-%m-%d %H:%M')}; mode **{mode}**, total wall time {elapsed:.0f} s. "
        f"Machine: {info['cpus']} cores, {info['memory']} RAM, {info['versions']}; load average (1 min) "
        f"{load[0]:.1f} at the start, {load[1]:.1f} at the end (shared with other agents: orders of magnitude).\n\n"
        f"State the way real runs leave it: `{JOB}` ran once for real ({TEMPLATE_DAYS} days"
        f"{' x 1 participant' if first['dynamic'] else ''}); its events were cloned for every partition of {scope}, "
        f"one run per {'participant' if first['dynamic'] else 'day chunk'}"
        f"{f' and {days_per_run} days' if days_per_run else ''}, {failed_checks:.0%} of the partitioned check "
        "evaluations failed, loaded with COPY into a fresh instance of dagster.yaml (embedded "
        "PostgreSQL). Then `dagster-webserver` with the project's workspace.yaml, and the GraphQL documents of the "
        "installed Dagster UI (fragments included) timed over HTTP, in this order; each request in seconds, "
        f"a request over {timeout_s:.0f} s recorded as \"> {timeout_s:.0f} s\" (the webserver is then restarted). "
        "\"cold\": the first request after the build (no asset status cache yet)."
    )
    if mode == "quick":
        intro += "\n\n**Quick mode: a tiny size, to check the benchmark code runs. Numbers are not meaningful.**"
    table = Table(["query the UI sends (seconds per request)"] +
                  [f"{r['participants']} x {r['days']} ({r['partitions_per_asset']:,} per asset)" for r in results])
    for case, label in CASES:
        table.add(label.format(asset=ASSET, assets=first["assets"], checks=first["checks"], check=first["check"]),
                  *(cell(r, case) for r in results))
    state = Table(["size", "template run (s)", "build (s)", "runs", "event rows", "check rows", "event log",
                   "database", "webserver start (s)", "webserver RSS at the end"])
    for r in results:
        state.add(r["size"], fmt_s(r["template_run_s"]), fmt_s(r["build_s"]), f"{r['runs']:,}", f"{r['events']:,}",
                  f"{r['check_rows']:,}", f"{r['event_log_bytes'] / 1e9:.2f} GB", f"{r['database_bytes'] / 1e9:.2f} GB",
                  fmt_s(r["webserver_start_s"]), f"{r['rss_mb']:.0f} MB")
    tables = [("", table), ("Building the state:", state)]
    notes = [
        "Every partition's events carry the template run's metadata values (row counts, file names of the template "
        "days with the dates rewritten): sizes of event bodies are those of a real run, values are not.",
        "Not measured here: the daily tick's cost per new participant-day (see \"UI path\" for the tick itself).",
    ]
    if checked is not None:
        check = Table(["table", "rows, real runs", "rows, built", "rows differing"])
        for name, real, built, differing in checked:
            check.add(name, f"{real:,}", f"{built:,}", f"{differing:,}")
        tables.append(("Bulk build against Dagster's own writes (2 participants x 3 days, one ranged run per "
                       "participant; rows compared without ids, timestamps and run ids, event bodies by structure):",
                       check))
    return Section(SECTION_TITLE, intro, tables, notes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ui_scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tiny size plus --verify: checks the code runs")
    parser.add_argument("--sizes", default="100x365", help="participants x days, comma-separated")
    parser.add_argument("--verify", action="store_true", help="compare bulk-built rows with a real run's rows")
    parser.add_argument("--days-per-run", type=int, default=None, help="days per cloned run (default: all days)")
    parser.add_argument("--failed-checks", type=float, default=0.03, help="fraction of check evaluations failed")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per GraphQL request")
    parser.add_argument("--keep", action="store_true", help="keep each size's instance (state dir) after timing")
    parser.add_argument("--out", type=Path, default=None, help="Markdown output (default benchmarks/RESULTS.md; "
                        "quick mode: .state/bench-quick/RESULTS.md)")
    parser.add_argument("--state-dir", type=Path, default=None, help=f"instances (default {STATE_DEFAULT})")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)  # SIZE or "verify": one step in a child
    parser.add_argument("--child-out", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    import warnings

    warnings.filterwarnings("ignore")
    state = (args.state_dir or (STATE_DEFAULT.with_name("bench-ui-scale-quick") if args.quick else STATE_DEFAULT)).resolve()
    if args.child:
        if args.child == "verify":
            result = verify(state / "verify")
        else:
            result = measure_size(Size.parse(args.child), state / args.child, args.days_per_run, args.failed_checks,
                                  args.timeout, args.keep)
        args.child_out.write_text(json.dumps(result))
        return 0
    sizes = [Size(*s) for s in QUICK_SIZES] if args.quick else [Size.parse(s) for s in args.sizes.split(",")]
    out = args.out or (ROOT / ".state" / "bench-quick" / "RESULTS.md" if args.quick else ROOT / "benchmarks" / "RESULTS.md")
    state.mkdir(parents=True, exist_ok=True)
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    common = ["--state-dir", str(state), "--failed-checks", str(args.failed_checks), "--timeout", str(args.timeout)]
    if args.days_per_run:
        common += ["--days-per-run", str(args.days_per_run)]
    if args.keep:
        common.append("--keep")

    def child(step: str):
        result_file = state / f"{step}.json"
        result_file.unlink(missing_ok=True)
        proc = subprocess.run([sys.executable, "-m", "benchmarks.ui_scale", "--child", step, "--child-out",
                               str(result_file), *common], cwd=ROOT)
        if proc.returncode != 0:
            raise SystemExit(f"benchmarks.ui_scale: step {step} failed (exit {proc.returncode})")
        return json.loads(result_file.read_text())

    checked = child("verify") if (args.verify or args.quick) else None
    results = []
    for size in sizes:
        results.append(child(size.label))
        (state / "results.json").write_text(json.dumps(results))
    markdown = section(results, checked, "quick" if args.quick else "full", args.timeout,
                       time.perf_counter() - started, (load_before, os.getloadavg()[0]), args.days_per_run,
                       args.failed_checks).markdown()
    update_section(out, SECTION_TITLE, markdown)
    print(markdown)
    log(f"done in {time.perf_counter() - started:.0f} s; wrote {out}")
    if checked and any(differing for *_, differing in checked):
        log("the bulk-built rows differ from Dagster's own writes (see above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
