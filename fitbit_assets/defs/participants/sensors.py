"""The roster sensor: says which participants the roster adds or drops, and which of its rows are rejected.

Participants are not partitions (lib/partitions.py): a roster row joins the next daily run by itself. The sensor
keeps the roster's participant ids as its cursor so each change is said once, in the UI's tick history.
"""

import json

import dagster as dg

from fitbit_assets.lib.study_files import StudyFilesResource


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Reports participants added to or removed from the roster (they join or leave the next daily run) "
    "and rejected roster rows; a new participant's history before the daily window is loaded with a backfill.",
)
def participant_roster_sensor(context: dg.SensorEvaluationContext, study_files: StudyFilesResource):
    try:
        roster = study_files.roster()
    except (FileNotFoundError, ValueError) as exc:
        return dg.SkipReason(str(exc))
    for error in roster.errors:
        context.log.warning(f"roster {roster.path}: {error}")
    known = set(json.loads(context.cursor)) if context.cursor else set()
    current = set(roster.participant_ids)
    added, removed = sorted(current - known), sorted(known - current)
    rejected = f"; rejected rows: {'; '.join(map(str, roster.errors))}" if roster.errors else ""
    context.update_cursor(json.dumps(sorted(current)))
    if not (added or removed):
        return dg.SkipReason(f"roster unchanged ({len(current)} participants){rejected}")
    changes = [f"added {', '.join(added[:20])}" + (" ..." if len(added) > 20 else "")] if added else []
    changes += [f"removed {', '.join(removed[:20])} (history kept, no longer loaded)"] if removed else []
    return dg.SkipReason(f"roster {roster.path}: {'; '.join(changes)}; {len(current)} participants{rejected}")
