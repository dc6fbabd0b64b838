"""The native TimescaleDB server's prerequisite (``make test`` builds the extension first)."""

from __future__ import annotations

import os

import pytest

from fitbit_assets.warehouse.native_timescaledb import missing_prerequisite


def require_timescaledb() -> None:
    """Skip (locally) or fail (CI set) when the extension is not installed in the embedded PostgreSQL."""
    reason = missing_prerequisite()
    if reason:
        message = f"native TimescaleDB unavailable: {reason}"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
