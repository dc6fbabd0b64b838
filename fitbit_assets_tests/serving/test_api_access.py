"""Who may read and contact whom through the HTTP API, the audit trail and the reminders to participants: against
the real embedded PostgreSQL (the session's loaded cohort, or a fresh database) and a real SMTP server on loopback
(conftest ``smtp_server``). The limits of every request: test_api_limits.py."""

import datetime as dt
import io
import threading

import psycopg2
import psycopg2.errors
import pytest

from fitbit_assets import cli
from fitbit_assets.defs.alerts.channel import AlertChannelResource
from fitbit_assets.domain.access import AccessError
from fitbit_assets.serving import audit, contacts, users
from fitbit_assets.serving.api.db import ApiDatabase
from fitbit_assets.warehouse.connection import transaction
from fitbit_assets.devtools.queries import fetch_all
from fitbit_assets_tests.support.api_access import KEY, PASSWORD, audit_rows, bearer, last_seq, owner, run


# ---------------------------------------------------------------------------------------- users and roles


@pytest.mark.integration
def test_each_role_sees_what_it_may(people, make_client):
    client = make_client()
    assert client.get("/api/cohort").status_code == 401
    assert client.get("/api/cohort", headers=bearer("fa_wrong")).status_code == 401
    coordinator, engineer, admin = (bearer(people[n]) for n in ("coord-north", "engineer", "admin"))
    # A coordinator sees the participants of their sites only; another site's participant is a 404, not a 403.
    cohort = client.get("/api/cohort", headers=coordinator).json()["participants"]
    assert [r["participant_id"] for r in cohort] == ["api-typical"]
    assert [p["participant_id"] for p in client.get("/api/participants", headers=coordinator).json()] == ["api-typical"]
    assert client.get("/api/participants/api-lowwear/series", headers=coordinator).status_code == 404
    assert client.get("/api/participants/api-typical/series", headers=coordinator).status_code == 200
    days = client.get("/api/adherence", params={"start": "2025-06-10", "end": "2025-06-10"}, headers=coordinator)
    assert {d["participant_id"] for d in days.json()["days"]} == {"api-typical"}
    # A data engineer reads every participant but contacts no one; an admin reads no participant data.
    assert len(client.get("/api/cohort", headers=engineer).json()["participants"]) == 4
    body = {"template": "not_wearing"}
    assert client.post("/api/participants/api-typical/contact", json=body, headers=engineer).status_code == 403
    assert client.get("/api/cohort", headers=admin).status_code == 403
    assert {u["user_name"] for u in client.get("/api/users", headers=admin).json()} >= {"admin", "engineer"}
    assert client.get("/api/users", headers=coordinator).status_code == 403


@pytest.mark.integration
def test_session_cookie_sign_in_csrf_and_sign_out(people, make_client, cohort):
    client = make_client()
    seq = last_seq(cohort.dsn)
    assert client.post("/api/session", json={"user_name": "coord-north", "password": "wrong password!"}).status_code == 401
    signed_in = client.post("/api/session", json={"user_name": "coord-north", "password": PASSWORD})
    assert signed_in.status_code == 200, signed_in.text
    cookie = signed_in.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "fitbit_session=" in cookie
    csrf = signed_in.json()["csrf_token"]
    assert client.get("/api/cohort").status_code == 200  # the cookie alone reads
    assert client.get("/api/session").json()["csrf_token"] == csrf
    # An unsafe request of the session needs its CSRF token (a cross-site form cannot send the header).
    preview = "/api/participants/api-typical/contact/preview"
    assert client.post(preview, json={"template": "not_syncing"}).status_code == 403
    assert client.post(preview, json={"template": "not_syncing"}, headers={"X-CSRF-Token": "guess"}).status_code == 403
    assert client.post(preview, json={"template": "not_syncing"}, headers={"X-CSRF-Token": csrf}).status_code == 200
    assert client.delete("/api/session", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/cohort").status_code == 401
    actions = [(actor, action) for actor, action, *_ in audit_rows(cohort.dsn, seq)]
    assert actions[:2] == [("(unverified) coord-north", "sign_in_failed"), ("coord-north", "sign_in")]
    assert ("coord-north", "sign_out") in actions


@pytest.mark.integration
def test_revoked_user_loses_tokens_and_sessions(cohort, make_client, people):
    with owner(cohort.dsn) as conn, transaction(conn) as cur:
        users.add_user(cur, "test", "leaver", "data_engineer", (), PASSWORD)
        token = users.add_token(cur, "test", "leaver", "script")
    client = make_client()
    assert client.get("/api/cohort", headers=bearer(token)).status_code == 200
    with owner(cohort.dsn) as conn, transaction(conn) as cur:
        assert users.revoke_user(cur, "test", "leaver")
    assert client.get("/api/cohort", headers=bearer(token)).status_code == 401
    assert client.post("/api/session", json={"user_name": "leaver", "password": PASSWORD}).status_code == 401


def test_weak_users_and_secrets_are_refused():
    from fitbit_assets.domain.access import check_password, check_user

    with pytest.raises(AccessError, match="at least 12"):
        check_password("short")
    with pytest.raises(AccessError, match="at least 12"):
        check_password("            ")
    with pytest.raises(AccessError, match="at least one --site"):
        check_user("c", "coordinator", ())
    with pytest.raises(AccessError, match="must be one of"):
        check_user("x", "superuser", ())


@pytest.mark.integration
def test_users_cli_add_list_token_revoke(cohort, monkeypatch, capsys, people):
    monkeypatch.setenv("FITBIT_WAREHOUSE_DSN", cohort.dsn)
    monkeypatch.setattr("sys.stdin", io.StringIO("tiny\n"))
    assert cli.main(["users", "add", "cli-user", "--role", "coordinator", "--site", "north", "--password-stdin"]) == 2
    assert "at least 12" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["users", "add", "cli-user", "--role", "coordinator", "--site", "north", "--password-stdin"]) == 0
    assert cli.main(["users", "token", "cli-user", "--label", "nightly export"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("fa_") and len(token) > 40
    assert cli.main(["users", "list"]) == 0
    listed = capsys.readouterr().out
    assert "cli-user" in listed and "coordinator" in listed and "tokens=1" in listed
    assert cli.main(["users", "revoke", "cli-user"]) == 0
    assert cli.main(["users", "revoke", "cli-user"]) == 2
    stored = fetch_all(cohort.dsn, "SELECT password_hash FROM api_user WHERE user_name = 'cli-user'")[0][0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_serve_refuses_a_non_loopback_bind_without_sign_in(monkeypatch, capsys, tmp_path, embedded_pg):
    from fitbit_assets_tests.support.database import create_database

    monkeypatch.setenv("FITBIT_WAREHOUSE_DSN", embedded_pg.dsn(create_database(embedded_pg, "serve")))
    monkeypatch.setenv("FITBIT_API_AUTH", "off")
    assert cli.main(["serve", "--host", "0.0.0.0"]) == 2
    assert "refusing to serve 0.0.0.0 without sign-in" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------- audit trail


@pytest.mark.integration
def test_every_participant_read_is_audited(people, make_client, cohort):
    client = make_client()
    seq = last_seq(cohort.dsn)
    params = {"start": "2025-06-10T00:00:00Z", "end": "2025-06-11T00:00:00Z"}
    assert client.get("/api/participants/api-typical/series", params=params,
                      headers=bearer(people["coord-north"])).status_code == 200
    assert client.get("/api/participants/api-typical/adherence", headers=bearer(people["engineer"])).status_code == 200
    rows = audit_rows(cohort.dsn, seq)
    assert rows[0][:5] == ("coord-north", "read", "GET /api/participants/api-typical/series", ["api-typical"],
                           "2025-06-10T00:00:00+00:00..2025-06-11T00:00:00+00:00")
    assert rows[1][:4] == ("engineer", "read", "GET /api/participants/api-typical/adherence", ["api-typical"])
    assert rows[1][4] == "2025-03-14..2025-06-11"


@pytest.mark.integration
def test_the_api_role_can_append_audit_rows_but_not_change_them(cohort):
    database = ApiDatabase(cohort.dsn)
    try:
        with database.connection() as conn, conn.cursor() as cur:
            cur.execute("BEGIN READ WRITE")
            audit.append(cur, "someone", "read", "test", ("api-typical",))
            cur.execute("COMMIT")
            for statement in ("SELECT * FROM audit_log", "UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log",
                              "INSERT INTO audit_log (seq) VALUES (-1)", "SELECT * FROM participant_contact",
                              "SELECT * FROM alert_sent", "SELECT * FROM heart_rate_lineage",
                              "SELECT * FROM google_health_account"):
                cur.execute("BEGIN READ WRITE")
                with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                    cur.execute(statement)
                cur.execute("ROLLBACK")
    finally:
        database.close()


@pytest.mark.integration
def test_audit_verify_finds_an_edited_and_a_removed_row(warehouse, warehouse_dsn, monkeypatch, capsys, tmp_path):
    with warehouse.connection() as conn, transaction(conn) as cur:
        for n in range(5):
            audit.append(cur, f"user-{n}", "read", "GET /api/cohort", ("p1", "p2"), "2025-06-01..2025-06-07", {"n": n})
    monkeypatch.setenv("FITBIT_WAREHOUSE_DSN", warehouse_dsn)
    assert cli.main(["audit", "verify"]) == 0
    assert "5 row(s), chain intact" in capsys.readouterr().out
    assert cli.main(["audit", "export", "--since", "2000-01-01"]) == 0
    exported = capsys.readouterr().out.splitlines()
    assert exported[0] == ",".join(audit.EXPORT_COLUMNS) and len(exported) == 6 and "user-3" in exported[4]

    run(warehouse_dsn, "UPDATE audit_log SET participants = '{p1}' WHERE seq = 3")
    assert cli.main(["audit", "verify"]) == 1
    captured = capsys.readouterr()
    assert "1 problem(s)" in captured.out
    assert captured.err.startswith("audit_log seq 3 (") and "fields changed after it was written" in captured.err
    run(warehouse_dsn, "UPDATE audit_log SET participants = '{p1,p2}' WHERE seq = 3")
    run(warehouse_dsn, "DELETE FROM audit_log WHERE seq = 2")
    with warehouse.connection() as conn, conn.cursor() as cur:
        problems = audit.verify(cur).problems
    assert problems == ["seq 3: follows seq 1 (rows 2..2 are missing)",
                        "seq 3: prev_hash does not match the hash of seq 1"]


# ------------------------------------------------------------------------------ contacting a participant


@pytest.mark.integration
def test_contact_reaches_the_participant_once_a_day_and_is_audited(people, make_client, cohort, smtp_server):
    port, inbox = smtp_server
    channel = lambda: AlertChannelResource(smtp_host="127.0.0.1", smtp_port=port, smtp_tls="none",  # noqa: E731
                                           smtp_to="coordinators@example.org", timeout_seconds=5)
    client = make_client(alert_channel=channel)
    coordinator = bearer(people["coord-north"])
    url = "/api/participants/api-typical/contact"
    templates = client.get("/api/participants/contact-templates", headers=coordinator).json()
    assert {t["key"] for t in templates} == {"not_wearing", "not_syncing", "charge_device"}
    preview = client.post(f"{url}/preview", json={"template": "charge_device"}, headers=coordinator).json()
    assert preview["to"] == "j***@example.org" and "charge" in preview["text"] and preview["contacted_today"] is None
    seq = last_seq(cohort.dsn)
    sent = client.post(url, json={"template": "charge_device", "message": "Please charge it tonight."},
                       headers=coordinator)
    assert sent.status_code == 200, sent.text
    assert sent.json() == {"participant_id": "api-typical", "to": "j***@example.org",
                           "subject": "Your study Fitbit: please charge it", "delivered": "email"}
    (mail_from, recipients, message), = inbox.messages
    assert recipients == ["jane.doe@example.org"]  # the participant, not the coordinators' list
    assert message.get_content().strip() == "Please charge it tonight."
    again = client.post(url, json={"template": "not_wearing"}, headers=coordinator)
    assert again.status_code == 409 and "contacted today already" in again.json()["detail"]
    assert client.post(url, json={"template": "not_wearing", "override": True}, headers=coordinator).status_code == 200
    assert len(inbox.messages) == 2
    contact_rows = [r for r in audit_rows(cohort.dsn, seq) if r[1] == "contact"]
    assert [(r[0], r[3], r[5]["template"], r[5]["result"]) for r in contact_rows] == [
        ("coord-north", ["api-typical"], "charge_device", "delivered by email"),
        ("coord-north", ["api-typical"], "not_wearing", contact_rows[1][5]["result"]),
        ("coord-north", ["api-typical"], "not_wearing", "delivered by email"),
    ]
    assert contact_rows[1][5]["result"].startswith("refused: was contacted today already")
    # The address is stored encrypted: neither it nor its domain is in the table in clear text.
    (stored,) = fetch_all(cohort.dsn, "SELECT email_enc FROM participant_contact WHERE participant_id = 'api-typical'")[0]
    assert b"jane" not in bytes(stored) and b"example.org" not in bytes(stored)


@pytest.mark.integration
def test_contact_refusals_never_claim_a_delivery(people, make_client, cohort, smtp_server):
    port, inbox = smtp_server
    engineer_client = make_client(alert_channel=lambda: AlertChannelResource(smtp_host="127.0.0.1", smtp_port=port,
                                                                               smtp_tls="none"))
    local = make_client(auth="off", alert_channel=AlertChannelResource)
    # do-not-contact (api-lowwear), no address (api-landing), and no SMTP server: errors, nothing sent.
    do_not = engineer_client.post("/api/participants/api-lowwear/contact", json={"template": "not_syncing"},
                                  headers=bearer(people["engineer"]))
    assert do_not.status_code == 403  # an engineer contacts no one
    assert local.post("/api/participants/api-lowwear/contact", json={"template": "not_syncing"}).status_code == 409
    assert local.post("/api/participants/api-landing/contact", json={"template": "not_syncing"}).status_code == 409
    run(cohort.dsn, "DELETE FROM contact_sent")
    no_smtp = local.post("/api/participants/api-typical/contact", json={"template": "not_syncing"})
    assert no_smtp.status_code == 503 and "nothing was sent" in no_smtp.json()["detail"]
    assert local.post("/api/participants/api-typical/contact", json={"template": "bogus"}).status_code == 422
    refused = make_client(auth="off", alert_channel=lambda: AlertChannelResource(
        smtp_host="127.0.0.1", smtp_port=1, smtp_tls="none", timeout_seconds=2))
    failed = refused.post("/api/participants/api-typical/contact", json={"template": "not_syncing"})
    assert failed.status_code == 502 and "nothing was sent" in failed.json()["detail"]
    assert "127.0.0.1" not in failed.text and "jane" not in failed.text
    assert inbox.messages == []


def test_contact_address_hint_and_key():
    from fitbit_assets.domain.contact import email_hint

    assert email_hint("jane.doe@example.org") == "j***@example.org"
    with pytest.raises(contacts.ContactKeyError, match="FITBIT_TOKEN_ENCRYPTION_KEY is not set"):
        contacts.Contact("j***", False, b"x").email(None, "p1")


@pytest.mark.integration
def test_contacts_cli_stores_the_address_encrypted(warehouse, warehouse_dsn, monkeypatch, capsys, tmp_path):
    from fitbit_assets.domain.roster import Participant, write_roster

    roster = tmp_path / "roster.csv"
    write_roster(roster, [Participant("p-1", 1, "Europe/Berlin", dt.date(2025, 1, 1), "landing", site="north")])
    monkeypatch.setenv("FITBIT_ROSTER_PATH", str(roster))
    monkeypatch.setenv("FITBIT_WAREHOUSE_DSN", warehouse_dsn)
    assert cli.main(["contacts", "set", "p-1", "--email", "ann@example.org"]) == 2
    assert "FITBIT_TOKEN_ENCRYPTION_KEY is not set" in capsys.readouterr().err
    monkeypatch.setenv("FITBIT_TOKEN_ENCRYPTION_KEY", KEY)
    assert cli.main(["contacts", "set", "nobody", "--email", "x@example.org"]) == 2
    assert cli.main(["contacts", "set", "p-1", "--email", "ann@example.org"]) == 0
    assert cli.main(["contacts", "set", "p-1", "--do-not-contact"]) == 0
    with warehouse.connection() as conn, conn.cursor() as cur:
        contact = contacts.contact_of(cur, "p-1")
    assert (contact.email_hint, contact.do_not_contact, contact.email(KEY, "p-1")) == ("a***@example.org", True,
                                                                                        "ann@example.org")
    (stored,) = fetch_all(warehouse_dsn, "SELECT email_enc FROM participant_contact")[0]
    assert b"ann" not in bytes(stored)


@pytest.mark.integration
def test_concurrent_appends_form_one_chain(warehouse, warehouse_dsn):
    with warehouse.connection():  # the schema
        pass
    database = ApiDatabase(warehouse_dsn, pool_size=8)

    def append_many(worker: int) -> None:
        for n in range(10):
            with database.connection() as conn, conn.cursor() as cur:
                cur.execute("BEGIN READ WRITE")
                audit.append(cur, f"worker-{worker}", "read", "GET /api/cohort", (f"p{n}",))
                cur.execute("COMMIT")

    threads = [threading.Thread(target=append_many, args=(w,)) for w in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        database.close()
    with warehouse.connection() as conn, transaction(conn) as cur:
        result = audit.verify(cur)
    assert (result.rows, result.problems) == (80, [])
    assert fetch_all(warehouse_dsn, "SELECT min(seq), max(seq), count(DISTINCT seq) FROM audit_log")[0] == (1, 80, 80)
