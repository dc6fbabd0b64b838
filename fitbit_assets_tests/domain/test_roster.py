import datetime as dt

import pytest

from fitbit_assets.domain.roster import RosterNotFoundError, UnknownParticipantError, read_roster


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


def test_line_numbers_are_file_line_numbers_across_blank_lines_and_quoted_fields(tmp_path):
    roster = read_roster(
        write(
            tmp_path,
            "participant_id,seed,timezone,enrolled_on,source\n"  # line 1
            "\n"  # 2
            "p001,1,UTC,2025-01-01,synthetic\n"  # 3
            "bad id,2,UTC,2025-01-01,synthetic\n"  # 4
            "\n"  # 5
            "\n"  # 6
            'p002,"3\n4",UTC,2025-01-01,synthetic\n'  # 7-8: a quoted field spanning two lines
            "p003,x,UTC,2025-01-01,synthetic\n",  # 9
        )
    )
    assert roster.participant_ids == ["p001"]
    assert [(error.line, error.participant_id) for error in roster.errors] == [(4, "bad id"), (7, "p002"), (9, "p003")]


@pytest.mark.parametrize("participant_id", ["heart_rate", "heart_rate_summary", "spo2", "HRV", "Activity_Summary"])
def test_the_pipelines_own_landing_folders_are_reserved_names(tmp_path, participant_id):
    roster = read_roster(
        write(
            tmp_path,
            "participant_id,seed,timezone,enrolled_on,source\n"
            f"{participant_id},1,UTC,2025-01-01,landing\n"
            "p001,2,UTC,2025-01-01,landing\n",
        )
    )
    assert roster.participant_ids == ["p001"]
    [error] = roster.errors
    assert error.line == 2
    assert f"participant_id {participant_id!r} is reserved: landing/{participant_id}/ holds the pipeline's own" in error.reason
    assert "heart_rate_summary" in error.reason  # the reserved names are listed
    with pytest.raises(UnknownParticipantError, match="is reserved"):
        roster.get(participant_id)


def test_a_missing_roster_says_what_to_do(tmp_path):
    with pytest.raises(RosterNotFoundError, match=r"roster file .*nowhere.csv does not exist: set FITBIT_ROSTER_PATH"):
        read_roster(tmp_path / "nowhere.csv")


def test_the_optional_site_column(tmp_path):
    from fitbit_assets.domain.roster import write_roster

    roster = read_roster(write(tmp_path, (
        "participant_id,seed,timezone,enrolled_on,source,site\n"
        "p1,1,UTC,2025-01-01,landing,north\n"
        "p2,2,UTC,2025-01-01,landing,\n"
        "p3,3,UTC,2025-01-01,landing,no site!\n"
    )))
    assert [(p.participant_id, p.site) for p in roster.participants] == [("p1", "north"), ("p2", "")]
    assert [str(e) for e in roster.errors] == ["line 4 ('p3'): site 'no site!' must match ^[A-Za-z0-9_.-]{1,64}$"]
    write_roster(tmp_path / "again.csv", list(roster.participants))
    assert read_roster(tmp_path / "again.csv").participants == roster.participants
