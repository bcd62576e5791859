"""Bytes in, one credential out: read a source under caps, tell its container, unbake it.

``extract`` is the one entry point the pipeline uses: it sniffs the bytes
(PNG, SVG, JSON or compact JWT), unbakes images through ``verifier.unbake``
and parses JSON with ``parse_json``. Every input is treated as hostile:
sizes, nesting depth, pixel counts and element counts are capped by a
``Limits`` value, and every failure is a ``BadgesmithError`` with a code.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Any, BinaryIO, Literal

from errors import Code, InputError, InputTooLarge
from keys.json_text import refuse_lone_surrogates
from verifier.unbake import PNG_SIGNATURE, unbake_png, unbake_svg

Container = Literal["png", "svg", "json", "jwt"]

_BOM = b"\xef\xbb\xbf"
_JWS = re.compile(r"[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
_JWS_BYTES = re.compile(rb"[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*")
_SVG_STARTS = (b"<?xml", b"<svg", b"<!doctype svg", b"<!--")
# A JSON string, escapes included; possessive so a hostile input cannot backtrack.
# A string runs to its closing quote, or to the end of the text when it has none: with the closing
# quote required, an unterminated string made the engine retry from every later quote (quadratic).
_JSON_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps on hostile input. The defaults suit badge images and credentials."""

    max_bytes: int = 5 * 1024 * 1024
    """Any input, and any text inflated from a compressed PNG chunk."""
    max_json_depth: int = 64
    max_png_pixels: int = 40_000_000
    """Checked against IHDR before anything else, so a pixel bomb is never decoded."""
    max_png_side: int = 16_384
    max_png_chunk_bytes: int = 5 * 1024 * 1024
    max_png_chunks: int = 20_000
    max_svg_bytes: int = 5 * 1024 * 1024
    max_svg_elements: int = 100_000


@dataclass(frozen=True, slots=True)
class Extracted:
    """The credential found in some bytes.

    ``container`` is where it was found; ``kind`` is ``"json"`` (then
    ``credential`` is the parsed object) or ``"jwt"`` (then ``jwt`` is the
    compact JWS, decoded and checked later by the proof check).
    """

    container: Container
    text: str
    kind: Literal["json", "jwt"]
    credential: dict[str, Any] | None = None
    jwt: str | None = None


def read_source(path_or_dash: str | Path, *, limits: Limits,
                stdin: BinaryIO | None = None) -> bytes:
    """Read a file, or stdin for ``"-"``, never more than ``limits.max_bytes``.

    At most ``max_bytes + 1`` bytes are read, so a huge file or an endless
    pipe costs nothing; one byte over raises ``INPUT_TOO_LARGE``. An
    unreadable path raises ``INPUT_UNREADABLE``.
    """
    if str(path_or_dash) == "-":
        return _read_capped(stdin if stdin is not None else sys.stdin.buffer, limits, "stdin")
    path = Path(path_or_dash)
    try:
        with path.open("rb") as handle:
            return _read_capped(handle, limits, str(path))
    except OSError as exc:
        raise InputError(Code.INPUT_UNREADABLE, f"Cannot read {path}: "
                         f"{exc.strerror or exc.__class__.__name__}.", path=str(path)) from exc


def _read_capped(handle: BinaryIO, limits: Limits, name: str) -> bytes:
    wanted = limits.max_bytes + 1
    parts, total = [], 0
    while total < wanted:  # pipes and raw files may return short reads
        part = handle.read(wanted - total)
        if not part:
            break
        parts.append(part)
        total += len(part)
    if total > limits.max_bytes:
        raise InputTooLarge(Code.INPUT_TOO_LARGE, f"The input from {name} is larger than "
                            f"{limits.max_bytes} bytes.", limit=limits.max_bytes)
    return b"".join(parts)


def sniff(data: bytes) -> Container:
    """Tell which container ``data`` is: ``"png"``, ``"svg"``, ``"json"`` or ``"jwt"``.

    Looks only at the first bytes (after a UTF-8 BOM and whitespace); raises
    ``CONTAINER_UNKNOWN`` for anything else, empty input included.
    """
    if data.startswith(PNG_SIGNATURE):
        return "png"
    head = data[:64].removeprefix(_BOM).lstrip()
    if head.startswith((b"{", b"[")):
        return "json"
    if head.lower().startswith(_SVG_STARTS):
        return "svg"
    if head and _JWS_BYTES.fullmatch(data.removeprefix(_BOM).strip()):
        return "jwt"
    if not data.strip():
        raise InputError(Code.CONTAINER_UNKNOWN, "The input is empty.")
    raise InputError(Code.CONTAINER_UNKNOWN, "The input is not a credential: expected JSON, "
                     "a compact JWT, or a PNG or SVG badge image.")


def parse_json(data: bytes | str, *, limits: Limits) -> dict[str, Any]:
    """Parse a credential's JSON strictly and safely; return the object.

    Refuses: more than ``max_bytes`` (``INPUT_TOO_LARGE``), nesting deeper
    than ``max_json_depth`` (``JSON_TOO_DEEP``, found by a linear scan before
    parsing, so no recursion is involved), invalid UTF-8 or JSON,
    ``NaN``/``Infinity``, duplicate keys, unpaired surrogates such as
    ``\\ud800`` (``JSON_MALFORMED``, with line and column or path where known),
    and anything but an object (``JSON_NOT_OBJECT``).
    """
    size = len(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    if size > limits.max_bytes:
        raise InputTooLarge(Code.INPUT_TOO_LARGE, f"The JSON is larger than {limits.max_bytes} "
                            "bytes.", size=size, limit=limits.max_bytes)
    text = _decode_utf8(data) if isinstance(data, bytes) else data
    _check_depth(text, limits.max_json_depth)
    try:
        value = json.loads(text, object_pairs_hook=_object_without_duplicates,
                           parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise InputError(Code.JSON_MALFORMED, f"The JSON is malformed: {exc.msg} (line "
                         f"{exc.lineno}, column {exc.colno}).", line=exc.lineno,
                         column=exc.colno) from exc
    except _Refused as exc:
        raise InputError(Code.JSON_MALFORMED, str(exc), **exc.details) from exc
    except (ValueError, RecursionError) as exc:  # e.g. an integer over Python's digit limit
        raise InputError(Code.JSON_MALFORMED, "The JSON holds a value that cannot be read.",
                         reason=str(exc)[:200]) from exc
    refuse_lone_surrogates(text, value)
    if not isinstance(value, dict):
        raise InputError(Code.JSON_NOT_OBJECT, "The JSON is not an object: a credential is a "
                         "JSON object ({…}).", type=type(value).__name__)
    return value


def _decode_utf8(data: bytes) -> str:
    try:
        return data.removeprefix(_BOM).decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise InputError(Code.JSON_MALFORMED, f"The JSON is not valid UTF-8 (line {line}, "
                         f"column {column}).", line=line, column=column) from exc


def _check_depth(text: str, max_depth: int) -> None:
    # Strip strings (brackets inside them don't nest), keep only brackets, and
    # take the running maximum: linear, in C for the bulk, and unlike the
    # recursive parser it cannot overflow a stack however deep the input is.
    if text.count("{") + text.count("[") <= max_depth:
        return  # no deeper than its opening brackets, strings' included: a credential skips the scan (35 us)
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)).encode("ascii")
    depth = max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)
    if depth > max_depth:
        raise InputTooLarge(Code.JSON_TOO_DEEP, f"The JSON is nested more than {max_depth} "
                            "levels deep.", limit=max_depth)


class _Refused(ValueError):
    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Duplicate keys are refused, not resolved: parsers disagree on which one
    # wins, so a signed credential could mean one thing to the signer's
    # canonicaliser and another to a displayer. Ambiguous signed content is
    # rejected outright.
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise _Refused(f"The JSON has the key {duplicate[:100]!r} twice in one object; "
                       "its meaning is ambiguous.", key=duplicate[:100])
    return result


def _refuse_constant(name: str) -> Any:
    raise _Refused(f"The JSON contains {name}, which is not valid JSON.", constant=name)


def _check_jws(text: str) -> str:
    # The signature may be empty: an unsigned JWT (``alg: none``) is well-formed, and the
    # proof check says it is unsigned (JWT_UNSIGNED) instead of calling it unreadable.
    header, payload, _ = text.split(".") if _JWS.fullmatch(text) else ("", "", "")
    if not header or not payload:
        raise InputError(Code.JWT_MALFORMED, "The compact JWT must be three base64url parts separated "
                         "by dots, the header and payload not empty.")
    return text


def _read_text(container: Container, text: str, limits: Limits) -> Extracted:
    if _JWS.fullmatch(text):
        return Extracted(container, text, "jwt", jwt=_check_jws(text))
    return Extracted(container, text, "json", credential=parse_json(text, limits=limits))


def extract(data: bytes, *, limits: Limits) -> Extracted:
    """Find the one credential in ``data``: JSON, a compact JWT, or a baked PNG or SVG.

    Raises only ``BadgesmithError`` subclasses: ``INPUT_TOO_LARGE``,
    ``CONTAINER_UNKNOWN``, the ``parse_json`` codes, ``JWT_MALFORMED`` and
    the ``verifier.unbake`` codes (``PNG_*``, ``SVG_*``, ``NO_CREDENTIAL``,
    ``MULTIPLE_CREDENTIALS``).
    """
    if len(data) > limits.max_bytes:
        raise InputTooLarge(Code.INPUT_TOO_LARGE, f"The input is larger than {limits.max_bytes} "
                            "bytes.", size=len(data), limit=limits.max_bytes)
    container = sniff(data)
    if container == "png":
        return _read_text("png", unbake_png(data, limits=limits), limits)
    if container == "svg":
        return _read_text("svg", unbake_svg(data, limits=limits), limits)
    if container == "jwt":
        text = data.removeprefix(_BOM).strip().decode("ascii")
        return Extracted("jwt", text, "jwt", jwt=_check_jws(text))
    credential = parse_json(data, limits=limits)
    return Extracted("json", _decode_utf8(data), "json", credential=credential)


__all__ = ["Container", "Extracted", "Limits", "extract", "parse_json", "read_source", "sniff"]
