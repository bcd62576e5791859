"""Dates in a roster's date column, written as people and exports write them (issue 16).

Accepted: ISO ``2026-12-06``; numbers with ``/``, ``.`` or ``-`` and the year
last (``12/06/2026``, ``12/6/26``, ``06.12.2026``; a two-digit year is 20YY);
and words (``6 December 2026``, ``6-Dec-2026``, ``December 6, 2026``, with or
without the weekday). A time after the date (``10/15/2026 10:00 AM``, as
webinar reports write it) is dropped.

Day and month: ``12/06/2026`` is 6 December in the US and 12 June in most of
the rest of the world. The order comes from, first, ``--date-order`` or
``[roster] date_order = "MDY" | "DMY"``; otherwise from the file itself, when
its unambiguous dates (a first or second number above 12) all agree. A date
that could be either and has no order to go by is refused on its row, naming
both readings; a date whose two numbers are the same day and month is never
ambiguous.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

MDY, DMY = "MDY", "DMY"
DATE_ORDERS = (MDY, DMY)

_TIME = r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})" + _TIME + "$")
_NUMERIC = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})\.?" + _TIME + "$")
_MONTHS = {name: number for number, names in enumerate(
    (("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
     ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"),
     ("november", "nov"), ("december", "dec")), start=1) for name in names}
_WEEKDAY = re.compile(r"^(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|sday|rsday|urday)?\.?,?\s+",
                      re.IGNORECASE)
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[\s-]+([A-Za-z]+)\.?,?[\s-]+(\d{4})" + _TIME + "$")
_MONTH_DAY_YEAR = re.compile(r"^([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})" + _TIME + "$")


def _make(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _numbers(text: str) -> tuple[int, int, int] | None:
    """(first, second, year) of a numeric date like 12/6/26, else None."""
    match = _NUMERIC.match(text)
    if not match:
        return None
    year = int(match[4])
    return int(match[1]), int(match[3]), year + 2000 if len(match[4]) == 2 else year


def order_of(text: str) -> str | None:
    """MDY or DMY when this numeric date can only be read one way (a number above 12), else None."""
    numbers = _numbers(text.strip())
    if numbers is None:
        return None
    first, second, year = numbers
    if first > 12 and _make(year, second, first):
        return DMY
    if second > 12 and _make(year, first, second):
        return MDY
    return None


def infer_date_order(texts: Iterable[str]) -> str | None:
    """The order a file's unambiguous numeric dates agree on (None when they disagree or there are none)."""
    seen = {order for text in texts if (order := order_of(text))}
    return seen.pop() if len(seen) == 1 else None


def _words(text: str) -> date | None:
    text = _WEEKDAY.sub("", text)
    match = _DAY_MONTH_YEAR.match(text)
    if match:
        month = _MONTHS.get(match[2].lower())
        return _make(int(match[3]), month, int(match[1])) if month else None
    match = _MONTH_DAY_YEAR.match(text)
    if match:
        month = _MONTHS.get(match[1].lower())
        return _make(int(match[3]), month, int(match[2])) if month else None
    return None


def parse_roster_date(text: str, order: str | None) -> tuple[date | None, str | None]:
    """``(date, None)``, or ``(None, reason)`` naming what was wrong (the reason is a row's message)."""
    text = text.strip()
    match = _ISO.match(text)
    if match:
        value = _make(int(match[1]), int(match[2]), int(match[3]))
        return (value, None) if value else (None, f"{text!r} is not a date in the calendar (read as YYYY-MM-DD).")
    numbers = _numbers(text)
    if numbers is not None:
        first, second, year = numbers
        as_mdy, as_dmy = _make(year, first, second), _make(year, second, first)
        if order == MDY or (order is None and as_dmy is None):
            value = as_mdy
        elif order == DMY or (order is None and as_mdy is None):
            value = as_dmy
        elif as_mdy == as_dmy:
            value = as_mdy
        else:
            return None, (f"{text!r} could be {_long(as_mdy)} (month/day) or {_long(as_dmy)} (day/month): write "
                          "it YYYY-MM-DD, or say which with --date-order MDY|DMY or [roster] date_order in "
                          "badgesmith.toml.")
        if value is None:
            what = {MDY: "month/day/year", DMY: "day/month/year"}.get(order or "", "day and month")
            return None, f"{text!r} is not a date ({what}{' by date_order' if order else ''})."
        return value, None
    value = _words(text)
    if value is None:
        return None, (f"{text!r} is not a date: write it YYYY-MM-DD, 12/31/2026 or 31 December 2026.")
    return value, None


def _long(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


__all__ = ["DATE_ORDERS", "DMY", "MDY", "infer_date_order", "order_of", "parse_roster_date"]
