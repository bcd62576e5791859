"""N-Quads string escaping exactly as RDFC-1.0 / rdf-canonize write it.

pyld escapes only ``\\ \\t \\n \\r "``; rdf-canonize (under jsonld.js, and so
under most wallets and verifiers) also escapes ``\\b``, ``\\f`` and every other
control character (U+0000–U+001F, U+007F) as ``\\uXXXX``, per the canonical
N-Quads form RDFC-1.0 requires. A credential whose text holds such a
character would otherwise canonicalize differently here and there, and its
signature would not verify across implementations.
"""

from __future__ import annotations

import re

_LITERAL = re.compile('[\x00-\x1f\x7f"\\\\]')
_ECHAR = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def _replace(match: re.Match[str]) -> str:
    char = match.group(0)
    return _ECHAR.get(char) or f"\\u{ord(char):04X}"


def escape_literal(value: str) -> str:
    """The lexical form of a literal as canonical N-Quads writes it."""
    return _LITERAL.sub(_replace, value) if _LITERAL.search(value) else value
