"""A roster's header: which column holds which field, as registration exports name them (issue 16).

Registration platforms and webinar reports name their columns their own way
("Email Address", "E-mail", "Attendee Email", "First Name" + "Last Name",
"Organisation", "Date Attended", "CEUs"). ``map_header`` gives each header
cell a roster field: an explicit mapping first (``--map "Header=field"``,
then the ``[roster.columns]`` table of ``badgesmith.toml``), then the known
spellings below. Other columns are ignored and named, so the run can say so in
one line, unless ``strict`` (then they are refused, as before).
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from errors import Code, ConfigError, InputError

# The roster's fields; first_name and last_name are joined into name when there is no name column; attended
# (Yes/No) leaves out the rows of people who did not attend.
FIELDS = ("email", "name", "credits", "date", "evidence", "did", "organization", "session", "first_name",
          "last_name", "attended")
# Header spellings, written as normalise_header leaves them (lowercase words, no punctuation).
SPELLINGS = {
    "email": ("email", "e mail", "email address", "e mail address", "attendee email", "participant email",
              "registrant email", "learner email", "user email", "member email", "your email"),
    "name": ("name", "full name", "attendee name", "participant name", "registrant name", "learner name",
             "user name", "member name", "name original name", "user name original name"),
    "first_name": ("first name", "firstname", "given name", "forename"),
    "last_name": ("last name", "lastname", "surname", "family name"),
    "organization": ("organization", "organisation", "library", "institution", "company", "employer",
                     "library system", "organization name", "organisation name"),
    "date": ("date", "date attended", "attendance date", "event date", "session date", "completion date",
             "date completed", "award date"),
    "credits": ("credits", "credit", "ceus", "ceu", "ce credits", "ceu credits", "ceus earned", "credits earned"),
    "evidence": ("evidence", "evidence url", "evidence link"),
    "did": ("did", "learner did"),
    "session": ("session", "session name", "session id", "session title"),
    # Yes/No: a webinar report's "Attended", a registration platform's "Checked In" (issuer.awarding.roster).
    "attended": ("attended", "attendance", "present", "checked in", "check in", "attended yes no", "did attend"),
}
_KNOWN = {spelling: name for name, spellings in SPELLINGS.items() for spelling in spellings}
_PUNCTUATION = re.compile(r"[^0-9a-z]+")


def normalise_header(text: str) -> str:
    """``" E-mail Address "`` -> ``"e mail address"``: case, spaces and punctuation do not matter."""
    return _PUNCTUATION.sub(" ", text.lstrip("\ufeff").strip().lower()).strip()


@dataclass(frozen=True, slots=True)
class Header:
    """The header row: one field per column (``""`` a blank header cell, None an ignored column)."""

    line: int
    fields: tuple[str | None, ...]
    ignored: tuple[str, ...]  # the ignored columns' headers, as written (shortened)


def parse_mapping(items: Iterable[str], *, where: str = "--map") -> dict[str, str]:
    """``["Email Address=email", …]`` -> ``{"email address": "email"}``; USAGE naming a bad item."""
    mapping: dict[str, str] = {}
    for item in items:
        header, sep, name = item.rpartition("=")
        mapping.update(check_mapping({header: name} if sep else {item: ""}, where=where))
    return mapping


def check_mapping(mapping: Mapping[str, str], *, where: str, settings: bool = False) -> dict[str, str]:
    """A header -> field mapping with every field checked (USAGE naming ``where`` and the entry;
    CONFIG_INVALID when it comes from ``settings``)."""
    checked = {}
    for header, name in mapping.items():
        key, field = normalise_header(str(header)), str(name).strip().lower()
        if not key or field not in FIELDS:
            error, code = (ConfigError, Code.CONFIG_INVALID) if settings else (InputError, Code.USAGE)
            raise error(code, f"{where} {str(header)[:60]!r}={str(name)[:40]!r} is not \"Column Header=field\" "
                        "with a field among " + ", ".join(FIELDS) + ".", field=str(header)[:60])
        checked[key] = field
    return checked


def map_header(cells: list[str], line: int, *, columns: Mapping[str, str] | None = None,
               strict: bool = False) -> Header | None:
    """The header these cells make, or None when no column holds the e-mail (a title row above it)."""
    columns = columns or {}
    fields: list[str | None] = []
    ignored: list[str] = []
    for cell in cells:
        key = normalise_header(cell)
        field = columns.get(key) or _KNOWN.get(key) or ("" if not key else None)
        fields.append(field)
        if field is None:
            ignored.append(cell.strip()[:40])
    if "email" not in fields:
        return None
    if strict and ignored:
        # Name a few, shortened: a hostile header must not make a megabyte of error message.
        hints = [f"{n!r}" + (f" (did you mean {close[0]!r}?)" if (close := difflib.get_close_matches(
            normalise_header(n), FIELDS, n=1, cutoff=0.6)) else "") for n in ignored[:5]]
        more = f" and {len(ignored) - 5} more" if len(ignored) > 5 else ""
        raise InputError(Code.ROSTER_INVALID, f"The roster header (line {line}) has unknown column(s) "
                         f"{', '.join(hints)}{more}: allowed are " + ", ".join(FIELDS) + ", their usual spellings, "
                         "or a --map; without --strict they are ignored.", line=line, field=ignored[0])
    repeated = sorted(n for n, count in Counter(f for f in fields if f).items() if count > 1)
    if repeated:
        raise InputError(Code.ROSTER_INVALID, f"The roster header (line {line}) has more than one column for "
                         f"{', '.join(repeated)}: map one of them with --map \"Header=field\" or remove it.",
                         line=line, field=repeated[0])
    return Header(line, tuple(fields), tuple(ignored))


__all__ = ["FIELDS", "Header", "SPELLINGS", "check_mapping", "map_header", "normalise_header", "parse_mapping"]
