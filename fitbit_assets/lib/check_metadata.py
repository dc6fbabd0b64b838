"""Check metadata names used by more than one module: the keys every participant-day evaluation carries
(lib/check_reporting.py), and those the checks write for the alert sensor (defs/alerts/messages.py) to read.

A key that only its check writes (e.g. ``failed_rules``, ``mismatches``) stays a literal beside that check.
"""

# Check the alert sensor turns into coordinator alerts (the others go to the data engineer).
VALID_DAY_CHECK = "daily_adherence_valid_day"

# Every failing participant-day of a day's evaluation names its participant and day (lib/check_reporting.py).
PARTICIPANT_ID = "participant_id"
LOCAL_DATE = "local_date"
# Why a day failed, in words for the coordinator: the alert's text.
REASON = "reason"
# Valid-day check: why an invalid day has no data, a DayStatus value or DAY_STATUS_UNKNOWN (no sync records).
DAY_STATUS = "day_status"
DAY_STATUS_UNKNOWN = "unknown"
# Every day's evaluation: how many participants it judged, how many failed, and the failing participant-days (each
# a dict with PARTICIPANT_ID, LOCAL_DATE, description and the check's own keys such as REASON and DAY_STATUS).
PARTICIPANTS_CHECKED = "participants_checked"
PARTICIPANTS_FAILED = "participants_failed"
FAILING_PARTICIPANT_DAYS = "failing_participant_days"
