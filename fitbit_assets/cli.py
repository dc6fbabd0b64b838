"""Command line: check the roster, run the demo, print the warehouse summary, serve the API and manage its
users, audit trail and participants' contact details."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import warnings
from collections import Counter
from dataclasses import replace

import dagster as dg

from fitbit_assets import settings
from fitbit_assets.domain.roster import (
    Participant,
    Roster,
    RosterNotFoundError,
    UnknownParticipantError,
    read_roster,
    write_roster,
)

DEMO_COHORT = [
    # (participant_id, seed, timezone, wear_profile): the third one is designed to be non-adherent.
    ("demo-001", 101, "America/New_York", "typical"),
    ("demo-002", 202, "Europe/Berlin", "typical"),
    ("demo-003", 303, "America/Los_Angeles", "low_wear"),
]
QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


class DemoWindowError(ValueError):
    """A demo window that would load nothing, and why."""


def check_roster() -> list[str]:
    """The roster's valid participant ids; bad rows on stderr."""
    roster = read_roster(settings.load().roster_path)
    for error in roster.errors:
        print(f"roster {roster.path}: rejected {error}", file=sys.stderr)
    return roster.participant_ids


LOCATION_NAME = "fitbit_assets"  # the code location's name in workspace.yaml and the deploy workspace
JOB_NAME = "pipeline_job"


def execute_as_launched(instance: dg.DagsterInstance, tags: dict[str, str]) -> dg.JobExecutionResult:
    """Run the job in this process as a run of the workspace's code location: the run carries the location's
    origin, so the UI lists it on Overview, the job page and the asset pages like any launched run (a plain
    ``execute_in_process`` run has no origin and shows in the Runs list only)."""
    import os

    from dagster._core.definitions.reconstruct import ReconstructableRepository
    from dagster._core.execution.api import execute_run
    from dagster._core.remote_origin import (
        ManagedGrpcPythonEnvCodeLocationOrigin,
        RemoteJobOrigin,
        RemoteRepositoryOrigin,
    )
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

    working_directory = os.getcwd()
    job = ReconstructableRepository.for_module(
        "fitbit_assets.definitions", "defs", working_directory
    ).get_reconstructable_job(JOB_NAME)
    location = ManagedGrpcPythonEnvCodeLocationOrigin(
        LoadableTargetOrigin(executable_path=sys.executable, module_name="fitbit_assets.definitions",
                             working_directory=working_directory),
        LOCATION_NAME,
    )
    run = instance.create_run_for_job(
        job.get_definition(),
        run_config=QUIET_RUN_CONFIG,
        tags=tags,
        remote_job_origin=RemoteJobOrigin(RemoteRepositoryOrigin(location, "__repository__"), JOB_NAME),
        job_code_origin=job.get_python_origin(),
    )
    return execute_run(job, run, instance)


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
    from fitbit_assets.lib.check_metadata import PARTICIPANTS_CHECKED, PARTICIPANTS_FAILED, VALID_DAY_CHECK
    from fitbit_assets.lib.partitions import PARTICIPANTS_TAG, RANGE_END_TAG, RANGE_START_TAG, STUDY_START
    from fitbit_assets.serving.reports import print_warehouse_summary

    with dg.DagsterInstance.get() as instance:
        print(f"participants: {', '.join(check_roster())}")
        # The daily schedule's run shape: one ranged run per batch of participants, as if the tick of the day after
        # --last ran with --days - 1 trailing days.
        requests = daily_run_requests(
            roster, last + dt.timedelta(days=1),
            days - 1, STUDY_START, configured.participants_per_run,
        )
        failed = 0
        check_counts: Counter[tuple[str, bool]] = Counter()
        for index, request in enumerate(requests, start=1):
            participants = request.tags[PARTICIPANTS_TAG].split(",")
            who = participants[0] + (f" .. {participants[-1]}" if len(participants) > 1 else "")
            print(f"[{index}/{len(requests)}] {who}: {request.tags[RANGE_START_TAG]} .. {request.tags[RANGE_END_TAG]} ",
                  end="", flush=True)
            started = time.monotonic()
            result = execute_as_launched(instance, request.tags)
            evaluations = [event.event_specific_data for event in result.all_events
                           if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION]
            for evaluation in evaluations:
                if evaluation.partition is not None:  # one per day (the rest are the checks' summaries)
                    values = {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()}
                    failed_days = values.get(PARTICIPANTS_FAILED, 0)
                    check_counts[(evaluation.check_name, True)] += values.get(PARTICIPANTS_CHECKED, 0) - failed_days
                    check_counts[(evaluation.check_name, False)] += failed_days
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


def connect_participant(participant_id: str, port: int, paste: bool, fitbit_user_id: str | None) -> int:
    from fitbit_assets.defs.google_health.assets import enrolment_subscriber, oauth_client, token_store
    from fitbit_assets.google_health.enrol import EnrolmentError, connect
    from fitbit_assets.google_health.tokens import TokenKeyError
    from fitbit_assets.warehouse.resource import WarehouseResource

    configured = settings.load()
    warehouse = WarehouseResource(dsn=configured.warehouse_dsn.get_secret_value() if configured.warehouse_dsn else None)
    try:
        roster = read_roster(configured.roster_path)
        connect(participant_id, roster, oauth_client(configured),
                token_store(configured, warehouse), api_url=configured.google_api_url, port=port,
                paste=input if paste else None, fitbit_user_id=fitbit_user_id,
                subscribe=enrolment_subscriber(configured, warehouse, roster))
    except (EnrolmentError, TokenKeyError, UnknownParticipantError) as exc:
        print(f"fitbit-assets connect: {exc}", file=sys.stderr)
        return 2
    return 0


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve(host: str, port: int, workers: int = 1) -> int:
    import uvicorn

    from fitbit_assets.serving import users
    from fitbit_assets.serving.api import ApiConfig
    from fitbit_assets.serving.api.db import ApiDatabase

    config = ApiConfig.from_env()
    config.dsn = config.resolved_dsn()  # starts the embedded PostgreSQL (and applies the schema) up front
    if config.auth == "auto":
        with ApiDatabase(config.dsn, config.role, pool_size=1).connection() as conn, conn.cursor() as cur:
            config.auth = "on" if users.any_active_user(cur) else "off"
    if config.auth == "off":
        if host not in LOOPBACK:
            print(f"fitbit-assets serve: refusing to serve {host} without sign-in: add a user (fitbit-assets users "
                  "add) and set FITBIT_API_AUTH=on, or bind 127.0.0.1", file=sys.stderr)
            return 2
        print(f"no sign-in (FITBIT_API_AUTH={settings.load().api_auth}, no users): every request acts as the local "
              f"user, so the server listens on {host} (loopback) only")
    else:
        print("sign-in required: named users (fitbit-assets users list)")
    if host not in config.allowed_hosts and host not in ("0.0.0.0", "::"):
        config.allowed_hosts = (*config.allowed_hosts, host)
    print(f"dashboard on http://{host}:{port}/ (OpenAPI description: /openapi.json); {workers} worker process(es) "
          f"x {config.pool_size} database connections")
    # Each worker process builds its app from the environment (create_app() reads ApiConfig.from_env()): hand it
    # what was resolved here. Several workers share nothing but the database (sessions and the audit chain live there).
    os.environ.update(FITBIT_API_DSN=config.dsn, FITBIT_API_AUTH=config.auth,
                      FITBIT_API_ALLOWED_HOSTS=",".join(config.allowed_hosts))
    # A worker imports Dagster (the alert channel) before it answers the supervisor's health check: on a loaded
    # machine that took longer than uvicorn's 5 s default, and the workers were restarted over and over.
    uvicorn.run("fitbit_assets.serving.api:create_app", factory=True, workers=workers, host=host, port=port,
                log_level="info", timeout_worker_healthcheck=60)
    return 0


def _owner_connection():
    from fitbit_assets.warehouse.resource import WarehouseResource

    configured = settings.load()
    warehouse = WarehouseResource(dsn=configured.warehouse_dsn.get_secret_value() if configured.warehouse_dsn else None)
    return warehouse.connection()


def _cli_actor() -> str:
    import getpass

    return f"cli:{getpass.getuser()}"


def users_command(args: argparse.Namespace) -> int:
    from fitbit_assets.domain.access import AccessError
    from fitbit_assets.serving import users
    from fitbit_assets.warehouse.connection import transaction

    with _owner_connection() as conn:
        if args.action == "list":
            with conn.cursor() as cur:
                rows = users.list_users(cur)
            for row in rows:
                state = f"revoked {row['revoked_at']:%Y-%m-%d}" if row["revoked_at"] else "active"
                print(f"{row['user_name']:<24} {row['role']:<14} sites={','.join(row['sites']) or '-':<16} "
                      f"password={'yes' if row['has_password'] else 'no'} tokens={row['tokens']} {state}")
            print(f"{len(rows)} user(s)")
            return 0
        try:
            with transaction(conn) as cur:
                if args.action == "add":
                    password = None
                    if args.password_stdin:
                        password = sys.stdin.readline().rstrip("\n")
                    elif not args.no_password:
                        import getpass

                        password = getpass.getpass(f"password for {args.user_name}: ")
                    users.add_user(cur, _cli_actor(), args.user_name, args.role, tuple(args.site or ()), password)
                    print(f"user {args.user_name}: {args.role}" + (f" of {', '.join(args.site)}" if args.site else ""))
                elif args.action == "token":
                    if not any(r["user_name"] == args.user_name and not r["revoked_at"] for r in users.list_users(cur)):
                        raise AccessError(f"no active user {args.user_name!r}")
                    print(users.add_token(cur, _cli_actor(), args.user_name, args.label))
                    print("(shown once: only its hash is kept)", file=sys.stderr)
                else:
                    if not users.revoke_user(cur, _cli_actor(), args.user_name):
                        raise AccessError(f"no active user {args.user_name!r}")
                    print(f"user {args.user_name}: revoked (tokens and sessions deleted)")
        except AccessError as exc:
            print(f"fitbit-assets users {args.action}: {exc}", file=sys.stderr)
            return 2
    return 0


def audit_command(args: argparse.Namespace) -> int:
    from fitbit_assets.serving import audit
    from fitbit_assets.warehouse.connection import transaction

    with _owner_connection() as conn, transaction(conn) as cur:  # commits the rows it chained
        if args.action == "verify":
            result = audit.verify(cur)
            for problem in result.problems:
                print(f"audit_log {problem}", file=sys.stderr)
            print(f"audit trail: {result.rows} row(s), " + ("chain intact" if result.ok
                                                           else f"{len(result.problems)} problem(s)"))
            return 0 if result.ok else 1
        since = dt.datetime.combine(args.since, dt.time(), dt.timezone.utc)
        count = audit.export(cur, since, sys.stdout)
        print(f"{count} audit row(s) since {args.since}", file=sys.stderr)
    return 0


def contacts_command(args: argparse.Namespace) -> int:
    from fitbit_assets.serving import contacts
    from fitbit_assets.warehouse.connection import transaction

    configured = settings.load()
    read_roster(configured.roster_path).get(args.participant_id)  # an unknown participant: roster error
    key = configured.token_encryption_key.get_secret_value() if configured.token_encryption_key else None
    do_not_contact = True if args.do_not_contact else False if args.allow_contact else None
    try:
        with _owner_connection() as conn, transaction(conn) as cur:
            contacts.set_contact(cur, key, args.participant_id, args.email, do_not_contact)
    except contacts.ContactKeyError as exc:
        print(f"fitbit-assets contacts: {exc}", file=sys.stderr)
        return 2
    print(f"contact details of {args.participant_id} saved (encrypted)")
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
    commands.add_parser("register", help="check the roster and create the Dagster instance's storage")
    demo_parser = commands.add_parser("demo", help="synthetic cohort end to end through Dagster, then a summary")
    demo_parser.add_argument("--days", type=int, default=7, help="local days up to --last (default 7)")
    demo_parser.add_argument("--last", type=local_date, default=None, help="last local day (default: yesterday, UTC)")
    commands.add_parser("summary", help="rows per participant-day, adherence and metric families in the warehouse")
    serve_parser = commands.add_parser("serve", help="HTTP API + coordinator dashboard (uvicorn)")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)),
                              help="server processes (default: one per usable core), each with its own pool of "
                                   "FITBIT_API_POOL_SIZE connections")
    db_parser = commands.add_parser("db", help="the embedded PostgreSQL under the state folder (kept running)")
    db_parser.add_argument("action", choices=["start", "stop", "status"])
    connect_parser = commands.add_parser(
        "connect", help="Google Health API consent of a source=google_health participant (OAuth PKCE)"
    )
    connect_parser.add_argument("participant_id")
    connect_parser.add_argument("--port", type=int, default=0, help="loopback port of the redirect (default: any)")
    connect_parser.add_argument("--paste", action="store_true", help="paste the redirect URL instead of catching it")
    connect_parser.add_argument("--fitbit-user-id", default=None,
                                help="the participant's Fitbit Web API user id: links a migrated Fitbit participant "
                                     "(the consenting account must have it)")
    users_parser = commands.add_parser("users", help="named users of the HTTP API: add, revoke, list, token")
    users_actions = users_parser.add_subparsers(dest="action", required=True)
    add_parser = users_actions.add_parser("add", help="add or redefine a user (asks for the password)")
    add_parser.add_argument("user_name")
    add_parser.add_argument("--role", required=True, choices=["coordinator", "data_engineer", "admin"])
    add_parser.add_argument("--site", action="append", help="a coordinator's study site (repeat for several)")
    add_parser.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add_parser.add_argument("--no-password", action="store_true", help="API tokens only, no dashboard sign-in")
    for name, text in (("revoke", "revoke a user (their tokens and sessions end)"), ("token", "a new API token")):
        action_parser = users_actions.add_parser(name, help=text)
        action_parser.add_argument("user_name")
        if name == "token":
            action_parser.add_argument("--label", default="", help="what the token is for")
    users_actions.add_parser("list", help="every user, role, sites and tokens")
    audit_parser = commands.add_parser("audit", help="the audit trail: verify its hash chain, export CSV")
    audit_actions = audit_parser.add_subparsers(dest="action", required=True)
    audit_actions.add_parser("verify", help="recompute the hash chain (exit 1 on a changed or missing row)")
    export_parser = audit_actions.add_parser("export", help="CSV of the rows since a date, on stdout")
    export_parser.add_argument("--since", type=local_date, required=True, help="first UTC date (YYYY-MM-DD)")
    contacts_parser = commands.add_parser("contacts", help="a participant's contact details (stored encrypted)")
    contacts_actions = contacts_parser.add_subparsers(dest="action", required=True)
    set_parser = contacts_actions.add_parser("set", help="address and do-not-contact flag")
    set_parser.add_argument("participant_id")
    set_parser.add_argument("--email")
    flag = set_parser.add_mutually_exclusive_group()
    flag.add_argument("--do-not-contact", action="store_true")
    flag.add_argument("--allow-contact", action="store_true")
    args = parser.parse_args(argv)
    try:
        return run_command(args)
    except (settings.SettingsError, DemoWindowError, RosterNotFoundError, UnknownParticipantError) as exc:
        # A setting, a window or a missing roster is the user's to fix: one sentence, no traceback.
        print(f"fitbit-assets {args.command}: {exc}", file=sys.stderr)
        return 2


def run_command(args: argparse.Namespace) -> int:
    if args.command == "db":
        return embedded_db(args.action)
    if args.command == "register":
        # Opening the instance creates its storage, before the webserver, daemon and code server load it.
        with dg.DagsterInstance.get():  # disposed on exit, also when the roster is missing
            participants = check_roster()
        print(f"roster: {len(participants)} participant(s), each in the next daily run: {', '.join(participants[:20]) or '-'}")
        return 0
    if args.command == "demo":
        return demo(args.days, args.last)
    if args.command == "connect":
        return connect_participant(args.participant_id, args.port, args.paste, args.fitbit_user_id)
    if args.command == "serve":
        return serve(args.host, args.port, args.workers)
    if args.command == "users":
        return users_command(args)
    if args.command == "audit":
        return audit_command(args)
    if args.command == "contacts":
        return contacts_command(args)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
