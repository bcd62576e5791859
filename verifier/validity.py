"""The ``validity`` check: validFrom / validUntil (or VC 1.1's issuanceDate / expirationDate)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from errors import Code

CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class WindowProblem:
    """Why a credential is not valid at the given time."""

    code: str
    message: str


def parse_datetime(value: Any) -> datetime | None:
    """An XSD dateTime (with Z or an offset; milliseconds allowed) as aware UTC, else None."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        # A dateTime without a zone is ambiguous; VC 2.0 requires one, and
        # reading it as UTC is what Digital Bazaar does for VC 1.1 data.
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _field(credential: dict[str, Any], names: tuple[str, ...]) -> tuple[str | None, Any]:
    for name in names:
        if name in credential:
            return name, credential[name]
    return None, None


# strftime's %B in the C locale Python keeps for LC_TIME, written out: strftime took 9 us a report.
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def _day(moment: datetime) -> str:
    # The one date format people read everywhere ("6 December 2026"); ISO stays in machine fields.
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}, {moment.hour:02d}:{moment.minute:02d} UTC"


def check_window(credential: dict[str, Any], now: datetime) -> WindowProblem | None:
    """None when ``now`` lies in the credential's validity window (± 5 minutes)."""
    start_name, start_value = _field(credential, ("validFrom", "issuanceDate"))
    end_name, end_value = _field(credential, ("validUntil", "expirationDate"))
    start = parse_datetime(start_value) if start_name else None
    end = parse_datetime(end_value) if end_name else None
    if start_name and start is None:
        return WindowProblem(Code.DATE_INVALID.value, f"{start_name} is not a valid date-time.")
    if end_name and end is None:
        return WindowProblem(Code.DATE_INVALID.value, f"{end_name} is not a valid date-time.")
    if start is not None and now + CLOCK_SKEW < start:
        return WindowProblem(Code.NOT_YET_VALID.value, f"It is not valid until {_day(start)}.")
    if end is not None and now - CLOCK_SKEW > end:
        return WindowProblem(Code.EXPIRED.value, f"It expired on {_day(end)}.")
    return None


def describe_window(credential: dict[str, Any]) -> str:
    """A sentence for a credential inside its window."""
    start = parse_datetime(credential.get("validFrom") or credential.get("issuanceDate"))
    end = parse_datetime(credential.get("validUntil") or credential.get("expirationDate"))
    text = f"Valid since {_day(start)}" if start else "Valid (no start date)"
    return text + (f", until {_day(end)}." if end else ", with no expiry date.")


__all__ = ["CLOCK_SKEW", "WindowProblem", "check_window", "describe_window", "parse_datetime"]
