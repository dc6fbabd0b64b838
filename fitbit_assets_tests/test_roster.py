import datetime as dt

import pytest

from fitbit_assets.roster import UnknownParticipantError, read_roster


def write(tmp_path, text):
    path = tmp_path / "roster.csv"
    path.write_text(text)
    return path


def test_valid_rows_load_and_bad_rows_are_reported(tmp_path):
    roster = read_roster(
        write(
            tmp_path,
            "participant_id,seed,timezone,enrolled_on,source\n"
            "p001,1,America/New_York,2025-01-02,synthetic\n"
            "bad id,2,UTC,2025-01-01,synthetic\n"
            "p002,x,UTC,2025-01-01,synthetic\n"
            "p003,3,Mars/Olympus,2025-01-01,synthetic\n"
            "p004,4,UTC,2025-13-01,landing\n"
            "p005,5,UTC,2025-01-01,ftp\n"
            "p001,6,UTC,2025-01-01,landing\n"
            f"{'a' * 65},7,UTC,2025-01-01,landing\n"
            "p_6-ok,8,Asia/Kolkata,2025-01-01,landing\n",
        )
    )
    assert roster.participant_ids == ["p001", "p_6-ok"]
    assert roster.get("p001").enrolled_on == dt.date(2025, 1, 2)
    reasons = {error.line: error.reason for error in roster.errors}
    assert set(reasons) == {3, 4, 5, 6, 7, 8, 9}
    assert "participant_id must match" in reasons[3]
    assert "seed 'x'" in reasons[4]
    assert "Mars/Olympus" in reasons[5]
    assert "enrolled_on" in reasons[6]
    assert "source 'ftp'" in reasons[7]
    assert reasons[8] == "duplicate participant_id"
    assert "participant_id must match" in reasons[9]


def test_unknown_participant_names_the_roster(tmp_path):
    path = write(tmp_path, "participant_id,seed,timezone,enrolled_on,source\np1,1,UTC,2025-01-01,synthetic\n")
    with pytest.raises(UnknownParticipantError, match=r"'p9' is not a valid row of the roster .*roster.csv"):
        read_roster(path).get("p9")


def test_missing_columns_are_an_error(tmp_path):
    with pytest.raises(ValueError, match=r"lacks columns \['timezone'"):
        read_roster(write(tmp_path, "participant_id,seed,enrolled_on,source\n"))
