"""Runs of the asset graph in a test instance, and what their checks reported."""

from __future__ import annotations

import dagster as dg

from fitbit_assets.lib.check_metadata import FAILING_PARTICIPANT_DAYS
from fitbit_assets.lib.partitions import PARTICIPANTS_TAG


def materialize_graph(selection, instance, study_files, warehouse, *, participant_day=None, tags=None, **resources):
    """Run ``selection`` in the test instance on the study's files and warehouse (one ``participant_day``, or the
    day range and participants of ``tags``); failures are in the result."""
    if participant_day is not None:
        tags = {**(tags or {}), PARTICIPANTS_TAG: participant_day.participant_id}
    return dg.materialize(
        selection,
        instance=instance,
        partition_key=participant_day.local_date.isoformat() if participant_day is not None else None,
        tags=tags,
        resources={"study_files": study_files, "warehouse": warehouse, **resources},
        raise_on_error=False,
    )


def day_evaluations(result, check_name: str | None = None) -> list:
    """The per-day check evaluations of a run (without the checks' summaries over many days)."""
    return [
        e for e in result.get_asset_check_evaluations()
        if e.partition is not None and (check_name is None or e.check_name == check_name)
    ]


def failing_participant_days(evaluation) -> list[dict]:
    """The failing participant-days a day's evaluation lists (participant_id, local_date, description, ...)."""
    return evaluation.metadata[FAILING_PARTICIPANT_DAYS].value
