"""The daily schedule: yesterday plus a trailing window, one ranged run per batch of participants."""

import datetime as dt

import dagster as dg

from fitbit_assets import settings
from fitbit_assets.defs.jobs import heart_rate_job
from fitbit_assets.domain.roster import Roster
from fitbit_assets.lib.partitions import STUDY_START, participant_partitions, range_tags
from fitbit_assets.lib.study_files import StudyFilesResource

# 12:30 UTC: "yesterday" has ended in every timezone from UTC-12 to UTC+14.
DAILY_CRON = "30 12 * * *"


def daily_run_requests(
    roster: Roster,
    registered: list[str],
    today: dt.date,
    trailing_days: int,
    study_start: dt.date,
    participants_per_run: int,
) -> list[dg.RunRequest]:
    """Runs covering [yesterday - trailing_days, yesterday] for every registered participant of the roster, in
    batches of up to ``participants_per_run`` participants adjacent in registration order (a run covers a range
    of the participant dimension, so a participant removed from the roster splits a batch). Days before a
    participant's enrolment inside a batch are skipped by the assets."""
    yesterday = today - dt.timedelta(days=1)
    enrolled = {p.participant_id: p for p in roster.participants}
    batches: list[list[str]] = [[]]
    for participant_id in registered:
        participant = enrolled.get(participant_id)
        if participant is None:  # registered earlier, since removed from the roster: keep history, stop loading
            batches.append([])
            continue
        if participant.enrolled_on > yesterday:  # not enrolled yet: its days would all be skipped
            batches.append([])
            continue
        if len(batches[-1]) == participants_per_run:
            batches.append([])
        batches[-1].append(participant_id)
    requests = []
    for batch in filter(None, batches):
        first = max(yesterday - dt.timedelta(days=trailing_days), min(enrolled[p].enrolled_on for p in batch), study_start)
        requests.append(
            dg.RunRequest(
                run_key=f"{batch[0]}..{batch[-1]}:{yesterday.isoformat()}",
                tags=range_tags(batch[0], first, yesterday, through_participant=batch[-1]),
            )
        )
    return requests


@dg.schedule(
    job=heart_rate_job,
    cron_schedule=DAILY_CRON,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every day at 12:30 UTC: yesterday and the 3 days before it (FITBIT_LATE_SYNC_DAYS) for every "
    "registered participant, one ranged run per 25 participants (FITBIT_PARTICIPANTS_PER_RUN). Days whose input did not "
    "change since they were loaded are skipped inside the run.",
)
def daily_heart_rate_schedule(context: dg.ScheduleEvaluationContext, study_files: StudyFilesResource):
    today = context.scheduled_execution_time.astimezone(dt.timezone.utc).date()
    registered = context.instance.get_dynamic_partitions(participant_partitions.name)
    # The settings were validated when the code location loaded; the date partitions hold the study start.
    configured = settings.load()
    requests = daily_run_requests(
        study_files.roster(), registered, today, configured.late_sync_days, STUDY_START, configured.participants_per_run
    )
    return requests or dg.SkipReason("no registered participant is enrolled for yesterday")
