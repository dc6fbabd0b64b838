"""Snapshot of the code location: every asset spec, check, job, schedule and sensor as the UI lists them.

A change to the graph (a new asset, a renamed check, another group or partitioning) shows here as a diff of
``snapshots/defs.json``. After an intended change, regenerate it and review the diff:

    python -m fitbit_assets_tests.defs.test_defs
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg

from fitbit_assets.lib.partitions import DAYS_PER_BACKFILL_RUN

SNAPSHOT = Path(__file__).parent / "snapshots" / "defs.json"
ROOT = Path(__file__).resolve().parents[2]


def describe(defs: dg.Definitions) -> dict:
    graph = defs.resolve_asset_graph()
    job = {name: sorted(k.to_user_string() for k in defs.resolve_job_def(name).asset_layer.selected_asset_keys)
           for name in sorted(j.name for j in defs.jobs or [])}
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "kinds": sorted(node.kinds),
            "partitions": type(node.partitions_def).__name__ if node.partitions_def else None,
            "backfill_policy": str(node.backfill_policy) if node.backfill_policy else None,
            "pools": sorted(node.pools or []),
            "checks": sorted(
                f"{check.name}{' (blocking)' if graph.get(check).blocking else ''}" for check in node.check_keys
            ),
            "jobs": [name for name, keys in job.items() if key.to_user_string() in keys],
        }
    return {
        "assets": assets,
        "jobs": sorted(job),
        "schedules": sorted(s.name for s in defs.schedules or []),
        "sensors": sorted(s.name for s in defs.sensors or []),
        "resources": sorted(defs.resources or {}),
    }


def current() -> dict:
    from fitbit_assets.definitions import defs

    return describe(defs)


def test_definitions_match_the_snapshot():
    expected = json.loads(SNAPSHOT.read_text())
    assert current() == expected, (
        "the code location changed; if intended, run `python -m fitbit_assets_tests.defs.test_defs` and review the diff "
        f"of {SNAPSHOT.relative_to(ROOT)}"
    )


def test_every_asset_is_partitioned_by_local_day_in_the_job_with_backfill_runs_of_days():
    described = current()["assets"]
    for name, spec in described.items():
        assert spec["partitions"] == "DailyPartitionsDefinition", name
        assert spec["jobs"] == ["pipeline_job"], name
        assert spec["backfill_policy"] == str(dg.BackfillPolicy.multi_run(DAYS_PER_BACKFILL_RUN)), name


def test_dg_check_defs_and_list_defs_load_the_project():
    dg_cli = shutil.which("dg", path=str(Path(sys.executable).parent))
    assert dg_cli, "the dg CLI (dagster-dg-cli, pinned with Dagster in the test extra) is not installed"
    env = {**os.environ, "VIRTUAL_ENV": str(Path(sys.executable).parent.parent), "PYTHONWARNINGS": "ignore"}
    check = subprocess.run([dg_cli, "check", "defs"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]
    assert "All definitions loaded successfully" in check.stdout + check.stderr
    listed = subprocess.run([dg_cli, "list", "defs", "--json"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert listed.returncode == 0, listed.stderr[-3000:]
    keys = {asset["asset_key"] for asset in json.loads(listed.stdout)["assets"]}
    assert keys == set(current()["assets"])


if __name__ == "__main__":
    SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
    SNAPSHOT.write_text(json.dumps(current(), indent=1, sort_keys=True) + "\n")
    print(f"wrote {SNAPSHOT}")
