"""Validation against the official OB 3.0 JSON Schemas.

The package ships 1EdTech's JSON-LD-family schemas (``schemas/json/``), which
accept what widely used issuers write (``proof`` as one object or an array;
single values for arrays). Badgesmith's own output is additionally held to the
strict family in the test suite.

A document is first checked by the schema's generated Python source
(``schemas/compiled/``, made by ``schemas/vendor.py``): importing it costs
milliseconds where compiling the schema at start-up cost most of a second.
Only a "no" loads jsonschema, which walks the schema to list every problem.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from fastjsonschema import JsonSchemaException

if TYPE_CHECKING:
    from jsonschema import Draft201909Validator

SCHEMAS_DIR = Path(__file__).resolve().parent / "json"

SCHEMA_FILES = {
    "credential": "ob_v3p0_achievementcredential_schema.json",
    "profile": "ob_v3p0_profile_schema.json",
}

_MAX_PROBLEMS = 50


@dataclass(frozen=True, slots=True)
class Problem:
    """One schema violation: where (a JSON path like ``$.issuer.type``) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@lru_cache(maxsize=None)
def _validator(kind: str) -> Draft201909Validator:
    """jsonschema's validator, for listing problems (the schemas' validity is a test, not a start-up cost)."""
    from jsonschema import Draft201909Validator

    return Draft201909Validator(json.loads((SCHEMAS_DIR / SCHEMA_FILES[kind]).read_text("utf-8")))


@lru_cache(maxsize=None)
def _fast_check(kind: str) -> Callable[[Any], Any]:
    """The generated yes/no check for ``kind``, ~20x faster than walking with jsonschema.

    Formats are not asserted, exactly as jsonschema does without a format
    checker; a test keeps the two in agreement on near-miss documents.
    """
    if kind not in SCHEMA_FILES:
        raise KeyError(kind)
    return importlib.import_module(f"schemas.compiled.{kind}").check


def warm_up() -> None:
    """Load every check now (a server does this before its first request)."""
    for kind in SCHEMA_FILES:
        _fast_check(kind)


def is_valid(document: dict[str, Any], *, kind: str = "credential") -> bool:
    """True when ``document`` matches the official schema (the fast path of ``validate``)."""
    try:
        _fast_check(kind)(document)
    except JsonSchemaException:
        return False
    return True


def _json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _message(error: Any) -> str:
    # oneOf/anyOf errors say "is not valid under any of the given schemas" for
    # the whole value; the deepest sub-error names the actual problem.
    if error.context:
        best = max(error.context, key=lambda e: len(e.absolute_path))
        if len(best.absolute_path) > len(error.absolute_path):
            return _message(best)
    text = error.message
    return text if len(text) <= 300 else text[:297] + "..."


def validate(document: dict[str, Any], *, kind: str = "credential") -> list[Problem]:
    """Every problem ``document`` has against the official OB 3.0 schema, with its path.

    ``kind`` is ``"credential"`` (OpenBadgeCredential / AchievementCredential)
    or ``"profile"``. An empty list means the document is valid.
    """
    if is_valid(document, kind=kind):
        return []
    problems = []
    for error in _validator(kind).iter_errors(document):
        problems.append(Problem(_json_path(error.absolute_path), _message(error)))
        if len(problems) >= _MAX_PROBLEMS:
            break
    return sorted(problems, key=lambda p: p.path)


__all__ = ["Problem", "SCHEMA_FILES", "is_valid", "validate", "warm_up"]
