"""TOML parsing with bounds: every TOML file Badgesmith reads goes through here.

``tomllib`` has two costs no caller expects from a few kilobytes of text:

* arrays and inline tables are parsed recursively, so ``[[[[…`` raises
  ``RecursionError``;
* a dotted key (``a.a.a… = 1``) or table header (``[a.a.a…]``) of n parts
  costs O(n²) memory and time: 20,000 parts (40 KB) take 1.6 GB and 10 s.

So before ``tomllib`` sees the text, a linear scan (strings and comments
skipped) refuses a key of more than ``MAX_KEY_PARTS`` parts and values nested
more than ``MAX_DEPTH`` levels deep (header parts + key parts + arrays and
inline tables), and text over ``MAX_BYTES``. These become the
``TOMLDecodeError`` every caller already turns into its readable
``TOML_MALFORMED`` message (with the line and column), or ``INPUT_TOO_LARGE``.
Real Badgesmith files use keys of 1–3 parts nested 4 levels deep.
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any

from errors import Code, InputTooLarge

TOMLDecodeError = tomllib.TOMLDecodeError

MAX_BYTES = 256 * 1024  # any TOML file we read (callers may choose less)
MAX_KEY_PARTS = 16  # parts of one dotted key or table header
MAX_DEPTH = 32  # tables, arrays and inline tables inside each other

# One token per match, every alternative linear: an unterminated string runs
# to the end of its line (or of the text, for a multi-line one), never rescanned.
_TOKEN = re.compile(r'''
    (?P<string>
        """(?:[^\\"]|\\.|"(?!""))*(?:"{3,5}|\\?\Z)
      | \'\'\'(?:[^']|'(?!''))*(?:'{3,5}|\Z)
      | "(?:[^"\\\n]|\\[^\n])*"?
      | '[^'\n]*'?
      | \#[^\n]*
    )
    | (?P<punct>[\[\]{}.,=\n])
    | [^"'\#\[\]{}.,=\n]+
''', re.VERBOSE | re.DOTALL)


def _error(text: str, pos: int, message: str) -> TOMLDecodeError:
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return TOMLDecodeError(f"{message} (at line {line}, column {column})")


def check_bounds(text: str) -> None:
    """Raise ``TOMLDecodeError`` for a key of too many parts or values nested too deeply."""
    opened: list[tuple[str, int]] = []  # open arrays / inline tables and the depth of each
    base = 0  # depth of the current [table] header
    in_key, in_header, parts, value_depth = True, False, 1, 0
    for match in _TOKEN.finditer(text):
        token = match.group("punct")
        if token is None:
            continue
        if token == "\n":
            if not opened:
                in_key, in_header, parts = True, False, 1
        elif token == ".":
            if in_key:
                parts += 1
                if parts > MAX_KEY_PARTS:
                    raise _error(text, match.start(), f"a key has more than {MAX_KEY_PARTS} dotted parts")
                container = opened[-1][1] if opened else (0 if in_header else base)
                if container + parts > MAX_DEPTH:
                    raise _error(text, match.start(), f"tables are nested too deeply (more than {MAX_DEPTH} levels)")
        elif token == "=":
            if in_key:
                value_depth = (opened[-1][1] if opened else base) + parts
            in_key = False
        elif token in "[{":
            if token == "[" and in_key and not opened:  # a [table] or [[array-of-tables]] header
                in_header = True
                continue
            parent = value_depth if not opened or opened[-1][0] == "{" else opened[-1][1]
            opened.append((token, parent + 1))
            if len(opened) > MAX_DEPTH or parent + 1 > MAX_DEPTH:
                raise _error(text, match.start(), f"arrays or inline tables are nested too deeply (more than "
                             f"{MAX_DEPTH} levels)")
            in_key, parts = token == "{", 1
        elif token in "]}":
            if opened:
                opened.pop()
            elif in_header:
                base, in_header = parts, False
            in_key = False
        elif token == ",":
            in_key, parts = bool(opened) and opened[-1][0] == "{", 1


def loads(text: str) -> dict[str, Any]:
    """``tomllib.loads`` within the bounds above: ``TOMLDecodeError`` or ``InputTooLarge`` beyond them."""
    if len(text) > MAX_BYTES:
        raise InputTooLarge(Code.INPUT_TOO_LARGE, f"The TOML text is larger than {MAX_BYTES:,} characters: "
                            "is it the right file?", limit=MAX_BYTES)
    check_bounds(text)
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise TOMLDecodeError("arrays or inline tables are nested too deeply") from None


def read_limited(path: Path, max_bytes: int = MAX_BYTES, *, label: str | None = None) -> bytes:
    """The bytes of ``path``, reading at most ``max_bytes + 1``: ``InputTooLarge`` beyond ``max_bytes``.

    ``OSError`` is left to the caller, which knows what the file is for (EINVAL for a FIFO,
    device or directory: never read, never waited on).
    ``label`` names the file in the message (default: its name).
    """
    path = Path(path)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block the open
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "it is not a regular file", str(path))
        os.set_blocking(fd, True)
        raw = handle.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise InputTooLarge(Code.INPUT_TOO_LARGE, f"{label or path.name} is larger than {max_bytes:,} bytes: "
                            "is it the right file?", file=str(path), limit=max_bytes)
    return raw


__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_KEY_PARTS", "TOMLDecodeError", "check_bounds", "loads", "read_limited"]
