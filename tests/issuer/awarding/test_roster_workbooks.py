"""Excel rosters (issue 16): .xlsx read as well as CSV, with the same limits and errors by row.

Every workbook here is a real .xlsx written with openpyxl in the shape the
exports take: a registration platform's export (real date and number cells),
a webinar attendance report (a summary block above the header, Attended
Yes/No), a spreadsheet with a title row above the header and a second sheet.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from errors import Code, InputError, InputTooLarge
from issuer.awarding.awards import RosterOptions, check_roster, issue_roster
from issuer.awarding.roster import read_roster
from issuer.awarding.roster_sheets import RosterLimits
from issuer.badge.achievement import Achievement

TODAY = date(2026, 11, 23)
COURSE = Achievement(id="storytime-early-literacy", name="Storytime", description="d", criteria="c",
                     achievement_type="Course", credits_available=1.5)


def _workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def registration_export(path: Path) -> Path:
    """A registration platform's export: its own headers, extra columns, real dates and numbers."""
    return _workbook(path, {"Orders": [
        ["Order #", "Order Date", "First Name", "Last Name", "Email Address", "Organisation", "Date Attended",
         "CEUs", "Ticket Type"],
        [1001, datetime(2026, 9, 1, 14, 3), "Ana", "Lima", "ana.lima@example.org", "Lakeshore PL",
         date(2026, 10, 15), 1.5, "Member"],
        [1002, datetime(2026, 9, 2, 9, 30), "Bo", "Chen", "Bo.Chen@Example.org", "Harbor County Library",
         date(2026, 10, 15), 1, "Non-member"],
        [1003, datetime(2026, 9, 3, 8, 0), "Cy", None, "cy@example.org", None, None, None, "Comp"],
    ]})


def webinar_report(path: Path) -> Path:
    """A webinar attendance report: a summary block, a blank row, then attendees with Attended Yes/No."""
    return _workbook(path, {"Attendee Report": [
        ["Attendee Report"],
        ["Report Generated:", datetime(2026, 11, 20, 10, 0)],
        ["Topic", "Webinar ID", "Actual Start Time", "Actual Duration (minutes)"],
        ["Storytime for Early Literacy", "812 3456 7890", datetime(2026, 10, 15, 10, 0), 92],
        [],
        ["Attendee Details"],
        ["Attended", "User Name (Original Name)", "Attendee Email", "Join Time", "Leave Time",
         "Time in Session (minutes)", "Country/Region Name"],
        ["Yes", "Ana Lima", "ana.lima@example.org", datetime(2026, 10, 15, 9, 58), datetime(2026, 10, 15, 11, 30),
         92, "United States"],
        ["No", "Ed Moss", "ed.moss@example.org", None, None, 0, "Canada"],
        ["Yes", "Dee Park", "dee.park@example.org", datetime(2026, 10, 15, 10, 5), datetime(2026, 10, 15, 11, 29),
         84, "Canada"],
    ]})


def titled_spreadsheet(path: Path) -> Path:
    """A coordinator's own spreadsheet: a title row, a blank row, the header; a second sheet of notes."""
    return _workbook(path, {
        "Attendees": [
            ["Lakeshore Library Association — Storytime attendance, October 2026"],
            [],
            ["Name", "E-mail", "Library", "Date", "Credits"],
            ["Ana Lima", "ana.lima@example.org", "Lakeshore PL", "10/15/2026", 1.5],
            ["Eve Diaz", "eve.diaz@example.org", "Harbor County Library", "10/16/2026", 1],
        ],
        "Late additions": [
            ["email", "name", "date"],
            ["fay@example.org", "Fay Ng", date(2026, 10, 20)],
        ]})


def _read(source, **options):
    return read_roster(source, achievement=COURSE, today=TODAY, **options)


def test_registration_export_workbook_reads_dates_numbers_and_split_names(tmp_path):
    roster = _read(registration_export(tmp_path / "export.xlsx"))
    assert roster.is_valid and roster.header_line == 1
    assert [(r.line, r.email, r.name, r.organization, r.date, r.credits) for r in roster.rows] == [
        (2, "ana.lima@example.org", "Ana Lima", "Lakeshore PL", date(2026, 10, 15), 1.5),
        (3, "bo.chen@example.org", "Bo Chen", "Harbor County Library", date(2026, 10, 15), 1.0),
        (4, "cy@example.org", "Cy", None, TODAY, None)]
    assert roster.ignored == ("Order #", "Order Date", "Ticket Type")


def test_the_same_export_as_csv_and_as_xlsx_reads_the_same(tmp_path):
    book = registration_export(tmp_path / "export.xlsx")
    text = io.StringIO()
    writer = csv.writer(text)
    for row in openpyxl.load_workbook(book).worksheets[0].iter_rows(values_only=True):
        writer.writerow(["" if v is None else v.date().isoformat() if isinstance(v, datetime) else v for v in row])
    from_csv, from_xlsx = _read(text.getvalue().encode()), _read(book)
    assert from_csv.rows == from_xlsx.rows and from_csv.ignored == from_xlsx.ignored


def test_webinar_report_workbook_finds_the_header_and_skips_who_did_not_attend(tmp_path):
    roster = _read(webinar_report(tmp_path / "webinar.xlsx"))
    assert roster.header_line == 7 and roster.is_valid
    assert [(r.line, r.email, r.name) for r in roster.rows] == [(8, "ana.lima@example.org", "Ana Lima"),
                                                                 (10, "dee.park@example.org", "Dee Park")]
    assert [(a.line, a.email, a.reason) for a in roster.absent] == [(9, "ed.moss@example.org", "not attended (No)")]


def test_title_row_above_the_header_us_dates_and_the_sheet_option(tmp_path):
    book = titled_spreadsheet(tmp_path / "attendance.xlsx")
    roster = _read(book)
    assert roster.header_line == 3
    assert [(r.line, r.name, r.date, r.credits) for r in roster.rows] == [
        (4, "Ana Lima", date(2026, 10, 15), 1.5), (5, "Eve Diaz", date(2026, 10, 16), 1.0)]
    other = _read(book, sheet="Late additions")
    assert [(r.line, r.email, r.date) for r in other.rows] == [(2, "fay@example.org", date(2026, 10, 20))]
    with pytest.raises(InputError) as caught:
        _read(book, sheet="Sheet9")
    assert caught.value.code is Code.USAGE and "'Attendees', 'Late additions'" in caught.value.message
    with pytest.raises(InputError) as on_csv:
        _read(b"email\nana@example.org\n", sheet="Attendees")
    assert on_csv.value.code is Code.USAGE


def test_bad_rows_are_reported_by_spreadsheet_row_number(tmp_path):
    book = _workbook(tmp_path / "bad.xlsx", {"Sheet1": [
        ["Roster"], ["email", "credits", "date"],
        ["ana@example.org", 1, date(2026, 10, 1)],
        [],  # a blank row keeps the numbering
        ["not-an-email", 1, None],
        ["bo@example.org", 9, None],
        ["cy@example.org", None, date(2027, 1, 1)],
    ]})
    roster = _read(book)
    assert [r.line for r in roster.rows] == [3]
    assert [(e.line, e.field) for e in roster.errors] == [(5, "email"), (6, "credits"), (7, "date")]
    assert "in the future" in roster.errors[2].message


@pytest.mark.parametrize("content, words", [
    (b"email,name\nana@example.org,Ana\n", "not a zip archive"),  # a CSV saved under an .xlsx name
    (b"PK\x03\x04" + b"\x00" * 200, "not a zip archive"),  # a zip's first bytes, then nothing
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "Excel 97-2003"),  # an old .xls
])
def test_a_file_that_is_not_a_workbook_is_spreadsheet_malformed(tmp_path, content, words):
    path = tmp_path / "roster.xlsx"  # the name does not matter: an .xls, or a password-protected .xlsx
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        _read(path)
    assert caught.value.code is Code.SPREADSHEET_MALFORMED and words in caught.value.message


def test_a_zip_without_a_workbook_and_a_truncated_workbook_are_spreadsheet_malformed(tmp_path):
    other = tmp_path / "photos.xlsx"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("photo.txt", "not a spreadsheet")
    good = registration_export(tmp_path / "good.xlsx").read_bytes()
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(good[:len(good) // 2])
    for path in (other, truncated):
        with pytest.raises(InputError) as caught:
            _read(path)
        assert caught.value.code is Code.SPREADSHEET_MALFORMED, path
    broken = tmp_path / "broken.xlsx"  # a workbook whose sheet is not XML
    with zipfile.ZipFile(tmp_path / "good.xlsx") as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, b"<worksheet><sheetData><row" if item.filename.endswith("sheet1.xml") else data)
    with pytest.raises(InputError) as caught:
        _read(broken)
    assert caught.value.code is Code.SPREADSHEET_MALFORMED


def test_a_workbook_that_unpacks_too_large_is_refused_before_it_is_read(tmp_path):
    book = registration_export(tmp_path / "bomb.xlsx")
    with zipfile.ZipFile(book, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * 3_000_000)  # 3 MB of zeros: a few kB packed
    assert book.stat().st_size < 100_000
    with pytest.raises(InputTooLarge) as caught:
        _read(book, limits=RosterLimits(max_unzipped_bytes=2_000_000))
    assert caught.value.code is Code.INPUT_TOO_LARGE and "unpacks to" in caught.value.message
    assert _read(book).is_valid  # within the default limit


def test_workbook_rows_cells_and_bytes_have_the_csv_limits(tmp_path):
    rows = [["email"]] + [[f"p{n}@example.org"] for n in range(10)]
    book = _workbook(tmp_path / "many.xlsx", {"Sheet1": rows})
    for limits, words in ((RosterLimits(max_rows=5), "more than 5 rows"), (RosterLimits(max_cells=6), "cells"),
                          (RosterLimits(max_bytes=1000), "larger than 1000 bytes")):
        with pytest.raises(InputTooLarge) as caught:
            _read(book, limits=limits)
        assert words in caught.value.message


def test_issue_roster_from_a_workbook_and_its_summary_counts_the_absent_as_skipped(make_issuer, tmp_path):
    issuer = make_issuer()
    book = webinar_report(tmp_path / "webinar.xlsx")
    check = check_roster(issuer, COURSE.id, book)
    assert check.is_valid and check.to_dict()["not_attended"] == 1 and check.count("new") == 2
    summary = issue_roster(issuer, COURSE.id, book)
    assert summary.created == 2 and [a.line for a in summary.absent] == [9]
    assert summary.summary_csv.name.startswith("webinar-summary-")
    with summary.summary_csv.open(encoding="utf-8-sig", newline="") as handle:
        statuses = {r["line"]: (r["email"], r["status"], r["differences"]) for r in csv.DictReader(handle)}
    assert statuses["9"] == ("ed.moss@example.org", "skipped", "not attended (No)")
    assert statuses["8"][1] == statuses["10"][1] == "new"
    emails = {r.recipient_email for r in issuer.registry.find_credentials(issuer.issuer_id)}
    assert emails == {"ana.lima@example.org", "dee.park@example.org"}
    again = issue_roster(issuer, COURSE.id, book, options=RosterOptions(sheet="Attendee Report"))
    assert (again.created, again.existing, len(again.absent)) == (0, 2, 1)
