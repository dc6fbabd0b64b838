"""Google Health API connector (successor of the Fitbit Web API): enrolment, encrypted tokens, pulls.

Written from the published reference (developers.google.com/health: ``users.dataTypes.dataPoints.list``,
scopes, rate limits, OAuth) and tested against a loopback fake of it (``fitbit_assets_tests/google_health_fake.py``),
not yet against the live service. README "Google Health API connector".
"""

# The scopes of the data types pulled, and no others (developers.google.com/health/scopes): heart-rate,
# daily-respiratory-rate and oxygen-saturation are health_metrics_and_measurements; steps (read for on-wrist presence)
# and active-zone-minutes are activity_and_fitness; sleep has its own.
HEART_RATE_TYPE = "heart-rate"
SCOPES = (
    "https://www.googleapis.com/auth/googlehealth.health_metrics_and_measurements.readonly",
    "https://www.googleapis.com/auth/googlehealth.activity_and_fitness.readonly",
    "https://www.googleapis.com/auth/googlehealth.sleep.readonly",
)
SOURCE = "google_health"  # roster source, landing folder and lineage source_format
