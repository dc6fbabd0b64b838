"""Google Health API connector (successor of the Fitbit Web API): enrolment, encrypted tokens, pulls.

Written from the published reference (developers.google.com/health: ``users.dataTypes.dataPoints.list``,
scopes, rate limits, OAuth) and tested against a loopback fake of it (``fitbit_assets_tests/google_health_fake.py``),
not yet against the live service. README "Google Health API connector".
"""

# The data types pulled and the one scope they need (developers.google.com/health/scopes): heart-rate is a
# Sample type under health_metrics_and_measurements.
HEART_RATE_TYPE = "heart-rate"
SCOPES = ("https://www.googleapis.com/auth/googlehealth.health_metrics_and_measurements.readonly",)
SOURCE = "google_health"  # roster source, landing folder and lineage source_format
