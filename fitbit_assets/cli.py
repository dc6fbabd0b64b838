"""Command line: register the roster as partitions, run the demo, print the warehouse summary."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import warnings

import dagster as dg

from fitbit_assets import settings
from fitbit_assets.partitions import participant_partitions, range_tags
from fitbit_assets.reports import print_warehouse_summary
from fitbit_assets.roster import Participant, read_roster, write_roster
from fitbit_assets.sensors import participants_to_register

DEMO_COHORT = [
    # (participant_id, seed, timezone, wear_profile): the third one is designed to be non-adherent.
    ("demo-001", 101, "America/New_York", "typical"),
    ("demo-002", 202, "Europe/Berlin", "typical"),
    ("demo-003", 303, "America/Los_Angeles", "low_wear"),
]
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def register(instance: dg.DagsterInstance) -> list[str]:
    """Add every valid roster row as a participant partition; report bad rows on stderr."""
    roster = read_roster(settings.roster_path())
    for error in roster.errors:
        print(f"roster {roster.path}: rejected {error}", file=sys.stderr)
    new = participants_to_register(roster, instance.get_dynamic_partitions(participant_partitions.name))
    if new:
        instance.add_dynamic_partitions(participant_partitions.name, new)
    return new


def write_demo_roster(enrolled_on: dt.date) -> None:
    path = settings.roster_path()
    if path.exists():
        print(f"using the existing roster {path}")
        return
    participants = [
        Participant(pid, seed, tz, enrolled_on, "synthetic", profile) for pid, seed, tz, profile in DEMO_COHORT
    ]
    write_roster(path, participants)
    print(f"wrote a demo roster of {len(participants)} synthetic participants to {path}")


def demo(days: int, last: dt.date | None = None) -> int:
    from fitbit_assets.definitions import defs

    last = last or dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=1)
    first = last - dt.timedelta(days=days - 1)
    write_demo_roster(enrolled_on=first)
    instance = dg.DagsterInstance.get()
    new = register(instance)
    roster = read_roster(settings.roster_path())
    print(f"participants: {', '.join(roster.participant_ids)} ({len(new)} newly registered)")
    job = defs.resolve_job_def("heart_rate_job")
    failed = 0
    check_counts = {"passed": 0, "failed": 0}
    for index, participant in enumerate(roster.participants, start=1):
        start = max(first, participant.enrolled_on)
        started = time.monotonic()
        print(f"[{index}/{len(roster.participants)}] {participant.participant_id}: {start} .. {last} ", end="", flush=True)
        result = job.execute_in_process(
            instance=instance,
            tags=range_tags(participant.participant_id, start, last),
            run_config=QUIET_RUN_CONFIG,
            raise_on_error=False,
        )
        for evaluation in result.get_asset_check_evaluations():
            check_counts["passed" if evaluation.passed else "failed"] += 1
        status = "ok" if result.success else "FAILED"
        failed += not result.success
        print(f"{status} in {time.monotonic() - started:.1f}s (run {result.run_id[:8]})")
    print_warehouse_summary(defs.resources)
    print(f"\nasset checks: {check_counts['passed']} passed, {check_counts['failed']} failed; runs failed: {failed}")
    print(f"Dagster UI on the same state: make dev (DAGSTER_HOME={instance.root_directory})")
    return 1 if failed else 0


def embedded_db(action: str) -> int:
    from fitbit_assets import embedded_server

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


def main(argv: list[str] | None = None) -> int:
    # Preview/beta notices (partitioned checks, backfill policies) are for developers, not demo output.
    for category in (dg.PreviewWarning, dg.BetaWarning):
        warnings.filterwarnings("ignore", category=category)
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    parser = argparse.ArgumentParser(prog="fitbit-assets", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("register", help="register every roster row as a participant partition")
    demo_parser = commands.add_parser("demo", help="synthetic cohort end to end through Dagster, then a summary")
    demo_parser.add_argument("--days", type=int, default=7)
    demo_parser.add_argument(
        "--last", type=dt.date.fromisoformat, default=None, help="last local day (default: yesterday, UTC)"
    )
    commands.add_parser("summary", help="rows per participant-day, adherence and metric families in the warehouse")
    serve_parser = commands.add_parser("serve", help="HTTP API + coordinator dashboard (uvicorn), OpenAPI at /docs")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    db_parser = commands.add_parser("db", help="the embedded PostgreSQL under the state folder (kept running)")
    db_parser.add_argument("action", choices=["start", "stop", "status"])
    args = parser.parse_args(argv)
    if args.command == "db":
        return embedded_db(args.action)
    if args.command == "register":
        new = register(dg.DagsterInstance.get())
        print(f"registered {len(new)} new participant(s): {', '.join(new) or '-'}")
        return 0
    if args.command == "demo":
        return demo(args.days, args.last)
    if args.command == "serve":
        import uvicorn

        from fitbit_assets.api import ApiConfig, create_app

        config = ApiConfig.from_env()
        config.dsn = config.resolved_dsn()  # starts the embedded PostgreSQL (and applies the schema) up front
        print(f"dashboard on http://{args.host}:{args.port}/ (API docs: /docs)")
        uvicorn.run(create_app(config), host=args.host, port=args.port, log_level="info")
        return 0
    from fitbit_assets.definitions import defs

    print_warehouse_summary(defs.resources)
    return 0


if __name__ == "__main__":
    sys.exit(main())
