"""The API access tests' users, secrets and audit-trail reads (fixtures in fitbit_assets_tests/serving/conftest.py)."""

from cryptography.fernet import Fernet

from fitbit_assets.devtools.queries import fetch_all
from fitbit_assets.warehouse.connection import transaction
from fitbit_assets.warehouse.resource import WarehouseResource

PASSWORD = "correct horse battery"
KEY = Fernet.generate_key().decode()
SITES = {"api-typical": "north", "api-lowwear": "south"}


def owner(dsn: str):
    return WarehouseResource(dsn=dsn).connection()


def run(dsn: str, statement: str, params=None) -> None:
    with owner(dsn) as conn, transaction(conn) as cur:
        cur.execute(statement, params)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def audit_rows(dsn: str, since_seq: int) -> list[tuple]:
    return fetch_all(dsn, "SELECT actor, action, endpoint, participants, time_range, detail FROM audit_log "
                          "WHERE seq > %s ORDER BY seq", (since_seq,))


def last_seq(dsn: str) -> int:
    return fetch_all(dsn, "SELECT COALESCE(max(seq), 0) FROM audit_log")[0][0]
