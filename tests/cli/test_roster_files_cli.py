"""``badgesmith issue --roster`` with Excel workbooks, attendance, dates and the 30-day warning (issue 16)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import openpyxl

from tests.cli.test_cli import COURSE, EXAMPLES, assert_one_error_line, cli  # noqa: F401 (cli is a fixture)

CERTIFICATION = "certified-youth-services-librarian"  # valid_for = "3y"


def _workbook(path, rows, title="Attendees"):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_issue_roster_xlsx_with_a_sheet_skips_the_absent_and_says_so(cli, tmp_path):
    book = _workbook(tmp_path / "webinar.xlsx", [
        ["Attendee Details"],
        ["Attended", "User Name (Original Name)", "Attendee Email", "Date Attended"],
        ["Yes", "Ana Lima", "ana@example.org", "10/15/2026"],
        ["No", "Bo Chen", "bo@example.org", "10/15/2026"],
    ], title="Report")
    dry = cli.json("issue", COURSE, "--roster", book, "--sheet", "Report", "--dry-run", "--json")
    assert (dry["new"], dry["not_attended"], dry["valid"]) == (1, 1, True)
    result = cli("issue", COURSE, "--roster", book)
    assert "Issued 1 new credential(s), 0 already issued, 0 invalid row(s) skipped, 1 not attended (skipped)." \
        in result.stdout
    assert "skipped line 4, bo@example.org: not attended (No)" in result.stderr
    missing = cli("issue", COURSE, "--roster", book, "--sheet", "Sheet1", code=2)
    assert_one_error_line(missing, "USAGE")
    assert "'Report'" in missing.stderr


def test_a_file_named_xlsx_that_is_not_one_is_spreadsheet_malformed(cli, tmp_path):
    fake = tmp_path / "roster.xlsx"
    fake.write_text("email\nana@example.org\n", "utf-8")
    assert_one_error_line(cli("issue", COURSE, "--roster", fake, code=2), "SPREADSHEET_MALFORMED")


def test_ambiguous_dates_are_bad_rows_until_date_order_says_which(cli, tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("email,date\nana@example.org,03/04/2026\n", "utf-8")
    out = cli("issue", COURSE, "--roster", roster, "--dry-run", code=1).stdout
    assert "line 2, date: '03/04/2026' could be 4 March 2026 (month/day) or 3 April 2026 (day/month)" in out
    data = cli.json("issue", COURSE, "--roster", roster, "--date-order", "DMY", "--json")
    (credential,) = data["credentials"]
    listed = cli.json("list", "--json")
    assert [r["issued_on"] for r in listed if r["id"] == credential["id"]] == ["2026-04-03"]


def test_a_roster_certification_expiring_within_30_days_gets_a_warning(cli, tmp_path):
    cli("achievement", "add", EXAMPLES / "certification.toml")
    soon = date.today().replace(year=date.today().year - 3) + timedelta(days=10)
    roster = tmp_path / "certified.csv"
    roster.write_text(f"email,date\nana@example.org,{soon.isoformat()}\nbo@example.org,{date.today()}\n", "utf-8")
    result = cli("issue", CERTIFICATION, "--roster", roster)
    assert "warning: 1 credential(s) issued now expire within 30 days (the first on " in result.stderr
    as_json = cli("issue", CERTIFICATION, "--email", "cy@example.org", "--date", soon.isoformat(), "--json")
    assert json.loads(as_json.stdout)["id"] and "within 30 days" in as_json.stderr
    single = cli("issue", CERTIFICATION, "--email", "dee@example.org", "--date", soon.isoformat())
    assert "within 30 days" in single.stderr
    lapsed = tmp_path / "lapsed.csv"
    lapsed.write_text(f"email,date\ned@example.org,{soon.isoformat()}\nfay@example.org,"
                      f"{soon.replace(year=soon.year - 1).isoformat()}\n", "utf-8")
    both = cli("issue", CERTIFICATION, "--roster", lapsed, "--allow-expired").stderr
    assert "warning: 1 credential(s) issued now expire within 30 days (the first on " in both
    assert "; 1 credential(s) issued now had expired already (--allow-expired; the first on " in both
