"""Stage 3: validated frames -> the dataset's table, each participant-day replaced atomically (``Dataset.replace_days``)."""

import dagster as dg

from fitbit_assets.defs.datasets.dataset import Dataset, DayLoad
from fitbit_assets.lib.day_metadata import DayTally
from fitbit_assets.lib.partitions import ParticipantDayKey, participant_days, run_local_dates
from fitbit_assets.lib.study_files import StudyFilesResource
from fitbit_assets.warehouse.days import upsert_participant
from fitbit_assets.warehouse.fingerprints import note_processed, processed_fingerprints
from fitbit_assets.warehouse.resource import WarehouseResource


ROWS_COUNTS = ("rows_inserted", "rows_replaced", "participants_loaded", "participants_unchanged",
               "participants_quarantined", "participants_without_data")


def load_validated_days(
    context: dg.AssetExecutionContext,
    study_files: StudyFilesResource,
    warehouse: WarehouseResource,
    dataset: Dataset,
) -> dg.MaterializeResult:
    """Replace each participant-day whose validated input changed since it was last loaded. Days without a raw file
    are counted; quarantined days (validation failed) keep their previous rows and do not hold back the others."""
    roster = study_files.roster()
    stage = f"{dataset.name}_rows"
    tally = DayTally(run_local_dates(context))
    keys = participant_days(context, roster)
    with warehouse.connection() as conn:
        for participant_id in sorted({key.participant_id for key in keys}):
            upsert_participant(conn, roster.get(participant_id))
        loaded = processed_fingerprints(conn, stage, keys)
        pending: list[tuple[ParticipantDayKey, str, DayLoad]] = []

        def load_pending() -> None:
            # Each fingerprint commits with its day's rows: the two never disagree.
            counts = dataset.replace_days(
                conn, [load for _, _, load in pending],
                lambda cur, index, inserted: note_processed(cur, stage, pending[index][0], pending[index][1], inserted),
            )
            for (key, _, _), (deleted, inserted) in zip(pending, counts):
                tally.count(key.local_date, "rows_replaced", deleted)
                tally.count(key.local_date, "rows_inserted", inserted)
                tally.count(key.local_date, "participants_loaded")
            pending.clear()

        for key in keys:
            day = key.local_date
            raw = study_files.day_file(dataset.landing_name, key)
            if not raw.exists():
                tally.count(day, "participants_without_data")
                continue
            report = study_files.read_report(dataset.name, key)
            if report is None or not report.passed:
                tally.name(day, "participants_quarantined", key.participant_id)
                continue
            if loaded.get((key.participant_id, day)) == report.input_fingerprint:
                tally.count(day, "participants_unchanged")  # same validated input as loaded: nothing to replace
                continue
            load = DayLoad(raw, roster.get(key.participant_id), roster.local_day(key),
                           study_files.read_validated(dataset.name, key))
            pending.append((key, report.input_fingerprint, load))
            if len(pending) == dataset.day_batch:
                load_pending()
        if pending:
            load_pending()
    context.log.info(
        f"{dataset.table}: loaded {tally.total('rows_inserted')} rows over {tally.total('participants_loaded')} "
        f"participant-day(s), {tally.total('participants_unchanged')} unchanged"
    )
    if tally.total("participants_quarantined"):
        context.log.warning(f"{dataset.table}: {tally.total('participants_quarantined')} participant-day(s) not loaded, "
                            "failed validation (quarantined)")
    return tally.report(context, ROWS_COUNTS)
