"""Check metadata names used by more than one module: the keys every participant-day evaluation carries
(lib/check_reporting.py), and those the checks write for the alert sensor (defs/alerts/messages.py) to read.

A key that only its check writes (e.g. ``failed_rules``, ``mismatches``) stays a literal beside that check.
"""

# Check the alert sensor turns into coordinator alerts (the others go to the data engineer).
VALID_DAY_CHECK = "daily_adherence_valid_day"

# Every per-day evaluation names its participant-day (lib/check_reporting.py), for the UI.
PARTICIPANT_ID = "participant_id"
LOCAL_DATE = "local_date"
# Why a day failed, in words for the coordinator: the alert's text.
REASON = "reason"
# Valid-day check: why an invalid day has no data, a DayStatus value or DAY_STATUS_UNKNOWN (no sync records).
DAY_STATUS = "day_status"
DAY_STATUS_UNKNOWN = "unknown"
