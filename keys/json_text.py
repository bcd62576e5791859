"""Parsed JSON that must also be valid Unicode: no unpaired UTF-16 surrogates.

JSON's ``\\uXXXX`` escapes can spell half of a surrogate pair (``\\ud800``,
``\\udfff``, or a pair in the wrong order). Python's ``json`` accepts them and
yields a ``str`` that cannot be encoded as UTF-8, so the text would fail
later, far from the input: writing a report, rendering a page, signing.
Every JSON reader (``verifier.sources.parse_json`` for credentials and
request bodies, ``keys.vc_jwt.decode_jwt`` for JWT parts) refuses such text
as ``JSON_MALFORMED`` right after parsing.
"""

from __future__ import annotations

import re
from typing import Any

from errors import Code, InputError

# The escapes that may produce a surrogate, and raw ones (a ``str`` given directly).
# Text without either cannot hold one, so most documents are never walked.
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _may_hold_surrogate(text: str) -> bool:
    # Substring and ASCII tests run at C speed; the regular expressions only run on text that has
    # a \u escape or a character beyond ASCII (a credential's 3-4 kB took 30 us through one regex).
    if "\\u" in text and _ESCAPED_SURROGATE.search(text):
        return True
    return not text.isascii() and _SURROGATE.search(text) is not None


def find_lone_surrogate(value: Any) -> tuple[str, str] | None:
    """An unpaired surrogate in a parsed JSON ``value``: (where, which), or ``None``.

    ``where`` is a dotted path such as ``credentialSubject.achievement.name``,
    ``a key in credentialSubject`` or ``the top level``; ``which`` is the code
    point written as an escape (``\\ud800``). Python's parser joins a valid
    pair into one character, so any surrogate left in a string is unpaired.
    """
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            found = _SURROGATE.search(item)
            if found:
                return path or "the top level", f"\\u{ord(found.group()):04x}"
        elif isinstance(item, dict):
            for key, inner in item.items():
                found = _SURROGATE.search(key)
                if found:
                    return f"a key in {path or 'the top-level object'}", f"\\u{ord(found.group()):04x}"
                stack.append((f"{path}.{key}" if path else key, inner))
        elif isinstance(item, list):
            stack.extend((f"{path}[{index}]", inner) for index, inner in enumerate(item))
    return None


def refuse_lone_surrogates(text: str, value: Any, *, what: str = "The JSON") -> None:
    """Raise ``JSON_MALFORMED`` when ``value``, parsed from ``text``, holds an unpaired surrogate."""
    if not _may_hold_surrogate(text):
        return
    found = find_lone_surrogate(value)
    if found is not None:
        where, which = found
        where = where if len(where) <= 120 else where[:117] + "..."
        raise InputError(Code.JSON_MALFORMED,
                         f"{what} holds an unpaired surrogate ({which}) in {where}, which is not valid "
                         "Unicode text; fix the escape that writes it.", where=where, character=which)


__all__ = ["find_lone_surrogate", "refuse_lone_surrogates"]
