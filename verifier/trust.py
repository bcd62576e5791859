"""The verifier's list of known issuers: issuer id → the name the verifier knows it by.

Two file formats, chosen by suffix (``.toml`` / ``.json``; otherwise by the
first character)::

    # known-issuers.toml
    [issuers]
    "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK" = "Lakeshore Library Association"

    [[issuer]]
    id = "https://badges.example.org/issuers/ce-office"
    name = "Example Association — Continuing Education"

    // known-issuers.json: {"issuers": {id: name}}, or a list of {"id", "name"}
    {"issuers": {"did:web:badges.example.org": "Example Association"}}

    // registry.json as the Digital Credentials Consortium publishes it (its wallet and verifier read it)
    {"meta": {"updated": "..."}, "registry": {"did:key:z6Mk...": {"name": "...", "url": "...", "location": "..."}}}

Ids match exactly: no case folding, no trailing-slash or fragment games, and
a ``did:web:host`` is *not* the same issuer as ``https://host/`` (list both if
the issuer uses both).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from errors import Code, ConfigError
from keys.json_text import refuse_lone_surrogates
from verifier import safe_toml

__all__ = ["TrustList", "load_trust_list"]

_MAX_BYTES = 1_000_000
_JSON_START = re.compile(r"\s*(\{|\[\s*[{\]])")
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")


@dataclass(frozen=True, slots=True, eq=False)
class TrustList(Mapping[str, str]):
    """Known issuers: a read-only mapping of issuer id (DID or URL) → display name.

    Compares equal to any mapping with the same items; ``lookup`` and
    ``get`` match ids exactly.
    """

    issuers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A private copy behind a read-only view: the caller's dict may change, the list may not.
        object.__setattr__(self, "issuers", MappingProxyType(dict(self.issuers)))

    def lookup(self, issuer_id: str) -> str | None:
        """The display name of ``issuer_id``, or None if it is not a known issuer (exact match)."""
        return self.issuers.get(issuer_id)

    def __getitem__(self, issuer_id: str) -> str:
        return self.issuers[issuer_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.issuers)

    def __len__(self) -> int:
        return len(self.issuers)

    def __repr__(self) -> str:
        return f"TrustList({len(self.issuers)} issuers)"


def load_trust_list(path: Path | str, *, max_bytes: int = _MAX_BYTES) -> TrustList:
    """Read a TOML or JSON known-issuers file (formats in the module docstring).

    Raises ``ConfigError`` with ``TOML_MALFORMED`` / ``JSON_MALFORMED`` for a
    file that does not parse and ``CONFIG_INVALID`` for one of the wrong
    shape, naming the line where it can; ``InputTooLarge`` over ``max_bytes``.
    """
    path = Path(path)
    try:
        raw = safe_toml.read_limited(path, max_bytes, label=f"The trust list {path}")
    except OSError as exc:
        raise ConfigError(Code.CONFIG_INVALID, f"The trust list {path} cannot be read "
                          f"({exc.strerror or exc}).", path=str(path)) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(Code.CONFIG_INVALID, f"The trust list {path} is not UTF-8 text.", path=str(path)) from exc
    suffix = path.suffix.lower()
    # Without a telling suffix: "{" or "[{" / "[]" is JSON; "[issuers]" and "[[issuer]]" are TOML.
    is_json = suffix == ".json" or (suffix != ".toml" and _JSON_START.match(text) is not None)
    data = _parse_json(path, text) if is_json else _parse_toml(path, text)
    return TrustList(_entries(path, text, data))


def _parse_toml(path: Path, text: str) -> Any:
    try:
        return safe_toml.loads(text)
    except safe_toml.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        line = int(match.group(1)) if match else None
        reason = _TOML_LINE.sub("", str(exc)).strip()
        where = f" at line {line}" if line else ""
        raise ConfigError(Code.TOML_MALFORMED, f"The trust list {path} is not valid TOML{where}: {reason}.",
                          path=str(path), line=line) from exc


def _parse_json(path: Path, text: str) -> Any:
    try:
        value = json.loads(text)
        refuse_lone_surrogates(text, value, what=f"The trust list {path}")
        return value
    except RecursionError:
        raise ConfigError(Code.JSON_MALFORMED, f"The trust list {path} is nested too deeply to be a trust list.",
                          path=str(path)) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(Code.JSON_MALFORMED, f"The trust list {path} is not valid JSON at line {exc.lineno}: "
                          f"{exc.msg}.", path=str(path), line=exc.lineno) from exc


def _entries(path: Path, text: str, data: Any) -> dict[str, str]:
    """Validate the parsed file into id → name; errors point at the line holding the culprit."""
    def invalid(problem: str, needle: str | None = None) -> ConfigError:
        line = _line_of(text, needle)
        where = f" (line {line})" if line else ""
        return ConfigError(Code.CONFIG_INVALID, f"The trust list {path}{where} {problem}.", path=str(path), line=line)

    if isinstance(data, list):
        data = {"issuer": data}
    if isinstance(data, dict) and "registry" in data:
        data = _from_dcc_registry(data, invalid)
    if not isinstance(data, dict):
        raise invalid('must hold an "issuers" table or a list of issuers with "id" and "name"')
    unknown = sorted(set(data) - {"issuers", "issuer"})
    if unknown:
        raise invalid(f'has an unknown key "{unknown[0]}"; use [issuers] or [[issuer]]', unknown[0])

    pairs: list[tuple[Any, Any, str | None]] = []  # (id, name, text to find the line by)
    table, listed = data.get("issuers", {}), data.get("issuer", [])
    if isinstance(listed, dict):
        raise invalid("writes [issuer] where [[issuer]] (double brackets) is meant", "[issuer]")
    if not isinstance(listed, list):
        raise invalid('has "issuer" that is not a list of issuers', "issuer")
    if isinstance(table, list):  # {"issuers": [{id, name}, ...]} reads naturally in JSON
        table, listed = {}, [*table, *listed]
    if not isinstance(table, dict):
        raise invalid('has "issuers" that is neither a table of id = name nor a list', "issuers")
    pairs += [(key, value, key) for key, value in table.items()]
    for number, item in enumerate(listed, start=1):
        if not isinstance(item, dict) or set(item) - {"id", "name"}:
            found = sorted(item) if isinstance(item, dict) else type(item).__name__
            raise invalid(f'has issuer entry {number} that is not {{id, name}} (found {found})',
                          item.get("id") if isinstance(item, dict) else None)
        pairs.append((item.get("id"), item.get("name"), item.get("id") if isinstance(item.get("id"), str) else None))

    issuers: dict[str, str] = {}
    for issuer_id, name, needle in pairs:
        if not isinstance(issuer_id, str) or ":" not in issuer_id or issuer_id != issuer_id.strip() \
                or any(c.isspace() for c in issuer_id):
            # A missing scheme usually means id and name were swapped.
            raise invalid(f"has an issuer id {issuer_id!r} that is not a DID or URL", needle)
        if not isinstance(name, str) or not name.strip():
            raise invalid(f"gives no display name for {issuer_id}", needle)
        if issuers.get(issuer_id, name.strip()) != name.strip():
            raise invalid(f"lists {issuer_id} twice with different names", needle)
        issuers[issuer_id] = name.strip()
    return issuers


def _from_dcc_registry(data: dict[str, Any], invalid: Any) -> dict[str, Any]:
    """The Digital Credentials Consortium's known-issuer registry (the "dcc-legacy" format its wallet
    and verifier read): ``{"meta": {...}, "registry": {DID: {"name", "url", "location"}}}``.
    A DID whose entry is null is not listed."""
    unknown = sorted(set(data) - {"meta", "registry"})
    if unknown:
        raise invalid(f'has an unknown key "{unknown[0]}" beside "registry"', unknown[0])
    registry = data["registry"]
    if not isinstance(registry, dict):
        raise invalid('has "registry" that is not an object of DID: {"name": ...}', "registry")
    issuers = {}
    for issuer_id, entry in registry.items():
        if entry is None:
            continue
        if not isinstance(entry, dict):
            raise invalid(f"has a registry entry for {issuer_id} that is not an object with a name", issuer_id)
        issuers[issuer_id] = entry.get("name")
    return {"issuers": issuers}


def _line_of(text: str, needle: str | None) -> int | None:
    """First line (1-based) containing ``needle``; None if absent. Parsers give no positions for values."""
    if not needle:
        return None
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return None
