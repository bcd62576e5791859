"""Rosters: read and validate an attendee list in full before anything is issued; write summaries.

A roster is a CSV or an Excel workbook (``issuer.awarding.roster_sheets``) with a
header row (title rows above it are skipped). ``email`` is
required; ``name``, ``credits``, ``date``, ``evidence``, ``did``, ``organization``,
``session`` and ``attended`` are optional; the usual export spellings of them are recognised
(``issuer.awarding.roster_columns``), and dates as people write them
(``issuer.awarding.roster_dates``). Header names are case-insensitive; a UTF-8 BOM (Excel's "CSV UTF-8") and
``;`` or tab separators (European Excel) are accepted. Every row is checked and
every problem is reported with its line number, so a coordinator fixes the
file once instead of once per error.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from errors import Code, InputError, InputTooLarge
from issuer.awarding.roster_columns import Header, map_header, normalise_header
from issuer.awarding.roster_dates import infer_date_order, parse_roster_date
from issuer.awarding.roster_sheets import RosterLimits, roster_lines
from issuer.badge.achievement import Achievement
from issuer.badge.recipient import normalise_email
from issuer.instance.files import write_file_atomic
from verifier.data_model import is_url

COLUMNS = ("email", "name", "credits", "date", "evidence", "did", "organization", "session")
_DID = re.compile(r"^did:[a-z0-9]+:(?:[A-Za-z0-9._%-]*:)*[A-Za-z0-9._%-]+$")
_HEADER_SEARCH_LINES = 20
_DECIMAL_COMMA = re.compile(r"^\d+,\d{1,2}$")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$|^\.\d+$")
_CONTROL = re.compile(r"[\x00-\x1f]")
# Spreadsheets run a cell starting with one of these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One valid roster row; ``email`` is normalised, ``credits`` None when the column is empty."""

    line: int
    email: str
    name: str | None
    credits: float | None
    date: date
    evidence: str | None
    did: str | None
    organization: str | None
    session: str | None = None
    dated: bool = True  # False: the date cell was empty and ``date`` is the day of the run

    def given(self) -> dict[str, Any]:
        """The award's data as the row states it (an empty cell states nothing), to compare with what
        was issued: a row without a date resumed after midnight is still the same award."""
        values = {"date": self.date if self.dated else None, "credits": self.credits, "name": self.name,
                  "evidence": self.evidence, "did": self.did, "organization": self.organization}
        return {name: value for name, value in values.items() if value is not None}


@dataclass(frozen=True, slots=True)
class RowError:
    """A problem on one CSV line (1 = the header) in one column."""

    line: int
    field: str
    message: str
    code: Code = Code.ROSTER_INVALID

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.message}"


@dataclass(frozen=True, slots=True)
class Absent:
    """A row the attendance column marks as not attended: left out, neither issued nor an error."""

    line: int
    email: str
    name: str | None
    reason: str  # "not attended (No)", "attendance not marked"


@dataclass(frozen=True, slots=True)
class Roster:
    """The valid rows and the problems; a row with any problem is not in ``rows``."""

    rows: list[RosterRow]
    errors: list[RowError]
    ignored: tuple[str, ...] = ()  # headers of columns that were not read
    header_line: int = 1
    absent: list[Absent] = field(default_factory=list)  # rows marked not attended (skipped)

    @property
    def is_valid(self) -> bool:
        """True when no row has a problem."""
        return not self.errors

    def to_error(self, name: str = "The roster") -> InputError:
        """ROSTER_INVALID summarising the bad lines (``errors`` in details), for "nothing was issued"."""
        lines = sorted({e.line for e in self.errors})
        shown = ", ".join(map(str, lines[:20])) + (", …" if len(lines) > 20 else "")
        return InputError(Code.ROSTER_INVALID, f"{name} has {len(lines)} invalid row(s) (line {shown}); nothing "
                          "was issued: fix them, or pass --skip-invalid to issue the valid rows only.",
                          errors=[{"line": e.line, "field": e.field, "code": e.code.value, "message": e.message}
                                  for e in self.errors])


def _credits(text: str, achievement: Achievement) -> tuple[float | None, RowError | None]:
    if not text:
        return None, None
    if _DECIMAL_COMMA.match(text):  # European spreadsheets write 1,5 (never a thousands separator here)
        text = text.replace(",", ".")
    if not _NUMBER.match(text) or not math.isfinite(float(text)):
        return None, RowError(0, "credits", f"{text!r} is not a number of credits like 1.5.")
    value, available = float(text), achievement.credits_available
    if available is None and value > 0:
        return None, RowError(0, "credits", f"{achievement.id!r} offers no credits (no credits_available); "
                              "leave the column empty.", Code.CREDITS_EXCEEDED)
    if available is not None and value > available:
        return None, RowError(0, "credits", f"{text} credits exceed the {available:g} available for "
                              f"{achievement.id!r}.", Code.CREDITS_EXCEEDED)
    return value, None


def _date(text: str, today: date, order: str | None) -> tuple[date | None, str | None]:
    if not text:
        return today, None
    value, problem = parse_roster_date(text, order)
    if problem:
        return None, problem
    if value > today:
        return None, f"{text} is in the future (today is {today.isoformat()})."
    return value, None


def _row(line: int, values: dict[str, str], achievement: Achievement, today: date,
         limits: RosterLimits, allow_expired: bool = False,
         date_order: str | None = None) -> tuple[RosterRow | None, list[RowError]]:
    errors: list[RowError] = []
    for column, text in values.items():
        limit = limits.max_field_chars.get(column, 2000)
        if len(text) > limit:
            errors.append(RowError(line, column, f"longer than {limit} characters."))
            values[column] = ""
        elif _CONTROL.search(text):
            errors.append(RowError(line, column, "contains a line break or control character."))
            values[column] = ""
    email = None
    if not values.get("email") and not any(e.field == "email" for e in errors):
        errors.append(RowError(line, "email", "the e-mail address is missing.", Code.RECIPIENT_INVALID))
    elif values.get("email"):
        try:
            email = normalise_email(values["email"])
        except InputError as exc:
            errors.append(RowError(line, "email", exc.message, Code.RECIPIENT_INVALID))
    credits, problem = _credits(values.get("credits", ""), achievement)
    if problem:
        errors.append(RowError(line, problem.field, problem.message, problem.code))
    awarded, message = _date(values.get("date", ""), today, date_order)
    if message:
        errors.append(RowError(line, "date", message))
    elif achievement.valid_for and not allow_expired and achievement.valid_until(awarded) <= today:
        errors.append(RowError(line, "date", f"awarded on {awarded.isoformat()}, {achievement.id!r} (valid for "
                               f"{achievement.valid_for}) expired on {achievement.valid_until(awarded).isoformat()}: "
                               "it would be issued already expired; pass --allow-expired to issue it anyway.",
                               Code.ALREADY_EXPIRED))
    evidence = values.get("evidence") or None
    if evidence:
        parts = urlsplit(evidence)
        if parts.scheme != "https" or not parts.netloc or any(c.isspace() for c in evidence):
            errors.append(RowError(line, "evidence", f"{evidence[:80]!r} is not a web address starting with "
                                   "https://."))
        elif not is_url(evidence):  # the rule the self-check after signing applies (verifier.data_model)
            errors.append(RowError(line, "evidence", f"{evidence[:80]!r} holds a character a web address cannot "
                                   "(one of \" < > { } | \\ ^ `): percent-encode it, as a browser's address bar "
                                   "does."))
    did = values.get("did") or None
    if did and not (_DID.match(did) and is_url(did)):
        errors.append(RowError(line, "did", f"{did[:80]!r} is not a DID like did:key:z6Mk…."))
    if errors or email is None or awarded is None:
        return None, errors
    return RosterRow(line=line, email=email, name=values.get("name") or None, credits=credits, date=awarded,
                     evidence=evidence, did=did, organization=values.get("organization") or None,
                     session=values.get("session") or None, dated=bool(values.get("date"))), []


def check_award(values: Mapping[str, str | None], *, achievement: Achievement, today: date,
                allow_expired: bool = False) -> RosterRow:
    """One award typed on the command line, checked exactly as a roster row is.

    ``values`` uses the roster's column names (email, name, credits, date,
    evidence, did, organization). The first problem raises: ``RECIPIENT_INVALID``
    or ``CREDITS_EXCEEDED`` where a roster row says so, ``USAGE`` otherwise,
    naming the option (``--evidence: …``).
    """
    row, errors = _row(0, {k: (v or "").strip() for k, v in values.items()}, achievement, today, RosterLimits(),
                       allow_expired)
    if row is None:
        first = errors[0]
        code = Code.USAGE if first.code is Code.ROSTER_INVALID else first.code
        raise InputError(code, f"--{first.field}: {first.message}", field=first.field)
    return row


def read_roster(source: str | Path | bytes, *, achievement: Achievement, today: date,
                limits: RosterLimits = RosterLimits(), columns: Mapping[str, str] | None = None,
                strict: bool = False, allow_expired: bool = False, sheet: str | None = None,
                date_order: str | None = None) -> Roster:
    """Read and validate every row of a roster: a CSV or an Excel workbook (a path or the file's bytes).

    A workbook is read from its first worksheet, or ``sheet``
    (``issuer.awarding.roster_sheets``). The header is the first line (of the
    first 20: title rows above it are skipped) with an e-mail column;
    ``columns`` maps headers to fields (``roster_columns.parse_mapping``) before
    the usual spellings are tried; other columns are ignored and listed in
    ``Roster.ignored``, or refused when ``strict``. Dates are read in
    ``date_order`` (MDY or DMY), else in the order the file's own unambiguous
    dates show (``issuer.awarding.roster_dates``). A row whose attendance column
    says it was not attended is left out, in ``Roster.absent``. Returns the
    valid rows and one ``RowError`` per problem (line numbers are the file's
    lines or the sheet's rows); a person's second row (per date or session for
    a repeatable achievement) is an error on its later line. Raises
    ROSTER_INVALID / CSV_MALFORMED / SPREADSHEET_MALFORMED for a missing or bad
    header or an unreadable file, INPUT_TOO_LARGE over ``limits``.
    """
    header: Header | None = None
    records: list[tuple[int, dict[str, str]]] = []
    errors: list[RowError] = []
    empty = True
    for line, cells in roster_lines(source, limits, sheet=sheet):
        empty = False
        if header is None:
            header = map_header(cells, line, columns=columns, strict=strict)
            if header is None and line >= _HEADER_SEARCH_LINES:
                break
            continue  # a title row above the header, or the header itself
        if not any(cell.strip() for cell in cells):
            continue  # blank lines are harmless
        if len(records) + len(errors) >= limits.max_rows:
            raise InputTooLarge(Code.INPUT_TOO_LARGE, f"The roster has more than {limits.max_rows} rows: "
                                "split it into several files.", limit=limits.max_rows)
        fields = header.fields
        if any(cell.strip() for i, cell in enumerate(cells) if i >= len(fields) or fields[i] == ""):
            errors.append(RowError(line, "-", "has a value in a column without a header name."))
            continue
        values = {f: cells[i].strip() if i < len(cells) else "" for i, f in enumerate(fields) if f}
        _join_name(values)
        records.append((line, values))
    if empty:
        raise InputError(Code.ROSTER_INVALID, "The roster is empty: it needs a header line with 'email'.", line=1)
    if header is None:
        raise InputError(Code.ROSTER_INVALID, "The roster has no header line with an e-mail column (looked at "
                         f"its first {_HEADER_SEARCH_LINES} lines): name the column 'email' or 'Email Address', or "
                         "map yours with --map \"Your Header=email\".", line=1, field="email")
    order = date_order or infer_date_order(values.get("date", "") for _, values in records)
    rows: list[RosterRow] = []
    absent: list[Absent] = []
    seen: dict[tuple[str, Any], int] = {}
    for line, values in records:
        if "attended" in values:
            answer = values.pop("attended")
            attended, problem = _attended(answer)
            if problem:
                errors.append(RowError(line, "attended", problem))
                continue
            if not attended:
                absent.append(Absent(line, values.get("email", ""), values.get("name") or None,
                                     f"not attended ({answer[:40]})" if answer else "attendance not marked"))
                continue
        row, problems = _row(line, values, achievement, today, limits, allow_expired, order)
        errors.extend(problems)
        if row is not None:
            # One award per person (per session or date when the achievement is repeatable).
            key = (row.email, (row.session or row.date) if achievement.repeatable else None)
            if key in seen:
                what = f" for {key[1]}" if key[1] else ""
                errors.append(RowError(line, "email", f"{row.email} already has a row{what} "
                                       f"(line {seen[key]})."))
                continue
            seen[key] = line
            rows.append(row)
    errors.sort(key=lambda e: e.line)
    return Roster(rows=rows, errors=errors, ignored=header.ignored, header_line=header.line, absent=absent)


# An attendance column's answers (compared lowercased, punctuation as spaces). An empty cell is "not
# marked": left out with the absent, since CEUs are awarded for attendance someone confirmed.
_ATTENDED = frozenset({"yes", "y", "true", "1", "x", "attended", "present", "checked in", "\u2713", "\u2714"})
_NOT_ATTENDED = frozenset({"no", "n", "false", "0", "absent", "not attended", "did not attend", "no show",
                           "noshow", "not checked in"})


def _attended(text: str) -> tuple[bool, str | None]:
    """(attended, problem) of an attendance cell: Yes / No and their usual spellings; empty is No."""
    answer = normalise_header(text) or text.strip()
    if not answer or answer in _NOT_ATTENDED:
        return False, None
    if answer in _ATTENDED:
        return True, None
    return False, f"{text[:40]!r} is not Yes or No (attended or not)."


def _join_name(values: dict[str, str]) -> None:
    """First Name + Last Name -> name, when the roster has no name column (an export's usual split)."""
    first, last = values.pop("first_name", ""), values.pop("last_name", "")
    if "name" not in values and (first or last):
        values["name"] = " ".join(part for part in (first, last) if part)


def spreadsheet_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet shows instead of running: text starting with = + - @ (or tab / carriage
    return) gets a leading ``'``; None is empty; numbers stay numbers (every CSV Badgesmith writes)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def write_summary_csv(path: str | Path, rows: Iterable[Mapping[str, Any]],
                      fieldnames: Sequence[str] | None = None) -> None:
    """Write an issuing summary as CSV (UTF-8 with BOM, for Excel), atomically.

    Text cells starting with = + - @ (or tab / carriage return) get a leading
    ``'`` so a spreadsheet shows them instead of running them as formulas;
    numbers are written as numbers. ``fieldnames`` default to the first row's keys.
    """
    rows = list(rows)
    columns = list(fieldnames) if fieldnames is not None else list(rows[0]) if rows else []
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([spreadsheet_cell(c) for c in columns])
    for row in rows:
        writer.writerow([spreadsheet_cell(row.get(c)) for c in columns])
    write_file_atomic(Path(path), buffer.getvalue().encode("utf-8-sig"))


__all__ = ["Absent", "COLUMNS", "Roster", "RosterLimits", "RosterRow", "RowError", "check_award", "read_roster",
           "spreadsheet_cell", "write_summary_csv"]
