"""Command line: register the roster as partitions, run the demo, print the warehouse summary."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import warnings
from collections import Counter
from dataclasses import replace

import dagster as dg

from fitbit_assets import settings
from fitbit_assets.domain.roster import Participant, Roster, RosterNotFoundError, read_roster, write_roster

DEMO_COHORT = [
    # (participant_id, seed, timezone, wear_profile): the third one is designed to be non-adherent.
    ("demo-001", 101, "America/New_York", "typical"),
    ("demo-002", 202, "Europe/Berlin", "typical"),
    ("demo-003", 303, "America/Los_Angeles", "low_wear"),
]
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


class DemoWindowError(ValueError):
    """A demo window that would load nothing, and why."""


def register(instance: dg.DagsterInstance) -> list[str]:
    """Add every valid roster row as a participant partition; report bad rows on stderr."""
    # Imported here: loading the partitions reads the roster for their start, which `demo` may write first.
    from fitbit_assets.defs.participants.sensors import participants_to_register
    from fitbit_assets.lib.partitions import participant_partitions

    roster = read_roster(settings.load().roster_path)
    for error in roster.errors:
        print(f"roster {roster.path}: rejected {error}", file=sys.stderr)
    new = participants_to_register(roster, instance.get_dynamic_partitions(participant_partitions.name))
    if new:
        instance.add_dynamic_partitions(participant_partitions.name, new)
    return new


def _is_demo_roster(roster: Roster) -> bool:
    """Only what ``demo`` wrote itself: every row valid, synthetic and one of the demo cohort."""
    demo_ids = {participant_id for participant_id, *_ in DEMO_COHORT}
    return not roster.errors and all(
        p.participant_id in demo_ids and p.source == "synthetic" for p in roster.participants
    )


def prepare_demo_roster(first: dt.date, last: dt.date) -> Roster:
    """The roster the demo runs: written when there is none; a demo roster enrolled after ``first`` is enrolled
    from ``first`` instead, so an earlier window loads (and the daily partitions, which start at the earliest
    enrolment, cover it). A roster of the study's own is never changed: a window before every enrolment in it is
    refused with the reason."""
    path = settings.load().roster_path
    if not path.exists():
        participants = [
            Participant(pid, seed, tz, first, "synthetic", profile) for pid, seed, tz, profile in DEMO_COHORT
        ]
        write_roster(path, participants)
        print(f"wrote a demo roster of {len(participants)} synthetic participants enrolled on {first} to {path}")
        return read_roster(path)
    roster = read_roster(path)
    late = [p for p in roster.participants if p.enrolled_on > first]
    if late and _is_demo_roster(roster):
        write_roster(path, [p if p.enrolled_on <= first else replace(p, enrolled_on=first) for p in roster.participants])
        print(f"using the demo roster {path}, now enrolled from {first} ({len(late)} participant(s) moved earlier)")
        return read_roster(path)
    print(f"using the existing roster {path}")
    if roster.participants and all(p.enrolled_on > last for p in roster.participants):
        earliest = min(p.enrolled_on for p in roster.participants)
        raise DemoWindowError(
            f"nothing to load: the window {first} .. {last} ends before every enrolment in {path} (earliest "
            f"{earliest}), and days before enrolment produce nothing. Choose --last {earliest} or later, or run "
            "the demo on a fresh state (FITBIT_STATE_DIR) so it writes its own roster."
        )
    return roster


def demo_window(days: int, last: dt.date | None, today: dt.date, study_start: dt.date | None) -> tuple[dt.date, dt.date]:
    """[first, last] of a demo run, or ``DemoWindowError`` when it would load nothing."""
    yesterday = today - dt.timedelta(days=1)
    last = last or yesterday
    if days < 1:
        raise DemoWindowError(f"--days {days} loads nothing: give 1 or more days")
    if last > yesterday:
        raise DemoWindowError(
            f"--last {last} has not ended yet (the daily partitions end with yesterday, {yesterday}, UTC): "
            f"choose --last {yesterday} or earlier"
        )
    first = last - dt.timedelta(days=days - 1)
    if study_start is not None and first < study_start:
        raise DemoWindowError(
            f"the window {first} .. {last} starts before FITBIT_STUDY_START={study_start}, the first daily "
            "partition: "
            + (f"choose --last {study_start} or later" if last < study_start
               else f"choose --days {(last - study_start).days + 1} or fewer")
            + ", or unset FITBIT_STUDY_START so the partitions start at the roster's first enrolment"
        )
    return first, last


def demo(days: int, last: dt.date | None = None) -> int:
    configured = settings.load()
    first, last = demo_window(days, last, dt.datetime.now(dt.timezone.utc).date(), configured.study_start)
    roster = prepare_demo_roster(first, last)
    # Imported after the roster is ready: the daily partitions start at its earliest enrolment.
    from fitbit_assets.definitions import defs
    from fitbit_assets.defs.participants.schedules import daily_run_requests
    from fitbit_assets.lib.check_metadata import VALID_DAY_CHECK
    from fitbit_assets.lib.partitions import STUDY_START, ParticipantDayKey, participant_partitions
    from fitbit_assets.serving.reports import print_warehouse_summary

    with dg.DagsterInstance.get() as instance:
        new = register(instance)
        print(f"participants: {', '.join(roster.participant_ids)} ({len(new)} newly registered)")
        # The daily schedule's run shape: one ranged run per batch of participants, as if the tick of the day after
        # --last ran with --days - 1 trailing days.
        requests = daily_run_requests(
            roster, instance.get_dynamic_partitions(participant_partitions.name), last + dt.timedelta(days=1),
            days - 1, STUDY_START, configured.participants_per_run,
        )
        job = defs.resolve_job_def("heart_rate_job")
        failed = 0
        check_counts: Counter[tuple[str, bool]] = Counter()
        for index, request in enumerate(requests, start=1):
            start, end = (ParticipantDayKey.parse(request.tags[f"dagster/asset_partition_range_{edge}"]) for edge in ("start", "end"))
            who = start.participant_id + (f" .. {end.participant_id}" if end.participant_id != start.participant_id else "")
            print(f"[{index}/{len(requests)}] {who}: {start.local_date} .. {end.local_date} ", end="", flush=True)
            started = time.monotonic()
            result = job.execute_in_process(
                instance=instance, tags=request.tags, run_config=QUIET_RUN_CONFIG, raise_on_error=False
            )
            for evaluation in result.get_asset_check_evaluations():
                if evaluation.partition is not None:  # one per participant-day (the rest are the checks' summaries)
                    check_counts[(evaluation.check_name, evaluation.passed)] += 1
            status = "ok" if result.success else "FAILED"
            failed += not result.success
            print(f"{status} in {time.monotonic() - started:.1f}s (run {result.run_id[:8]})")
        # The coordinator status as the daily tick after the window would see it (now, for the default window).
        as_of = min(dt.datetime.now(dt.timezone.utc),
                    dt.datetime.combine(last + dt.timedelta(days=1), dt.time(12, 30), tzinfo=dt.timezone.utc))
        with dg.build_resources(defs.resources) as resources:
            print_warehouse_summary(resources.warehouse, resources.adherence, as_of)
        passed = sum(count for (_, ok), count in check_counts.items() if ok)
        print(
            f"\nasset checks per participant-day: {passed} passed, {check_counts.total() - passed} failed "
            f"({VALID_DAY_CHECK}: {check_counts[(VALID_DAY_CHECK, True)]} passed, "
            f"{check_counts[(VALID_DAY_CHECK, False)]} failed); runs failed: {failed}"
        )
        print(f"Dagster UI on the same state: make dev (DAGSTER_HOME={instance.root_directory})")
    return 1 if failed else 0


def embedded_db(action: str) -> int:
    from fitbit_assets.warehouse import embedded_server
    pgdata = embedded_server.default_pgdata()
    if action == "stop":
        stopped = embedded_server.stop_server(pgdata)
        print(f"embedded PostgreSQL on {pgdata}: {'stopped' if stopped else 'was not running'}")
        return 0
    if action == "start":
        embedded_server.embedded_dsn(pgdata)
    info = embedded_server.running_postmaster(pgdata)
    print(f"embedded PostgreSQL on {pgdata}: " + (f"running (pid {info.pid}, {info.get_uri()})" if info else "stopped"))
    return 0 if info else 1


def summary() -> int:
    from fitbit_assets.definitions import defs
    from fitbit_assets.serving.reports import print_warehouse_summary

    # build_resources resolves the EnvVar references (FITBIT_WAREHOUSE_DSN) the definitions hold.
    with dg.build_resources(defs.resources) as resources:
        print_warehouse_summary(resources.warehouse, resources.adherence)
    return 0


def connect_participant(participant_id: str, port: int, paste: bool) -> int:
    from fitbit_assets.defs.google_health.assets import oauth_client, token_store
    from fitbit_assets.domain.roster import UnknownParticipantError, read_roster
    from fitbit_assets.google_health.enrol import EnrolmentError, connect
    from fitbit_assets.google_health.tokens import TokenKeyError
    from fitbit_assets.warehouse.resource import WarehouseResource

    configured = settings.load()
    warehouse = WarehouseResource(dsn=configured.warehouse_dsn.get_secret_value() if configured.warehouse_dsn else None)
    try:
        connect(participant_id, read_roster(configured.roster_path), oauth_client(configured),
                token_store(configured, warehouse), port=port, paste=input if paste else None)
    except (EnrolmentError, TokenKeyError, UnknownParticipantError) as exc:
        print(f"fitbit-assets connect: {exc}", file=sys.stderr)
        return 2
    return 0


def local_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a YYYY-MM-DD date") from None


def main(argv: list[str] | None = None) -> int:
    # Preview/beta notices (partitioned checks, backfill policies) are for developers, not demo output.
    for category in (dg.PreviewWarning, dg.BetaWarning):
        warnings.filterwarnings("ignore", category=category)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    parser = argparse.ArgumentParser(prog="fitbit-assets", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("register", help="register every roster row as a participant partition")
    demo_parser = commands.add_parser("demo", help="synthetic cohort end to end through Dagster, then a summary")
    demo_parser.add_argument("--days", type=int, default=7, help="local days up to --last (default 7)")
    demo_parser.add_argument("--last", type=local_date, default=None, help="last local day (default: yesterday, UTC)")
    commands.add_parser("summary", help="rows per participant-day, adherence and metric families in the warehouse")
    serve_parser = commands.add_parser("serve", help="HTTP API + coordinator dashboard (uvicorn), OpenAPI at /docs")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    db_parser = commands.add_parser("db", help="the embedded PostgreSQL under the state folder (kept running)")
    db_parser.add_argument("action", choices=["start", "stop", "status"])
    connect_parser = commands.add_parser(
        "connect", help="Google Health API consent of a source=google_health participant (OAuth PKCE)"
    )
    connect_parser.add_argument("participant_id")
    connect_parser.add_argument("--port", type=int, default=0, help="loopback port of the redirect (default: any)")
    connect_parser.add_argument("--paste", action="store_true", help="paste the redirect URL instead of catching it")
    args = parser.parse_args(argv)
    try:
        return run_command(args)
    except (settings.SettingsError, DemoWindowError, RosterNotFoundError) as exc:
        # A setting, a window or a missing roster is the user's to fix: one sentence, no traceback.
        print(f"fitbit-assets {args.command}: {exc}", file=sys.stderr)
        return 2


def run_command(args: argparse.Namespace) -> int:
    if args.command == "db":
        return embedded_db(args.action)
    if args.command == "register":
        with dg.DagsterInstance.get() as instance:  # disposed on exit, also when the roster is missing
            new = register(instance)
        print(f"registered {len(new)} new participant(s): {', '.join(new) or '-'}")
        return 0
    if args.command == "demo":
        return demo(args.days, args.last)
    if args.command == "connect":
        return connect_participant(args.participant_id, args.port, args.paste)
    if args.command == "serve":
        import uvicorn

        from fitbit_assets.serving.api import ApiConfig, create_app

        config = ApiConfig.from_env()
        config.dsn = config.resolved_dsn()  # starts the embedded PostgreSQL (and applies the schema) up front
        print(f"dashboard on http://{args.host}:{args.port}/ (API docs: /docs)")
        uvicorn.run(create_app(config), host=args.host, port=args.port, log_level="info")
        return 0
    return summary()


if __name__ == "__main__":
    sys.exit(main())
