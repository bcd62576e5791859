"""Validation against the official OB 3.0 JSON Schemas (compiled once per process).

The package ships 1EdTech's JSON-LD-family schemas (``schemas/json/``), which
accept what widely used issuers write (``proof`` as one object or an array;
single values for arrays). Badgesmith's own output is additionally held to the
strict family in the test suite.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import fastjsonschema
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
    schema = json.loads((SCHEMAS_DIR / SCHEMA_FILES[kind]).read_text("utf-8"))
    Draft201909Validator.check_schema(schema)
    return Draft201909Validator(schema)


def _formats(schema: Any) -> set[str]:
    found: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("format"), str):
                found.add(node["format"])
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


@lru_cache(maxsize=None)
def _fast_check(kind: str) -> Any:
    """A compiled (fastjsonschema) yes/no check, ~20x faster than walking with jsonschema.

    The OB schemas use only keywords draft-07 shares with 2019-09 ($defs are
    reached by JSON pointer), so the draft-07 compiler applies. Formats are
    not asserted, exactly as jsonschema does without a format checker; a
    test keeps the two in agreement. Only a "no" pays for the full listing.
    """
    schema = dict(_validator(kind).schema)
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    return fastjsonschema.compile(schema, formats={name: (lambda _: True) for name in _formats(schema)})


def is_valid(document: dict[str, Any], *, kind: str = "credential") -> bool:
    """True when ``document`` matches the official schema (the fast path of ``validate``)."""
    try:
        _fast_check(kind)(document)
    except fastjsonschema.JsonSchemaException:
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


__all__ = ["Problem", "SCHEMA_FILES", "is_valid", "validate"]
