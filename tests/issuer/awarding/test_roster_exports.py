"""Rosters as registration platforms, webinar reports and spreadsheets export them (issue 16).

The files in ``rosters/`` are written by us in the shapes those exports take:
other header spellings, First + Last Name, extra columns, title rows above the
header, ``;`` and a decimal comma.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from errors import Code, ConfigError, InputError
from issuer.awarding.awards import RosterOptions, check_roster, issue_roster
from issuer.awarding.roster import read_roster
from issuer.awarding.roster_columns import normalise_header, parse_mapping
from issuer.badge.achievement import Achievement

ROSTERS = Path(__file__).parent / "rosters"
TODAY = date(2026, 11, 23)
COURSE = Achievement(id="storytime-early-literacy", name="Storytime", description="d", criteria="c",
                     achievement_type="Course", credits_available=1.5)


def _read(name: str, **options):
    return read_roster(ROSTERS / name, achievement=COURSE, today=TODAY, **options)


def test_registration_export_spellings_first_and_last_name_and_extra_columns():
    roster = _read("registration-export.csv")
    assert roster.is_valid and roster.header_line == 1
    assert [(r.email, r.name, r.organization, r.date, r.credits) for r in roster.rows] == [
        ("ana.lima@example.org", "Ana Lima", "Lakeshore PL", date(2026, 10, 15), 1.5),
        ("bo.chen@example.org", "Bo Chen", "Harbor County Library", date(2026, 10, 15), 1.0),
        ("cy@example.org", "Cy", None, date(2026, 10, 15), None)]
    assert roster.ignored == ("Order #", "Order Date", "Ticket Type", "Marketing Opt-In")
    with pytest.raises(InputError) as caught:
        _read("registration-export.csv", strict=True)
    assert caught.value.code is Code.ROSTER_INVALID and "'Order #'" in caught.value.message


def test_webinar_attendance_report_with_title_rows_above_the_header():
    roster = _read("webinar-attendance.csv")
    assert roster.header_line == 7 and roster.is_valid
    assert [(r.line, r.email, r.name) for r in roster.rows] == [(8, "ana.lima@example.org", "Ana Lima"),
                                                                 (9, "dee.park@example.org", "Dee Park")]
    assert "Join Time" in roster.ignored


def test_spreadsheet_with_a_title_row_semicolons_and_a_decimal_comma():
    roster = _read("spreadsheet-title-row.csv")
    assert roster.header_line == 3 and roster.ignored == ()
    assert [(r.line, r.name, r.organization, r.credits) for r in roster.rows] == [
        (4, "Ana Lima", "Lakeshore PL", 1.5), (5, "Eve Diaz", "Harbor County Library", 1.0)]


def test_map_names_a_column_the_spellings_do_not_know():
    text = b"Participant,Contact,Hours\nAna Lima,ana@example.org,1\n"
    with pytest.raises(InputError):
        read_roster(text, achievement=COURSE, today=TODAY)  # no e-mail column it knows
    mapping = parse_mapping(["Contact=email", "Participant=name", "hours=credits"])
    roster = read_roster(text, achievement=COURSE, today=TODAY, columns=mapping)
    assert [(r.email, r.name, r.credits) for r in roster.rows] == [("ana@example.org", "Ana Lima", 1.0)]
    with pytest.raises(InputError) as caught:
        parse_mapping(["Contact=mail"])
    assert caught.value.code is Code.USAGE and "'Contact'='mail'" in caught.value.message
    assert normalise_header(" E-Mail  Address ") == "e mail address"


def test_roster_columns_table_in_settings_and_map_wins(make_issuer, tmp_path):
    issuer = make_issuer()
    settings = issuer.settings.home / "badgesmith.toml"
    settings.write_text(settings.read_text("utf-8") + '\n[roster.columns]\n"Contact" = "email"\n"Hours" = "name"\n',
                        "utf-8")
    issuer = make_issuer()  # reopened with the table
    roster = tmp_path / "r.csv"
    roster.write_text("Contact,Hours\nana@example.org,1\n", "utf-8")
    with pytest.raises(InputError):  # --map wins over the table: "Hours" read as a date, and 1 is none
        issue_roster(issuer, COURSE.id, roster, options=RosterOptions(columns=parse_mapping(["Hours=date"])))
    check = check_roster(issuer, COURSE.id, roster, options=RosterOptions(columns=parse_mapping(["Hours=credits"])))
    assert check.is_valid and check.plans[0].row.credits == 1.0
    settings.write_text(settings.read_text("utf-8").replace('"Hours" = "name"', '"Hours" = "hours"'), "utf-8")
    with pytest.raises(ConfigError) as caught:
        check_roster(make_issuer(), COURSE.id, roster)
    assert caught.value.code is Code.CONFIG_INVALID and "[roster.columns]" in caught.value.message
