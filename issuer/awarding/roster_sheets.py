"""A roster file's lines as cells of text: a CSV file, or a sheet of an Excel workbook (``.xlsx``).

Both give ``(line, cells)`` pairs, where ``line`` is the number a person sees
(the CSV file's line, the spreadsheet's row number), so every error by row
points at the right place whatever the format. The limits are the same for
both: the file's size, rows (``issuer.awarding.roster``), cells, and
for a workbook, which is a zip archive, the size it unpacks to, checked from
the archive's directory before anything is unpacked (``zipfile`` never
inflates an entry past the size its directory declares, so the check holds).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from errors import BadgesmithError, Code, InputError, InputTooLarge

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls (and other OLE documents)
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True, slots=True)
class RosterLimits:
    """Caps that keep a mistaken or hostile upload from exhausting memory."""

    max_bytes: int = 20 * 1024 * 1024
    max_rows: int = 100_000
    max_cells: int = 5_000_000  # cells in the whole file, empty ones too (a sheet of 100,000 rows by 50 columns)
    max_unzipped_bytes: int = 200 * 1024 * 1024  # a workbook's parts, unpacked (a zip bomb stops here)
    max_zip_entries: int = 1_000
    max_field_chars: Mapping[str, int] = field(default_factory=lambda: {
        "email": 254, "name": 200, "credits": 20, "date": 40, "evidence": 2000, "did": 2000,
        "organization": 200, "session": 200, "first_name": 100, "last_name": 100, "attended": 40})


def is_workbook(source: str | Path | bytes) -> bool:
    """True for an Excel workbook: a ``.xlsx``/``.xlsm`` name, or bytes that start as a zip archive."""
    if isinstance(source, (bytes, bytearray)):
        return bytes(source[:4]) == _ZIP_MAGIC
    return Path(source).suffix.lower() in WORKBOOK_SUFFIXES


def roster_lines(source: str | Path | bytes, limits: RosterLimits, *,
                 sheet: str | None = None) -> Iterator[tuple[int, list[str]]]:
    """``(line, cells)`` of a roster CSV or workbook (a path or the file's bytes), in order.

    A workbook is read from its first worksheet, or the one named ``sheet``
    (USAGE when there is none of that name, or when ``sheet`` is given for a
    CSV). Raises CSV_MALFORMED / SPREADSHEET_MALFORMED for a file that cannot
    be read as what it claims to be, INPUT_TOO_LARGE over ``limits``.
    """
    raw = _read_bytes(source, limits)
    name = "the roster" if isinstance(source, (bytes, bytearray)) else Path(source).name
    if raw[:4] == _OLE_MAGIC:  # whatever the name: Excel saves a password-protected .xlsx this way too
        raise InputError(Code.SPREADSHEET_MALFORMED, f"{name} is an old Excel 97-2003 workbook (.xls) or a "
                         "password-protected one: save it, without a password, as \"Excel Workbook (.xlsx)\" or as "
                         "\"CSV UTF-8\".")
    if raw[:4] == _ZIP_MAGIC or is_workbook(source):
        return _checked(_workbook_lines(raw, name, limits, sheet), limits)
    if sheet is not None:
        raise InputError(Code.USAGE, f"--sheet applies to an Excel workbook (.xlsx); {name} is a CSV file.")
    return _checked(_csv_lines(raw, limits), limits)


def _read_bytes(source: str | Path | bytes, limits: RosterLimits) -> bytes:
    if isinstance(source, (bytes, bytearray)):
        raw = bytes(source)
    else:
        try:
            with Path(source).open("rb") as handle:
                raw = handle.read(limits.max_bytes + 1)
        except OSError as exc:
            raise InputError(Code.CSV_MALFORMED, f"Cannot read the roster {source} ({exc.strerror}).") from exc
    if len(raw) > limits.max_bytes:
        raise InputTooLarge(Code.INPUT_TOO_LARGE, f"The roster is larger than {limits.max_bytes} bytes: split it "
                            "into several files.", limit=limits.max_bytes)
    return raw


def _checked(lines: Iterator[tuple[int, list[str]]], limits: RosterLimits) -> Iterator[tuple[int, list[str]]]:
    cells_read = 0
    for line, cells in lines:
        cells_read += len(cells)
        if cells_read > limits.max_cells:
            raise InputTooLarge(Code.INPUT_TOO_LARGE, f"The roster has more than {limits.max_cells} cells (at line "
                                f"{line}): split it into several files.", limit=limits.max_cells, line=line)
        yield line, cells


# -- CSV -------------------------------------------------------------------------------------------


def _csv_lines(raw: bytes, limits: RosterLimits) -> Iterator[tuple[int, list[str]]]:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InputError(Code.CSV_MALFORMED, f"The roster is not UTF-8 text (line {line}): save it as "
                         "\"CSV UTF-8\".", line=line) from exc
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter("\n".join(text.split("\n", 20)[:20])),
                        strict=True)
    previous_end = 0
    try:
        for cells in reader:
            line, previous_end = previous_end + 1, reader.line_num  # a quoted cell may span lines
            yield line, cells
    except csv.Error as exc:
        raise InputError(Code.CSV_MALFORMED, f"The roster is not valid CSV at line {reader.line_num} ({exc}): "
                         "check the quotes on that line.", line=reader.line_num) from exc


def _delimiter(head: str) -> str:
    # European Excel writes ";" and some exports use tabs; the first lines tell which (a title row may
    # have none).
    counts = {d: head.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


# -- Excel workbooks -------------------------------------------------------------------------------


def _malformed(name: str, why: str) -> InputError:
    return InputError(Code.SPREADSHEET_MALFORMED, f"{name} cannot be read as an Excel workbook ({why}): open it in "
                      "a spreadsheet program and save it again as \"Excel Workbook (.xlsx)\" or \"CSV UTF-8\".")


def _workbook_lines(raw: bytes, name: str, limits: RosterLimits,
                    sheet: str | None) -> Iterator[tuple[int, list[str]]]:
    import xml.etree.ElementTree as ElementTree

    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise _malformed(name, "it is not a zip archive, as .xlsx files are") from exc
    unpacked = sum(entry.file_size for entry in entries)
    if len(entries) > limits.max_zip_entries or unpacked > limits.max_unzipped_bytes:
        raise InputTooLarge(Code.INPUT_TOO_LARGE, f"{name} unpacks to {unpacked} bytes in {len(entries)} parts, more "
                            f"than a roster may ({limits.max_unzipped_bytes} bytes, {limits.max_zip_entries} parts): "
                            "split it, or save the sheet as CSV.", limit=limits.max_unzipped_bytes)
    if "xl/workbook.xml" not in {entry.filename for entry in entries}:
        raise _malformed(name, "it is a zip archive without a workbook in it")
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    failures = (zipfile.BadZipFile, InvalidFileException, ElementTree.ParseError, KeyError, ValueError, TypeError,
                IndexError, AttributeError, OSError, EOFError)
    book = None
    try:
        # read_only streams each row instead of building the whole sheet; data_only gives the values a
        # formula last computed (what the coordinator saw), never the formula.
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True, keep_links=False)
        sheets = book.worksheets
        if not sheets:
            raise _malformed(name, "it has no worksheet")
        if sheet is None:
            chosen = sheets[0]
        else:
            chosen = next((s for s in sheets if s.title == sheet), None)
            if chosen is None:
                raise InputError(Code.USAGE, f"--sheet {sheet[:60]!r}: {name} has no sheet of that name; its sheets "
                                 "are " + ", ".join(repr(s.title) for s in sheets[:10]) + ".", sheet=sheet[:60])
        chosen.reset_dimensions()  # never trust the declared size: it pads every row to it
        for line, values in enumerate(chosen.iter_rows(values_only=True), start=1):
            if len(values) > limits.max_cells:  # before turning a million cells into text
                raise InputTooLarge(Code.INPUT_TOO_LARGE, f"Row {line} of {name} has more than {limits.max_cells} "
                                    "cells: split it into several files.", limit=limits.max_cells, line=line)
            yield line, [cell_text(v) for v in values]
    except BadgesmithError:
        raise
    except failures as exc:
        raise _malformed(name, f"{type(exc).__name__}") from exc
    finally:
        archive.close()
        if book is not None:
            book.close()  # read_only keeps its archive open until then


def cell_text(value: Any) -> str:
    """A spreadsheet cell as the text a CSV export of it would hold: a date as YYYY-MM-DD (its time dropped),
    a whole number without ``.0``, TRUE/FALSE as Yes/No, an empty cell as ``""``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, (date,)):
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.15g}"
    return str(value)


__all__ = ["RosterLimits", "WORKBOOK_SUFFIXES", "cell_text", "is_workbook", "roster_lines"]
