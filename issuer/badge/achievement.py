"""Achievements: the ``Achievement`` value, loading it from TOML with line-numbered errors, durations.

An achievement file is what a continuing-education office writes by hand, so
every mistake names the file, the line and the field, and a misspelt key gets
a "did you mean" (see ``templates/achievements/*.toml`` for the format).
``TomlSource`` is the line-aware TOML reader; ``issuer.instance.settings`` uses it for
``badgesmith.toml`` too.
"""

from __future__ import annotations

import calendar
import difflib
import math
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from errors import BadgesmithError, Code, InputError
from issuer.badge.bake import bake_png, bake_svg
from verifier import safe_toml

MAX_TOML_BYTES = 256 * 1024
MAX_IMAGE_BYTES = 2 * 1024 * 1024

# OB 3.0 AchievementType (B.1.28), in the order of the official JSON Schema;
# a test compares it with ../shared/spec/schemas. Extensions use "ext:".
ACHIEVEMENT_TYPES = (
    "Achievement", "ApprenticeshipCertificate", "Assessment", "Assignment", "AssociateDegree",
    "Award", "Badge", "BachelorDegree", "Certificate", "CertificateOfCompletion", "Certification",
    "CommunityService", "Competency", "Course", "CoCurricular", "Degree", "Diploma",
    "DoctoralDegree", "Fieldwork", "GeneralEducationDevelopment", "JourneymanCertificate",
    "LearningProgram", "License", "Membership", "ProfessionalDoctorate",
    "QualityAssuranceCredential", "MasterCertificate", "MasterDegree", "MicroCredential",
    "ResearchDoctorate", "SecondarySchoolDiploma",
)
# OB 3.0 AlignmentTargetType (B.1.5), likewise compared with the schema.
ALIGNMENT_TARGET_TYPES = ("ceasn:Competency", "ceterms:Credential", "CFItem", "CFRubric",
                          "CFRubricCriterion", "CFRubricCriterionLevel", "CTDL")
_EXTENSION = re.compile(r"^ext:[A-Za-z0-9._|-]+$")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DURATION = re.compile(r"^\s*(\d{1,5})\s*([ymwd])\s*$", re.IGNORECASE)
_DURATION_MAX_DAYS = 100 * 366  # nothing sensible is valid for longer than a century

_TOP_KEYS = ("id", "name", "description", "criteria", "achievement_type", "credits_available",
             "field_of_study", "human_code", "tags", "alignment", "image", "valid_for", "renewal",
             "repeatable")
_REQUIRED = ("id", "name", "description", "criteria", "achievement_type")
_ALIGNMENT_KEYS = ("target_name", "target_url", "target_description", "target_code",
                   "target_framework", "target_type")
_RENEWAL_KEYS = ("credits", "within", "tags", "field_of_study")
_TEXT_LIMITS = {"id": 64, "name": 200, "description": 4000, "criteria": 20000, "field_of_study": 200,
                "human_code": 100, "tag": 60, "url": 2000, "target": 500}

Where = tuple[str | int, ...]


# --- TOML with line numbers ---------------------------------------------------

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")


def _split_key(text: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in text.split("."))


def _open_multiline(line: str, delimiter: str | None) -> str | None:
    """The multi-line string delimiter still open at the end of ``line`` (None if none)."""
    i = 0
    while i < len(line):
        if delimiter:
            end = line.find(delimiter, i)
            if end < 0:
                return delimiter
            i, delimiter = end + 3, None
            continue
        char = line[i]
        if char == "#":
            return None
        if line.startswith(('"""', "'''"), i):
            delimiter, i = line[i:i + 3], i + 3
        elif char in "\"'":
            end = i + 1
            while end < len(line) and line[end] != char:
                end += 2 if char == '"' and line[end] == "\\" else 1
            i = end + 1
        else:
            i += 1
    return delimiter


@dataclass(frozen=True, slots=True)
class TomlSource:
    """A parsed TOML file that still knows its text, so errors can name a line.

    ``tomllib`` reports lines only for syntax errors; for a wrong value we find
    the line of its key ourselves, following ``[table]`` / ``[[array]]``
    headers and skipping multi-line strings.
    """

    path: Path
    text: str
    data: dict[str, Any]
    code: Code = Code.ACHIEVEMENT_INVALID
    error_class: type[BadgesmithError] = InputError

    @classmethod
    def read(cls, path: Path, *, max_bytes: int = MAX_TOML_BYTES, code: Code = Code.ACHIEVEMENT_INVALID,
             error_class: type[BadgesmithError] = InputError) -> TomlSource:
        """Read and parse ``path``: INPUT_TOO_LARGE over ``max_bytes``, TOML_MALFORMED with line/column."""
        path = Path(path)
        try:
            raw = safe_toml.read_limited(path, max_bytes)
        except FileNotFoundError as exc:
            raise error_class(code, f"{path} does not exist: check the file name.", file=str(path)) from exc
        except OSError as exc:
            raise error_class(code, f"{path} cannot be read ({exc.strerror}).", file=str(path)) from exc
        return cls.parse(raw, path=path, code=code, error_class=error_class)

    @classmethod
    def parse(cls, raw: bytes | str, *, path: Path, code: Code = Code.ACHIEVEMENT_INVALID,
              error_class: type[BadgesmithError] = InputError) -> TomlSource:
        """Parse TOML text already in memory; ``path`` names it in errors."""
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError as exc:
            raise error_class(Code.TOML_MALFORMED, f"{path.name} is not UTF-8 text (byte {exc.start}): "
                              "save it as UTF-8.", file=str(path)) from exc
        text = text.removeprefix("\ufeff")
        try:
            data = safe_toml.loads(text)
        except safe_toml.TOMLDecodeError as exc:
            found = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
            reason = re.sub(r"\s*\(at .*?\)", "", str(exc)) or "syntax error"
            line, column = (int(found[1]), int(found[2])) if found else (None, None)
            where = f", line {line}, column {column}" if found else ""
            raise error_class(Code.TOML_MALFORMED, f"{path.name}{where} is not valid TOML ({reason}): "
                              "check the quotes, brackets and '=' there.", file=str(path), line=line,
                              column=column) from exc
        return cls(Path(path), text, data, code, error_class)

    def line_of(self, where: Where) -> int | None:
        """The 1-based line that defines ``where`` (e.g. ``("alignment", 1, "target_url")``).

        Falls back to the closest enclosing key or header found (an inline
        table's own line), or None.
        """
        lines: dict[Where, int] = {}
        header: Where = ()
        counts: dict[tuple[str, ...], int] = {}
        delimiter: str | None = None
        for number, line in enumerate(self.text.splitlines(), start=1):
            if delimiter is None:
                if found := _HEADER.match(line):
                    names = _split_key(found[2])
                    if found[1] == "[[":
                        counts[names] = counts.get(names, -1) + 1
                        header = names + (counts[names],)
                    else:
                        header = names
                    lines.setdefault(header, number)
                elif found := _KEY.match(line):
                    lines.setdefault(header + _split_key(found[1]), number)
            delimiter = _open_multiline(line, delimiter)
        for size in range(len(where), 0, -1):
            if where[:size] in lines:
                return lines[where[:size]]
        return None

    def error(self, where: Where, message: str) -> BadgesmithError:
        """An error for the value at ``where``: "<file>, line N: <message>" with file/line/field details."""
        line = self.line_of(where)
        name = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in where).lstrip(".")
        prefix = f"{self.path.name}, line {line}" if line else self.path.name
        return self.error_class(self.code, f"{prefix}: {message}", file=str(self.path), line=line,
                                field=name)

    def check_keys(self, where: Where, table: dict[str, Any], allowed: tuple[str, ...]) -> None:
        """Reject keys not in ``allowed`` (typos), suggesting the closest allowed one."""
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}?" if close else "allowed: " + ", ".join(allowed) + "."
                raise self.error(where + (key,), f"unknown key {key!r}: {hint}")


# --- durations --------------------------------------------------------------


def parse_duration(text: str) -> tuple[int, str]:
    """``"3y"`` → ``(3, "y")``; units y(ears), m(onths), w(eeks), d(ays); InputError if unreadable."""
    found = _DURATION.match(text) if isinstance(text, str) else None
    if not found or int(found[1]) == 0:
        raise InputError(Code.ACHIEVEMENT_INVALID, f"{text!r} is not a duration: write a whole number "
                         "and a unit, like \"3y\", \"18m\", \"2w\" or \"90d\".")
    count, unit = int(found[1]), found[2].lower()
    if count * {"y": 366, "m": 31, "w": 7, "d": 1}[unit] > _DURATION_MAX_DAYS:
        raise InputError(Code.ACHIEVEMENT_INVALID, f"{text!r} is longer than 100 years.")
    return count, unit


def add_duration(start: date, text: str) -> date:
    """``start`` plus a duration; months and years end on the last day when the day is missing.

    Jan 31 + "1m" = Feb 28 (29 in leap years); Feb 29 + "1y" = Feb 28.
    Works for ``datetime`` too (the time of day is kept).
    """
    return _shift(start, text, +1)


def subtract_duration(start: date, text: str) -> date:
    """``start`` minus a duration, counted on the calendar like ``add_duration``, not as a number of days.

    Mar 31 - "1m" = Feb 28 (29 in leap years); Feb 29 - "1y" = Feb 28; days
    and weeks are exact days. Calendar-exact because a month or a year is not
    a fixed number of days: ``today - (add_duration(today, text) - today)``
    borrows the length of the *next* month or year (Mar 31 - "1m" would give
    Mar 1, Feb 28 - "1m" Jan 31). Not an inverse of ``add_duration`` where the
    day is clamped: Feb 28 + "1m" is Mar 28, not Mar 31. Works for
    ``datetime`` too (the time of day is kept).
    """
    return _shift(start, text, -1)


def _shift(start: date, text: str, sign: int) -> date:
    """``start`` moved forward (``sign`` 1) or back (-1) by a duration; the day clamped to the month's length."""
    count, unit = parse_duration(text)
    count *= sign
    if unit in "dw":
        return start + timedelta(days=count * (7 if unit == "w" else 1))
    years, month0 = divmod(start.month - 1 + count * (12 if unit == "y" else 1), 12)
    year, month = start.year + years, month0 + 1
    return start.replace(year=year, month=month, day=min(start.day, calendar.monthrange(year, month)[1]))


# --- the value ----------------------------------------------------------------


def _number(value: float) -> float | int:
    # 36 rather than 36.0 in JSON: both canonicalize to "36"^^xsd:float.
    return int(value) if float(value).is_integer() else float(value)


@dataclass(frozen=True, slots=True)
class Alignment:
    """An OB 3.0 Alignment: a competency, standard or credential this achievement maps to."""

    target_name: str
    target_url: str
    target_description: str | None = None
    target_code: str | None = None
    target_framework: str | None = None
    target_type: str | None = None

    def to_ob(self) -> dict[str, Any]:
        """The OB 3.0 Alignment object."""
        ob: dict[str, Any] = {"type": ["Alignment"], "targetName": self.target_name,
                              "targetUrl": self.target_url}
        for key, value in (("targetDescription", self.target_description), ("targetCode", self.target_code),
                           ("targetFramework", self.target_framework), ("targetType", self.target_type)):
            if value is not None:
                ob[key] = value
        return ob


@dataclass(frozen=True, slots=True)
class Renewal:
    """A renewal rule: earn ``credits`` CEUs (tagged with any of ``tags``, in ``field_of_study``) within ``within``."""

    credits: float
    within: str
    tags: tuple[str, ...] = ()
    field_of_study: str | None = None


@dataclass(frozen=True, slots=True)
class Achievement:
    """What a credential recognises, as the issuer wrote it in TOML. ``image`` is an absolute path."""

    id: str
    name: str
    description: str
    criteria: str
    achievement_type: str
    credits_available: float | None = None
    field_of_study: str | None = None
    human_code: str | None = None
    tags: tuple[str, ...] = ()
    alignment: tuple[Alignment, ...] = ()
    image: Path | None = None
    valid_for: str | None = None
    renewal: Renewal | None = None
    repeatable: bool = False  # earned again and again (a series): one award per date or session
    source: Path | None = field(default=None, compare=False)

    @property
    def image_media_type(self) -> str | None:
        """``image/png`` or ``image/svg+xml`` for the image, None without one."""
        if self.image is None:
            return None
        with self.image.open("rb") as handle:
            return "image/svg+xml" if _image_kind(handle.read(4096)) == "svg" else "image/png"

    def valid_until(self, start: date) -> date | None:
        """When a credential awarded on ``start`` expires (``valid_for`` later), or None if it never does."""
        return add_duration(start, self.valid_for) if self.valid_for else None

    def to_ob(self, achievement_url: str, image_url: str | None = None) -> dict[str, Any]:
        """The OB 3.0 Achievement object (passes the strict official schema).

        ``image_url`` is where the image is published (``instance.image_url``);
        the ``image`` property is written only when it is given.
        """
        ob: dict[str, Any] = {"id": achievement_url, "type": ["Achievement"],
                              "achievementType": self.achievement_type, "name": self.name,
                              "description": self.description, "criteria": {"narrative": self.criteria}}
        if image_url:
            ob["image"] = {"id": image_url, "type": "Image"}
        if self.credits_available is not None:
            ob["creditsAvailable"] = _number(self.credits_available)
        if self.field_of_study:
            ob["fieldOfStudy"] = self.field_of_study
        if self.human_code:
            ob["humanCode"] = self.human_code
        if self.tags:
            ob["tag"] = list(self.tags)
        if self.alignment:
            ob["alignment"] = [item.to_ob() for item in self.alignment]
        return ob


# --- loading ------------------------------------------------------------------


def _image_kind(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith((b"<?xml", b"<svg", b"<!--", b"<!DOCTYPE svg")) and b"<svg" in text:
        return "svg"
    return None


def _text(src: TomlSource, table: dict[str, Any], where: Where, *, limit: int,
          required: bool = False) -> str | None:
    value = table.get(where[-1])
    if value is None:
        if required:
            raise src.error(where[:-1], f"{where[-1]!r} is required but missing.")
        return None
    if not isinstance(value, str) or not value.strip():
        raise src.error(where, f"{where[-1]} must be non-empty text in quotes.")
    if len(value) > limit:
        raise src.error(where, f"{where[-1]} is longer than {limit} characters.")
    return value.strip()


def _credits(src: TomlSource, value: Any, where: Where) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise src.error(where, f"{where[-1]} must be a number of credits of 0 or more, like 1.5.")
    return float(value)


def _tags(src: TomlSource, value: Any, where: Where) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > 50 or not all(
            isinstance(tag, str) and tag.strip() and len(tag) <= _TEXT_LIMITS["tag"] for tag in value):
        raise src.error(where, f"{where[-1]} must be a list of up to 50 short texts, like [\"storytime\"].")
    return tuple(dict.fromkeys(tag.strip() for tag in value))


def read_duration(src: TomlSource, value: Any, where: Where) -> str | None:
    """A duration field (``"3y"``, ``"90d"``) normalised, or an error naming the field and its line."""
    if value is None:
        return None
    try:
        count, unit = parse_duration(value)
    except InputError as exc:
        raise src.error(where, f"{where[-1]}: {exc.message}") from exc
    return f"{count}{unit}"


def _enumerated(src: TomlSource, value: str, where: Where, allowed: tuple[str, ...]) -> str:
    if value in allowed or _EXTENSION.match(value):
        return value
    close = difflib.get_close_matches(value, allowed, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?" if close else "use one of " + ", ".join(allowed) + \
        ", or an extension like \"ext:Webinar\"."
    raise src.error(where, f"{value!r} is not an Open Badges {where[-1]}: {hint}")


def _url(src: TomlSource, value: str, where: Where) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise src.error(where, f"{where[-1]} must be a full web address starting with https://.")
    return value


def _alignment(src: TomlSource, value: Any) -> tuple[Alignment, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value) or len(value) > 50:
        raise src.error(("alignment",), "alignment must be up to 50 [[alignment]] tables.")
    items = []
    for index, item in enumerate(value):
        where: Where = ("alignment", index)
        src.check_keys(where, item, _ALIGNMENT_KEYS)
        limit = _TEXT_LIMITS["target"]
        target_type = _text(src, item, where + ("target_type",), limit=limit)
        items.append(Alignment(
            target_name=_text(src, item, where + ("target_name",), limit=limit, required=True),
            target_url=_url(src, _text(src, item, where + ("target_url",), limit=_TEXT_LIMITS["url"],
                                       required=True), where + ("target_url",)),
            target_description=_text(src, item, where + ("target_description",), limit=_TEXT_LIMITS["description"]),
            target_code=_text(src, item, where + ("target_code",), limit=limit),
            target_framework=_text(src, item, where + ("target_framework",), limit=limit),
            target_type=target_type and _enumerated(src, target_type, where + ("target_type",),
                                                    ALIGNMENT_TARGET_TYPES)))
    return tuple(items)


def _image(src: TomlSource, value: Any) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise src.error(("image",), "image must be a file name in quotes, relative to this file.")
    path = (src.path.parent / value.strip()).resolve()
    if not path.is_file():
        raise src.error(("image",), f"the image {value!r} does not exist next to {src.path.name}.")
    if path.stat().st_size > MAX_IMAGE_BYTES:
        raise src.error(("image",), f"the image is larger than {MAX_IMAGE_BYTES // 1024 // 1024} MiB.")
    try:
        check_image(path.read_bytes())
    except ValueError as error:
        raise src.error(("image",), f"{value!r} {error}") from None
    return path


def check_image(data: bytes) -> str:
    """``"png"`` or ``"svg"`` for an image issuing accepts as badge art; ``ValueError`` saying why not.

    A placeholder is baked into it with the checks issuing will make (PNG
    structure, pixel limits, SVG safety): a bad image is refused once, when
    it is configured, not at every award. The brand's logo is checked the same way.
    """
    kind = _image_kind(data[:4096])
    if kind is None:
        raise ValueError("is not a PNG or SVG image (Open Badges allows only those).")
    try:
        bake_png(data, "{}") if kind == "png" else bake_svg(data, {})
    except BadgesmithError as error:
        raise ValueError(f"cannot carry a badge: {error.message}") from None
    return kind


def _renewal(src: TomlSource, value: Any) -> Renewal | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise src.error(("renewal",), "renewal must be a [renewal] table with credits, within, and tags or "
                        "field_of_study.")
    src.check_keys(("renewal",), value, _RENEWAL_KEYS)
    for key in ("credits", "within"):
        if key not in value:
            raise src.error(("renewal",), f"renewal needs {key!r}.")
    return Renewal(credits=_credits(src, value["credits"], ("renewal", "credits")),
                   within=read_duration(src, value["within"], ("renewal", "within")),
                   tags=_tags(src, value.get("tags"), ("renewal", "tags")),
                   field_of_study=_text(src, value, ("renewal", "field_of_study"),
                                        limit=_TEXT_LIMITS["field_of_study"]))


def achievement_from_source(src: TomlSource) -> Achievement:
    """Validate a parsed achievement TOML and build the value (errors name the line and field)."""
    data = src.data
    src.check_keys((), data, _TOP_KEYS)
    for key in _REQUIRED:
        if key not in data:
            raise src.error((), f"{key!r} is required but missing (needed: {', '.join(_REQUIRED)}).")
    texts = {key: _text(src, data, (key,), limit=_TEXT_LIMITS[key])
             for key in ("id", "name", "description", "criteria", "field_of_study", "human_code")}
    if not _SLUG.match(texts["id"]):
        raise src.error(("id",), f"id {texts['id']!r} must be a short name of lowercase letters, digits and "
                        "hyphens, like \"storytime-basics\".")
    kind = _text(src, data, ("achievement_type",), limit=100)
    return Achievement(
        id=texts["id"], name=texts["name"], description=texts["description"], criteria=texts["criteria"],
        achievement_type=_enumerated(src, kind, ("achievement_type",), ACHIEVEMENT_TYPES),
        credits_available=_credits(src, data.get("credits_available"), ("credits_available",)),
        field_of_study=texts["field_of_study"], human_code=texts["human_code"],
        tags=_tags(src, data.get("tags"), ("tags",)), alignment=_alignment(src, data.get("alignment")),
        image=_image(src, data.get("image")), valid_for=read_duration(src, data.get("valid_for"), ("valid_for",)),
        renewal=_renewal(src, data.get("renewal")), repeatable=_flag(src, data, "repeatable"), source=src.path)


def _flag(src: TomlSource, data: dict[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise src.error((key,), f"{key} must be true or false.")
    return value


def load_achievement(path: str | Path) -> Achievement:
    """Read an achievement TOML file; ``InputError`` ACHIEVEMENT_INVALID / TOML_MALFORMED naming line and field."""
    return achievement_from_source(TomlSource.read(Path(path)))


__all__ = ["ACHIEVEMENT_TYPES", "ALIGNMENT_TARGET_TYPES", "Achievement", "Alignment", "MAX_IMAGE_BYTES",
           "MAX_TOML_BYTES", "Renewal", "TomlSource", "achievement_from_source", "add_duration", "check_image",
           "load_achievement", "parse_duration", "read_duration", "subtract_duration"]
