"""The daily schedule: yesterday plus a trailing window, one ranged run per batch of participants."""

import datetime as dt

import dagster as dg

from fitbit_assets import settings
from fitbit_assets.defs.jobs import pipeline_job
from fitbit_assets.domain.roster import Roster
from fitbit_assets.lib.partitions import STUDY_START, range_tags
from fitbit_assets.lib.study_files import StudyFilesResource

# 12:30 UTC: "yesterday" has ended in every timezone from UTC-12 to UTC+14.
DAILY_CRON = "30 12 * * *"


def daily_run_requests(
    roster: Roster,
    today: dt.date,
    trailing_days: int,
    study_start: dt.date,
    participants_per_run: int,
) -> list[dg.RunRequest]:
    """Runs covering [yesterday - trailing_days, yesterday] for every roster participant enrolled by yesterday, in
    batches of up to ``participants_per_run`` participants (roster order). Days before a participant's enrolment
    inside a batch are skipped by the assets."""
    yesterday = today - dt.timedelta(days=1)
    enrolled = [p for p in roster.participants if p.enrolled_on <= yesterday]
    requests = []
    for start in range(0, len(enrolled), participants_per_run):
        batch = enrolled[start:start + participants_per_run]
        first = max(yesterday - dt.timedelta(days=trailing_days), min(p.enrolled_on for p in batch), study_start)
        requests.append(
            dg.RunRequest(
                run_key=f"{batch[0].participant_id}..{batch[-1].participant_id}:{yesterday.isoformat()}",
                tags=range_tags([p.participant_id for p in batch], first, yesterday),
            )
        )
    return requests


@dg.schedule(
    job=pipeline_job,
    cron_schedule=DAILY_CRON,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day at 12:30 UTC: yesterday and the 3 days before it (FITBIT_LATE_SYNC_DAYS) for every "
    "roster participant, one ranged run per 250 participants (FITBIT_PARTICIPANTS_PER_RUN). Days whose input did not "
    "change since they were loaded are skipped inside the run.",
)
def daily_pipeline_schedule(context: dg.ScheduleEvaluationContext, study_files: StudyFilesResource):
    today = context.scheduled_execution_time.astimezone(dt.timezone.utc).date()
    # The settings were validated when the code location loaded; the date partitions hold the study start.
    configured = settings.load()
    requests = daily_run_requests(
        study_files.roster(), today, configured.late_sync_days, STUDY_START, configured.participants_per_run
    )
    return requests or dg.SkipReason("no roster participant is enrolled by yesterday")
