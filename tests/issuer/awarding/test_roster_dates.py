"""Dates and attendance in rosters (issue 16): US, European and written-out dates; Attended = No.

12/06/2026 is 6 December in the US and 12 June elsewhere: the order comes from
--date-order / [roster] date_order, else from the file's own unambiguous dates,
else the row is refused naming both readings.
"""

from __future__ import annotations

from datetime import date

import pytest

from errors import Code, ConfigError
from issuer.awarding.awards import RosterOptions, check_roster
from issuer.awarding.roster import read_roster
from issuer.awarding.roster_dates import DMY, MDY, infer_date_order, parse_roster_date
from issuer.badge.achievement import Achievement

TODAY = date(2026, 12, 20)
COURSE = Achievement(id="storytime-early-literacy", name="Storytime", description="d", criteria="c",
                     achievement_type="Course", credits_available=1.5)


@pytest.mark.parametrize("text, order, expected", [
    ("2026-12-06", None, date(2026, 12, 6)),
    ("2026-12-06 09:30", None, date(2026, 12, 6)),
    ("12/06/2026", MDY, date(2026, 12, 6)),
    ("12/06/2026", DMY, date(2026, 6, 12)),
    ("12/6/26", MDY, date(2026, 12, 6)),
    ("6/12/26", DMY, date(2026, 12, 6)),
    ("06.12.2026", DMY, date(2026, 12, 6)),
    ("12/25/2026", None, date(2026, 12, 25)),  # a number above 12 says which is the day
    ("25/12/2026", None, date(2026, 12, 25)),
    ("7/7/2026", None, date(2026, 7, 7)),  # the same either way
    ("10/15/2026 10:00 AM", None, date(2026, 10, 15)),  # a webinar report's date and time
    ("6 December 2026", None, date(2026, 12, 6)),
    ("6 Dec 2026", None, date(2026, 12, 6)),
    ("6-Dec-2026", None, date(2026, 12, 6)),
    ("December 6, 2026", None, date(2026, 12, 6)),
    ("Sunday, December 6, 2026", None, date(2026, 12, 6)),
    ("Sept 30 2026", None, date(2026, 9, 30)),
])
def test_dates_as_people_write_them(text, order, expected):
    assert parse_roster_date(text, order) == (expected, None)


@pytest.mark.parametrize("text, order, words", [
    ("12/06/2026", None, "could be 6 December 2026 (month/day) or 12 June 2026 (day/month)"),
    ("25/12/2026", MDY, "month/day/year by date_order"),
    ("2026-02-30", None, "not a date in the calendar"),
    ("31 Smarch 2026", None, "is not a date"),
    ("yesterday", None, "YYYY-MM-DD, 12/31/2026 or 31 December 2026"),
    ("13/13/2026", None, "is not a date (day and month)"),
])
def test_bad_and_ambiguous_dates_say_why(text, order, words):
    value, problem = parse_roster_date(text, order)
    assert value is None and words in problem


def test_the_order_is_inferred_from_the_files_unambiguous_dates():
    assert infer_date_order(["12/06/2026", "12/25/2026", "", "2026-01-01"]) == MDY
    assert infer_date_order(["12/06/2026", "25/12/2026"]) == DMY
    assert infer_date_order(["12/25/2026", "25/12/2026"]) is None  # they disagree: no order
    assert infer_date_order(["12/06/2026", "6 December 2026"]) is None


def _read(text: str, **options):
    return read_roster(text.encode(), achievement=COURSE, today=TODAY, **options)


def test_an_ambiguous_roster_is_refused_row_by_row_until_the_order_is_given():
    text = "email,date\nana@example.org,12/06/2026\nbo@example.org,11/06/2026\ncy@example.org,2026-12-01\n"
    roster = _read(text)
    assert [(e.line, e.field) for e in roster.errors] == [(2, "date"), (3, "date")]
    assert "--date-order MDY|DMY" in roster.errors[0].message and [r.line for r in roster.rows] == [4]
    assert [r.date for r in _read(text, date_order=MDY).rows] == [date(2026, 12, 6), date(2026, 11, 6),
                                                                  date(2026, 12, 1)]
    assert [r.date for r in _read(text, date_order=DMY).rows] == [date(2026, 6, 12), date(2026, 6, 11),
                                                                  date(2026, 12, 1)]
    # One US date the file cannot mean otherwise settles the rest.
    us = _read(text + "dee@example.org,12/15/2026\n")
    assert us.is_valid and [r.date for r in us.rows][:2] == [date(2026, 12, 6), date(2026, 11, 6)]


def test_date_order_setting_and_option(make_issuer, tmp_path):
    issuer = make_issuer()
    roster = tmp_path / "r.csv"
    roster.write_text("email,date\nana@example.org,01/02/2026\n", "utf-8")
    assert not check_roster(issuer, COURSE.id, roster).is_valid
    settings = issuer.settings.home / "badgesmith.toml"
    settings.write_text(settings.read_text("utf-8") + '\n[roster]\ndate_order = "DMY"\n', "utf-8")
    issuer = make_issuer()
    assert check_roster(issuer, COURSE.id, roster).plans[0].row.date == date(2026, 2, 1)
    option = check_roster(issuer, COURSE.id, roster, options=RosterOptions(date_order=MDY))
    assert option.plans[0].row.date == date(2026, 1, 2)  # the option wins over the setting
    settings.write_text(settings.read_text("utf-8").replace('"DMY"', '"YMD"'), "utf-8")
    with pytest.raises(ConfigError) as caught:
        make_issuer()
    assert caught.value.code is Code.CONFIG_INVALID and "date_order" in caught.value.message


@pytest.mark.parametrize("header, values", [
    ("Attended", ("Yes", "No")),
    ("Attendance", ("present", "absent")),
    ("Checked In", ("TRUE", "FALSE")),
    ("Present", ("x", "")),
    ("Attended?", ("Y", "No-show")),
])
def test_rows_marked_not_attended_are_left_out(header, values):
    yes, no = values
    roster = _read(f"email,{header}\nana@example.org,{yes}\nbo@example.org,{no}\n")
    assert roster.is_valid and [r.email for r in roster.rows] == ["ana@example.org"]
    (absent,) = roster.absent
    assert (absent.line, absent.email) == (3, "bo@example.org")
    assert absent.reason == (f"not attended ({no})" if no else "attendance not marked")


def test_an_attendance_answer_that_is_neither_yes_nor_no_is_a_bad_row():
    roster = _read("email,attended\nana@example.org,maybe\nnot-an-email,No\n")
    assert [(e.line, e.field) for e in roster.errors] == [(2, "attended")]
    assert "'maybe' is not Yes or No" in roster.errors[0].message
    assert [a.line for a in roster.absent] == [3]  # a row left out is not checked further
