import dagster as dg

from fitbit_assets.lib.partitions import DAYS_PER_BACKFILL_RUN

# Every stage of the participant-day pipeline; an asset added to one of these groups joins the job by itself.
PIPELINE_GROUPS = ("landing", "validated", "warehouse", "rollups")

pipeline_job = dg.define_asset_job(
    "pipeline_job",
    selection=dg.AssetSelection.groups(*PIPELINE_GROUPS),
    description="Raw CSV -> validated Parquet -> heart_rate table -> 1m/1h/1d rollups -> daily adherence (with checks) "
    "for a participant's day range, and the same stages for every metric family. Partitions are local days: "
    "each participant's own calendar day in their roster time zone (Dagster labels them \"Daily ... UTC\"); the "
    "run tag fitbit/participants names whom a run covers (none: the whole roster). Every asset has the same "
    f"backfill policy, runs of at most {DAYS_PER_BACKFILL_RUN} days: the launch dialog's \"varying backfill "
    "policies\" is what Dagster's UI says for any selection of several assets (it compares the policies as objects).",
)
