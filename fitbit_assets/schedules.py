"""The daily schedule: yesterday plus a trailing window, one ranged run per participant."""

import datetime as dt

import dagster as dg

from fitbit_assets import settings
from fitbit_assets.jobs import heart_rate_job
from fitbit_assets.partitions import STUDY_START, participant_partitions, range_tags
from fitbit_assets.roster import Roster
from fitbit_assets.study_files import StudyFilesResource

# 12:30 UTC: "yesterday" has ended in every timezone from UTC-12 to UTC+14.
DAILY_CRON = "30 12 * * *"


def daily_run_requests(
    roster: Roster, registered: list[str], today: dt.date, trailing_days: int, study_start: dt.date
) -> list[dg.RunRequest]:
    """One run per registered participant covering [yesterday - trailing_days, yesterday] from enrolment on."""
    yesterday = today - dt.timedelta(days=1)
    enrolled = {p.participant_id: p for p in roster.participants}
    requests = []
    for participant_id in registered:
        participant = enrolled.get(participant_id)
        if participant is None:  # registered earlier, since removed from the roster: keep history, stop loading
            continue
        first = max(yesterday - dt.timedelta(days=trailing_days), participant.enrolled_on, study_start)
        if first > yesterday:
            continue
        requests.append(
            dg.RunRequest(
                run_key=f"{participant_id}:{yesterday.isoformat()}",
                tags=range_tags(participant_id, first, yesterday),
            )
        )
    return requests


@dg.schedule(
    job=heart_rate_job,
    cron_schedule=DAILY_CRON,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day at 12:30 UTC: yesterday and the 3 days before it (FITBIT_LATE_SYNC_DAYS) for every "
    "registered participant, one ranged run per participant.",
)
def daily_heart_rate_schedule(context: dg.ScheduleEvaluationContext, study_files: StudyFilesResource):
    today = context.scheduled_execution_time.astimezone(dt.timezone.utc).date()
    registered = context.instance.get_dynamic_partitions(participant_partitions.name)
    # FITBIT_LATE_SYNC_DAYS was validated when the code location loaded; the date partitions hold the study start.
    requests = daily_run_requests(
        study_files.roster(), registered, today, settings.load().late_sync_days, STUDY_START
    )
    return requests or dg.SkipReason("no registered participant is enrolled for yesterday")
