"""Google Health API connector (successor of the Fitbit Web API): enrolment, encrypted tokens, pulls.

Written from the published reference (developers.google.com/health: ``users.dataTypes.dataPoints.list``,
scopes, rate limits, OAuth) and tested against a loopback fake of it (``fitbit_assets/devtools/google_health_fake.py``),
not yet against the live service. docs/google-health.md.
"""

# The roster source of the connector's participants, also its landing folder and lineage source_format.
from fitbit_assets.domain.roster import GOOGLE_HEALTH as SOURCE

# The scopes of the data types pulled, and no others (developers.google.com/health/scopes): heart-rate,
# daily-respiratory-rate and oxygen-saturation are health_metrics_and_measurements; steps (read for on-wrist presence),
# distance, total-calories, activity-level and active-zone-minutes are activity_and_fitness; sleep has its own;
# settings.readonly gives users.pairedDevices (the device's last sync and battery).
HEART_RATE_TYPE = "heart-rate"
HEALTH_METRICS = "https://www.googleapis.com/auth/googlehealth.health_metrics_and_measurements.readonly"
ACTIVITY = "https://www.googleapis.com/auth/googlehealth.activity_and_fitness.readonly"
SLEEP = "https://www.googleapis.com/auth/googlehealth.sleep.readonly"
SETTINGS = "https://www.googleapis.com/auth/googlehealth.settings.readonly"
SCOPES = (HEALTH_METRICS, ACTIVITY, SLEEP, SETTINGS)
PAIRED_DEVICES = "paired-devices"  # not a data type: the pull's name for users.pairedDevices
# Users may grant some scopes and withhold others: each data type is pulled only when its scope was granted.
TYPE_SCOPES = {
    HEART_RATE_TYPE: HEALTH_METRICS, "daily-respiratory-rate": HEALTH_METRICS, "oxygen-saturation": HEALTH_METRICS,
    "steps": ACTIVITY, "distance": ACTIVITY, "total-calories": ACTIVITY, "activity-level": ACTIVITY,
    "active-zone-minutes": ACTIVITY, "sleep": SLEEP, PAIRED_DEVICES: SETTINGS,
}


def withheld_types(granted_scopes) -> list[str]:
    """The data types whose scope is not among ``granted_scopes``, sorted."""
    return sorted(data_type for data_type, scope in TYPE_SCOPES.items() if scope not in set(granted_scopes))


SCOPE_INSUFFICIENT = "ACCESS_TOKEN_SCOPE_INSUFFICIENT"  # ErrorInfo reason: the token lacks the type's scope


def refused_types(data_type: str | None, error_reason: str | None, pulled: tuple[str, ...]) -> list[str]:
    """The data types a 403 for ``data_type`` withholds, sorted: every type of its scope when the token lacks that
    scope (withdrawn after consent), else that type alone, so a type refused for another reason never stops
    another type's pull; ``pulled`` (the failed pull's types) when the request named no known type."""
    if data_type not in TYPE_SCOPES:
        return sorted(pulled)
    if error_reason == SCOPE_INSUFFICIENT:
        return sorted(t for t, scope in TYPE_SCOPES.items() if scope == TYPE_SCOPES[data_type])
    return [data_type]

