"""Materialize the landing -> heart_rate path in a fresh process whose partitions start early enough.

``fitbit_assets.lib.partitions`` reads ``FITBIT_STUDY_START`` at import (default: the roster's first enrolment, else
2024-01-01), so 2016 data needs another process; this is what a deployment loading 2016 exports does (docs/real-exports.md).
Usage: ``python -m fitbit_assets_tests.support.real_exports_runner '<json config>'``; prints one JSON line.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import warnings


def metadata_by_day(result) -> dict[str, dict[str, dict]]:
    by_asset: dict[str, dict[str, dict]] = {}
    for event in result.get_asset_materialization_events():
        values = {k: v.value for k, v in event.materialization.metadata.items()}
        by_asset.setdefault(event.asset_key.to_user_string(), {})[event.partition] = values
    return by_asset


def main(config: dict) -> dict:
    import dagster as dg

    from fitbit_assets.defs.datasets.checks import (
        heart_rate_rows_match_validated,
        validated_heart_rate_schema,
    )
    from fitbit_assets.defs.datasets.factory import heart_rate_rows, raw_heart_rate_csv, validated_heart_rate
    from fitbit_assets.defs.device_sync.assets import device_sync_events
    from fitbit_assets.lib.check_metadata import FAILING_PARTICIPANT_DAYS
    from fitbit_assets.lib.partitions import range_tags
    from fitbit_assets.lib.study_files import StudyFilesResource
    from fitbit_assets.warehouse.resource import WarehouseResource

    resources = {
        "study_files": StudyFilesResource(**config["study_files"]),
        "warehouse": WarehouseResource(dsn=config["dsn"]),
    }
    selection = [
        raw_heart_rate_csv, validated_heart_rate, heart_rate_rows, validated_heart_rate_schema,
        heart_rate_rows_match_validated, device_sync_events,
    ]
    runs = []
    with dg.instance_for_test() as instance:
        for participant_id, first, last in config["runs"]:
            result = dg.materialize(
                selection,
                instance=instance,
                tags=range_tags(participant_id, dt.date.fromisoformat(first), dt.date.fromisoformat(last)),
                resources=resources,
                raise_on_error=False,
            )
            failures = [
                (e.step_failure_data.user_failure_data.description if e.step_failure_data.user_failure_data else None)
                or e.step_failure_data.error.message
                for e in result.all_events
                if e.event_type_value == "STEP_FAILURE"
            ]
            runs.append(
                {
                    "participant_id": participant_id,
                    "success": result.success,
                    "failures": failures,
                    "materialized": sorted(
                        f"{e.asset_key.to_user_string()}:{e.partition}" for e in result.get_asset_materialization_events()
                    ),
                    "checks_passed": [e.passed for e in result.get_asset_check_evaluations()],
                    "failed_checks": [
                        {
                            "check": e.check_name,
                            "partition": e.partition,
                            "description": e.description,
                            "failing_participant_days": [
                                f"{f['participant_id']}/{f['local_date']}" for f in e.metadata[FAILING_PARTICIPANT_DAYS].value
                            ],
                        }
                        for e in result.get_asset_check_evaluations() if not e.passed and e.partition is not None
                    ],
                    # asset -> day -> that day's materialization metadata
                    "metadata": metadata_by_day(result),
                }
            )
    return {"runs": runs}


if __name__ == "__main__":
    warnings.filterwarnings("ignore")
    print(json.dumps(main(json.loads(sys.argv[1]))))
