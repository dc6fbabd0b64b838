"""The roster sensor: every roster row becomes a participant partition, without a deploy."""

import dagster as dg

from fitbit_assets.domain.roster import Roster
from fitbit_assets.lib.partitions import participant_partitions
from fitbit_assets.lib.study_files import StudyFilesResource


def participants_to_register(roster: Roster, registered: list[str]) -> list[str]:
    known = set(registered)
    return [participant_id for participant_id in roster.participant_ids if participant_id not in known]


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Registers every valid roster row as a participant partition; bad rows are reported, not loaded.",
)
def participant_roster_sensor(context: dg.SensorEvaluationContext, study_files: StudyFilesResource):
    try:
        roster = study_files.roster()
    except (FileNotFoundError, ValueError) as exc:
        return dg.SkipReason(str(exc))
    for error in roster.errors:
        context.log.warning(f"roster {roster.path}: {error}")
    new = participants_to_register(roster, context.instance.get_dynamic_partitions(participant_partitions.name))
    rejected = f"; rejected rows: {'; '.join(map(str, roster.errors))}" if roster.errors else ""
    if not new:
        return dg.SkipReason(f"roster unchanged ({len(roster.participants)} participants){rejected}")
    context.log.info(f"registering {new}{rejected}")
    return dg.SensorResult(dynamic_partitions_requests=[participant_partitions.build_add_request(new)])
