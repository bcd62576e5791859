"""issuer.awarding.roster: every row validated with its line number before anything is issued; safe summaries."""

import csv
from dataclasses import replace
from datetime import date

import pytest

from errors import Code, InputError, InputTooLarge
from issuer.badge.achievement import Achievement
from issuer.awarding.roster import RosterLimits, RosterRow, RowError, read_roster, write_summary_csv

TODAY = date(2025, 10, 20)
COURSE = Achievement(id="storytime-early-literacy", name="Storytime for Early Literacy", description="d",
                     criteria="c", achievement_type="Course", credits_available=1.5)


def _roster(tmp_path, text, *, achievement=COURSE, limits=RosterLimits(), encoding="utf-8", **options):
    path = tmp_path / "roster.csv"
    path.write_bytes(text.encode(encoding))
    return read_roster(path, achievement=achievement, today=TODAY, limits=limits, **options)


def _lines(roster):
    return sorted({e.line for e in roster.errors})


def test_valid_roster_reads_every_column(tmp_path):
    roster = _roster(tmp_path, "email,name,credits,date,evidence,did,organization\n"
                               " Ana@Example.org ,Ana Lima,1.5,2025-10-15,https://lla.example/rec/1,"
                               "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK,Lakeshore PL\n"
                               "bo@example.org,,,,,,\n")
    assert roster.is_valid
    assert roster.rows == [
        RosterRow(line=2, email="ana@example.org", name="Ana Lima", credits=1.5, date=date(2025, 10, 15),
                  evidence="https://lla.example/rec/1",
                  did="did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", organization="Lakeshore PL"),
        RosterRow(line=3, email="bo@example.org", name=None, credits=None, date=TODAY, evidence=None, did=None,
                  organization=None, dated=False),
    ]


def test_200_row_roster_with_5_bad_rows_lists_exactly_those_lines(tmp_path):
    bad = {17: "not-an-email,1.0,2025-10-01", 48: "p48@example.org,2.5,2025-10-01",
           99: "p99@example.org,1.0,2025-13-01", 150: "p150@example.org,1.0,2030-01-01",
           201: "p2@example.org,1.0,2025-10-01"}  # 201 repeats line 3's e-mail and date
    lines = ["email,credits,date"]
    for line in range(2, 202):
        lines.append(bad.get(line, f"p{line - 1}@example.org,1.0,2025-10-01"))
    roster = _roster(tmp_path, "\n".join(lines) + "\n")
    assert _lines(roster) == [17, 48, 99, 150, 201]
    assert len(roster.rows) == 195
    by_line = {e.line: e for e in roster.errors}
    assert by_line[17].code is Code.RECIPIENT_INVALID and by_line[17].field == "email"
    # the code is in the code field, not repeated in the sentence
    assert by_line[48].code is Code.CREDITS_EXCEEDED and "CREDITS_EXCEEDED" not in by_line[48].message
    assert by_line[99].field == "date" and by_line[150].field == "date" and "future" in by_line[150].message
    assert "line 3" in by_line[201].message
    error = roster.to_error("roster.csv")
    assert error.code is Code.ROSTER_INVALID and "17, 48, 99, 150, 201" in str(error)
    assert "--skip-invalid" in str(error) and len(error.details["errors"]) == 5


def test_bom_and_whitespace_and_case_in_headers(tmp_path):
    roster = _roster(tmp_path, "\ufeff  EMAIL , Name ,CREDITS\r\nana@example.org,Ana,1\r\n", encoding="utf-8")
    assert roster.is_valid and roster.rows[0].name == "Ana" and roster.rows[0].credits == 1.0


def test_semicolon_separated_excel_export(tmp_path):
    roster = _roster(tmp_path, "email;name\nana@example.org;Lima, Ana\n")
    assert roster.rows[0].name == "Lima, Ana"


def test_bytes_are_accepted_and_blank_lines_skipped_without_shifting_line_numbers():
    roster = read_roster(b"email\n\nana@example.org\n,\nnot-an-email\n", achievement=COURSE, today=TODAY)
    assert [r.line for r in roster.rows] == [3]
    assert _lines(roster) == [5]


def test_quoted_multiline_cell_keeps_line_numbers_of_row_starts(tmp_path):
    roster = _roster(tmp_path, 'email,name\nana@example.org,"Ana\nLima"\nbad,Bo\n')
    assert roster.errors[0].line == 2 and roster.errors[0].field == "name"
    assert [e.line for e in roster.errors] == [2, 4]


@pytest.mark.parametrize("header, words", [
    ("name,credits", "e-mail column"),
    ("email,Email", "more than one column for email"),
    ("Email Address,E-mail", "more than one column for email"),
])
def test_bad_header_is_rejected(tmp_path, header, words):
    with pytest.raises(InputError) as caught:
        _roster(tmp_path, header + "\nana@example.org,x\n")
    assert caught.value.code is Code.ROSTER_INVALID and caught.value.details["line"] == 1
    assert words in str(caught.value)


@pytest.mark.parametrize("header, words", [("email,nmae", "did you mean 'name'"), ("email,grade", "'grade'")])
def test_unknown_columns_are_ignored_and_named_unless_strict(tmp_path, header, words):
    roster = _roster(tmp_path, header + "\nana@example.org,x\n")
    assert [r.email for r in roster.rows] == ["ana@example.org"] and roster.ignored == (header.split(",")[1],)
    with pytest.raises(InputError) as caught:
        _roster(tmp_path, header + "\nana@example.org,x\n", strict=True)
    assert caught.value.code is Code.ROSTER_INVALID and caught.value.details["line"] == 1
    assert words in str(caught.value)


def test_a_header_of_thousands_of_unknown_columns_gets_a_short_message(tmp_path):
    header = ",".join(["email"] + [f"column{n}" + "x" * 200 for n in range(50_000)])
    with pytest.raises(InputError) as caught:
        _roster(tmp_path, header + "\nana@example.org\n", strict=True)
    message = str(caught.value)
    assert caught.value.code is Code.ROSTER_INVALID and "and 49995 more" in message
    assert len(message) < 600 and "\n" not in message


def test_empty_file_is_rejected(tmp_path):
    with pytest.raises(InputError, match="empty"):
        _roster(tmp_path, "")


@pytest.mark.parametrize("row, field, words", [
    (",1", "email", "missing"),
    ("ana@example.org,-1", "credits", "number"),
    ("ana@example.org,abc", "credits", "number"),
    ("ana@example.org,1e3", "credits", "number"),
    ("ana@example.org,1.6", "credits", "exceed"),
    ("ana@example.org,1,2025-02-30", "date", "YYYY-MM-DD"),
    ("ana@example.org,1,20251001", "date", "YYYY-MM-DD"),
    ("ana@example.org,1,2025-10-21", "date", "future"),
    ("ana@example.org,1,,http://lla.example/x", "evidence", "https://"),
    ("ana@example.org,1,,javascript:alert(1)", "evidence", "https://"),
    ("ana@example.org,1,,,mailto:x", "did", "DID"),
    ("ana@example.org,1,,,did:Key:z", "did", "DID"),
    ("ana@example.org,1,,,,,,extra", "-", "without a header"),
])
def test_bad_cell_is_reported_with_line_and_field(tmp_path, row, field, words):
    roster = _roster(tmp_path, "email,credits,date,evidence,did,organization\n" + row + "\n")
    assert roster.rows == []
    assert [(e.line, e.field) for e in roster.errors] == [(2, field)]
    assert words in roster.errors[0].message


def test_credits_on_an_achievement_without_credits_available(tmp_path):
    badge = Achievement(id="helper", name="Helper", description="d", criteria="c", achievement_type="Badge")
    roster = _roster(tmp_path, "email,credits\na@example.org,0\nb@example.org,1\n", achievement=badge)
    assert [r.line for r in roster.rows] == [2]
    assert roster.errors[0].code is Code.CREDITS_EXCEEDED


def test_value_under_an_unnamed_header_column_is_an_error_but_empty_ones_are_fine(tmp_path):
    roster = _roster(tmp_path, "email,name,\na@example.org,A,\nb@example.org,B,oops\n")
    assert [r.line for r in roster.rows] == [2] and _lines(roster) == [3]


def test_same_email_twice_is_a_bad_row_unless_the_achievement_is_repeatable(tmp_path):
    text = "email,date\na@example.org,2025-10-01\nA@example.org,2025-10-02\na@example.org,2025-10-01\n"
    roster = _roster(tmp_path, text)
    assert [r.line for r in roster.rows] == [2] and _lines(roster) == [3, 4]
    series = _roster(tmp_path, text, achievement=replace(COURSE, repeatable=True))
    assert [r.line for r in series.rows] == [2, 3] and _lines(series) == [4]


def test_field_length_cap_is_a_row_error(tmp_path):
    roster = _roster(tmp_path, "email,name\na@example.org," + "x" * 201 + "\n")
    assert roster.errors == [RowError(2, "name", "longer than 200 characters.")]


def test_row_count_cap(tmp_path):
    with pytest.raises(InputTooLarge):
        _roster(tmp_path, "email\n" + "".join(f"p{i}@example.org\n" for i in range(4)),
                limits=RosterLimits(max_rows=3))


def test_file_size_cap(tmp_path):
    with pytest.raises(InputTooLarge):
        _roster(tmp_path, "email\n" + "a@example.org\n" * 10, limits=RosterLimits(max_bytes=50))


def test_non_utf8_file_is_csv_malformed_with_line(tmp_path):
    with pytest.raises(InputError) as caught:
        _roster(tmp_path, "email,name\na@example.org,Jos\xe9\n", encoding="latin-1")
    assert caught.value.code is Code.CSV_MALFORMED and caught.value.details["line"] == 2


def test_broken_quoting_is_csv_malformed(tmp_path):
    with pytest.raises(InputError) as caught:
        _roster(tmp_path, 'email,name\na@example.org,"Ana" Lima\n')
    assert caught.value.code is Code.CSV_MALFORMED


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(InputError, match="Cannot read"):
        read_roster(tmp_path / "nope.csv", achievement=COURSE, today=TODAY)


def test_summary_csv_neutralises_formulas(tmp_path):
    path = tmp_path / "out" / "summary.csv"
    path.parent.mkdir()
    write_summary_csv(path, [
        {"email": "a@example.org", "name": "=HYPERLINK(\"http://evil\")", "credits": 1.5, "note": None},
        {"email": "b@example.org", "name": "+1", "credits": -1, "note": "-2"},
        {"email": "c@example.org", "name": "@SUM(A1)", "credits": 0, "note": "\tx"},
        {"email": "d@example.org", "name": "Ana = Lima", "credits": 1, "note": "ok"},
    ])
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert [r["name"] for r in rows] == ["'=HYPERLINK(\"http://evil\")", "'+1", "'@SUM(A1)", "Ana = Lima"]
    assert [r["note"] for r in rows] == ["", "'-2", "'\tx", "ok"]
    assert [r["credits"] for r in rows] == ["1.5", "-1", "0", "1"]
    assert sorted(p.name for p in path.parent.iterdir()) == ["summary.csv"]


def test_summary_csv_with_explicit_columns_and_no_rows(tmp_path):
    path = tmp_path / "s.csv"
    write_summary_csv(path, [], fieldnames=["line", "email", "credential"])
    assert path.read_text("utf-8-sig").splitlines() == ["line,email,credential"]
