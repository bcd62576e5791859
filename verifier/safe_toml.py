"""TOML parsing that cannot be crashed by nesting: every TOML file Badgesmith reads goes through here.

``tomllib`` parses arrays and inline tables recursively, so a few kilobytes of
``[[[[…`` raise ``RecursionError`` — which no caller expects, and which would
surface as an internal error. Here it becomes the ``TOMLDecodeError`` every
caller already turns into its own readable ``TOML_MALFORMED`` message.
"""

from __future__ import annotations

import tomllib
from typing import Any

TOMLDecodeError = tomllib.TOMLDecodeError


def loads(text: str) -> dict[str, Any]:
    """``tomllib.loads``, with excessive nesting reported as a ``TOMLDecodeError``."""
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise TOMLDecodeError("arrays or inline tables are nested too deeply") from None


__all__ = ["TOMLDecodeError", "loads"]
