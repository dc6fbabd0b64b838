"""Read-only query layer over the warehouse: time series at an automatic resolution, adherence, sleep, cohort.

Used by the HTTP API (``fitbit_assets.serving.api``), benchmarks and tests. Every read takes an open psycopg2
connection and only reads; statements live in ``sql/queries/api_*.sql`` and take bound parameters. One module
per concern: ``resolution`` is pure; ``series``, ``participants``, ``adherence``, ``sleep`` and ``cohort`` read
(the cohort's status rules are in ``fitbit_assets.domain.coordinator_status``); ``series_tables`` says where each metric's series lives. The names below are the layer's
public surface, so callers import from ``fitbit_assets.serving.query`` and not from its modules.
"""

from fitbit_assets.serving.query.adherence import cohort_adherence, participant_adherence
from fitbit_assets.serving.query.cohort import CohortData, cohort_overview, cohort_statuses, read_cohort, status_rules
from fitbit_assets.serving.query.errors import QueryError, UnknownParticipant
from fitbit_assets.serving.query.participants import participants, require_participant
from fitbit_assets.serving.query.resolution import (
    BUCKET_SECONDS,
    DEFAULT_MAX_POINTS,
    RESOLUTIONS,
    as_utc,
    bucket_count,
    candidate_resolutions,
    check_explicit_resolution,
)
from fitbit_assets.serving.query.series import Series, last_data_time, series
from fitbit_assets.serving.query.series_tables import SERIES_TABLES, SeriesTables, series_tables
from fitbit_assets.serving.query.sleep import last_sleep_night, participant_sleep

__all__ = [
    "BUCKET_SECONDS",
    "CohortData",
    "DEFAULT_MAX_POINTS",
    "RESOLUTIONS",
    "SERIES_TABLES",
    "QueryError",
    "Series",
    "SeriesTables",
    "UnknownParticipant",
    "as_utc",
    "bucket_count",
    "candidate_resolutions",
    "check_explicit_resolution",
    "cohort_adherence",
    "cohort_overview",
    "cohort_statuses",
    "last_data_time",
    "last_sleep_night",
    "participant_adherence",
    "participant_sleep",
    "participants",
    "read_cohort",
    "require_participant",
    "series",
    "series_tables",
    "status_rules",
]
