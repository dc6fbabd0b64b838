"""A small cohort loaded through the real asset graph (heart rate, rollups, adherence, device syncs, with their
checks), for the API and dashboard tests: once per test session, by the ``cohort`` fixture in conftest.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from fitbit_assets.domain.roster import Participant, write_roster
from fitbit_assets.lib.partitions import range_tags
from fitbit_assets.lib.study_files import StudyFilesResource
from fitbit_assets.warehouse.resource import WarehouseResource
from fitbit_assets_tests.support.study import study_files_in

# The heart-rate stages the read flow reads (device_sync_events when that asset exists), with their checks.
HEART_RATE_ASSETS = (
    "raw_heart_rate_csv", "validated_heart_rate", "heart_rate_rows", "heart_rate_aggregates", "daily_adherence",
    "device_sync_events",
    "raw_sleep_json", "validated_sleep", "sleep_rows",  # the dashboard's nightly sleep
)
FIRST_DAY = dt.date(2025, 6, 9)
LAST_DAY = dt.date(2025, 6, 11)
COHORT = [
    Participant("api-typical", 101, "America/New_York", FIRST_DAY, "synthetic", "typical"),
    Participant("api-lowwear", 303, "Europe/Berlin", FIRST_DAY, "synthetic", "low_wear"),
]
# One hand-built landing day: worn 06:00-22:00 local, 4 samples a minute, a 3-minute gap at 10:00 (imputed by
# adherence) and a 2-hour gap at 14:00 (not imputed).
LANDING = Participant("api-landing", 0, "Europe/London", LAST_DAY, "landing")
LANDING_SHORT_GAP = (10 * 60, 10 * 60 + 3)
LANDING_LONG_GAP = (14 * 60, 16 * 60)
NOT_LOADED = Participant("api-new", 7, "Asia/Tokyo", LAST_DAY, "synthetic", "typical")  # in the roster, no runs
# The API answers only the Host names of its allow-list (loopback by default): test clients use this base URL.
LOOPBACK_URL = "http://127.0.0.1"


@dataclass(frozen=True)
class LoadedCohort:
    dsn: str
    participants: list[Participant]
    first_day: dt.date = FIRST_DAY
    last_day: dt.date = LAST_DAY


def load_cohort(dsn: str, folder: Path) -> LoadedCohort:
    from fitbit_assets.definitions import defs
    from fitbit_assets.warehouse.days import upsert_participant

    study_files = study_files_in(folder)
    write_roster(Path(study_files.roster_path), COHORT + [LANDING, NOT_LOADED])
    drop_landing_day(study_files)
    drop_landing_night(study_files)
    warehouse = WarehouseResource(dsn=dsn)
    resources = {**defs.resources, "warehouse": warehouse, "study_files": study_files}
    assets = list(defs.assets or [])
    checks = list(defs.asset_checks or [])
    present = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    selection = dg.AssetSelection.assets(*[name for name in HEART_RATE_ASSETS if name in present])
    with dg.instance_for_test() as instance:
        for participant in COHORT + [LANDING]:
            result = dg.materialize(
                assets + checks,
                selection=selection,
                instance=instance,
                tags=range_tags(participant.participant_id, max(FIRST_DAY, participant.enrolled_on), LAST_DAY),
                resources=resources,
                raise_on_error=False,
            )
            assert result.success, [e.message for e in result.all_events if e.is_failure]
    with warehouse.connection() as conn:
        upsert_participant(conn, NOT_LOADED)
    return LoadedCohort(dsn, COHORT + [LANDING, NOT_LOADED])


def drop_landing_day(study_files: StudyFilesResource) -> None:
    from fitbit_assets.lib.partitions import ParticipantDayKey

    lines = ["time,value"]
    for minute in range(6 * 60, 22 * 60):
        if LANDING_SHORT_GAP[0] <= minute < LANDING_SHORT_GAP[1] or LANDING_LONG_GAP[0] <= minute < LANDING_LONG_GAP[1]:
            continue
        for second in (0, 15, 30, 45):
            lines.append(f"{minute // 60:02d}:{minute % 60:02d}:{second:02d},{60 + minute % 40}")
    path = study_files.day_file("heart_rate", ParticipantDayKey(LAST_DAY, LANDING.participant_id))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def drop_landing_night(study_files: StudyFilesResource) -> None:
    """The landing participant's night ending on LAST_DAY: a Fitabase-style classic document, 470 minutes asleep."""
    import json

    from fitbit_assets.domain.atomic_files import atomic_write_bytes
    from fitbit_assets.domain.metrics.files import document_bytes
    from fitbit_assets.lib.partitions import ParticipantDayKey
    from fitbit_assets_tests.support.sleep_documents import fitabase_document

    key = ParticipantDayKey(LAST_DAY, LANDING.participant_id)
    document = json.loads(json.dumps(fitabase_document(LAST_DAY)))
    atomic_write_bytes(study_files.day_file("sleep", key), document_bytes(document))
