"""Pathway definitions: the ``Pathway`` value, reading it from TOML, and the Achievement it publishes.

A pathway file names the achievement it awards and a small requirement tree
(see ``templates/pathways/youth-services.toml``)::

    id = "youth-services"
    name = "Youth Services Certificate"
    awards = "youth-services-certificate"
    [requirements]
    all = ["inclusive-teen-programming", "storytime-design", "family-engagement"]
    credits = { min = 10, tags = ["youth-services"], within = "2y" }

Items of ``all`` and ``n_of.of`` are achievement ids or nested tables with the
same keys as ``[requirements]`` (``all``, ``n_of``, ``credits``, ``within``).
Mistakes are reported with the file, line and field, like achievement files.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from errors import Code, InputError
from issuer.awarding.pathway_rules import (AllOf, Credits, Earn, Listing, NOf, Requirement, describe,
                                  earned_achievements, requirement_from_dict, requirement_to_dict)
from issuer.badge.achievement import TomlSource, read_duration

Where = tuple[str | int, ...]

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TOP_KEYS = ("id", "name", "description", "awards", "requirements")
_TABLE_KEYS = ("all", "n_of", "credits", "within")
_N_OF_KEYS = ("n", "of", "within")
_CREDITS_KEYS = ("min", "tags", "field_of_study", "within")
_MAX_ITEMS, _MAX_DEPTH = 100, 5


@dataclass(frozen=True, slots=True)
class Pathway:
    """A stackable credential: holding what ``requirements`` asks for earns the achievement ``awards``."""

    id: str
    name: str
    awards: str
    requirements: Requirement
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The stored (and ``--json``) form."""
        return {"id": self.id, "name": self.name, "description": self.description, "awards": self.awards,
                "requirements": requirement_to_dict(self.requirements)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Pathway:
        """Inverse of ``to_dict``."""
        return cls(data["id"], data["name"], data["awards"], requirement_from_dict(data["requirements"]),
                   data.get("description", ""))


# -- reading a pathway file -----------------------------------------------------------------------


def load_pathway(path: str | Path, *, achievements: Mapping[str, Any],
                 pathways: Mapping[str, Pathway]) -> Pathway:
    """Read and check a pathway TOML against the instance's ``achievements`` (by slug) and other ``pathways``.

    Raises ``InputError`` with ``PATHWAY_INVALID`` (or ``TOML_MALFORMED``)
    naming the line and field: unknown keys or achievements, a cycle through
    other pathways, a zero or negative amount, an unreadable duration.
    """
    src = TomlSource.read(Path(path), code=Code.PATHWAY_INVALID)
    data = src.data
    src.check_keys((), data, _TOP_KEYS)
    for key in ("id", "name", "awards", "requirements"):
        if key not in data:
            raise src.error((), f"{key!r} is required but missing (needed: id, name, awards, requirements).")
    texts = {key: _text(src, data, key) for key in ("id", "name", "awards")}
    description = _text(src, data, "description", required=False) or ""
    if not _ID.match(texts["id"]):
        raise src.error(("id",), f"id {texts['id']!r} must be lowercase letters, digits and hyphens, "
                        "like \"youth-services\".")
    references: list[tuple[str, Where]] = [(texts["awards"], ("awards",))]
    if not isinstance(data["requirements"], dict):
        raise src.error(("requirements",), "requirements must be a [requirements] table.")
    requirements = _table(src, data["requirements"], ("requirements",), references, depth=0)
    for slug, where in references:
        if slug not in achievements:
            raise _value_error(src, where, slug, _unknown_achievement(slug, achievements))
    pathway = Pathway(texts["id"], texts["name"], texts["awards"], requirements, description)
    _check_cycles(src, pathway, pathways, references[1:])
    return pathway


def _unknown_achievement(slug: str, achievements: Mapping[str, Any]) -> str:
    """Why ``slug`` is refused, with the closest known id and what to do about it."""
    if "://" in slug:
        # An association pathway names a division's achievement by its URL: adding a file here would put it
        # in the association, not the division, so point at the division's URLs instead.
        close = difflib.get_close_matches(slug, [k for k in achievements if "://" in k], n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return (f"unknown achievement {slug!r}{hint}: no division publishes an achievement at that URL. A division "
                "achievement's URL is the division's base URL + /achievements/ + its id: "
                "`badgesmith --home DIVISION-FOLDER achievement list` shows the ids.")
    close = difflib.get_close_matches(slug, list(achievements), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown achievement {slug!r}{hint}: add it first with `badgesmith achievement add FILE.toml`."


def _text(src: TomlSource, table: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = table.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 4000:
        raise src.error((key,), f"{key} must be non-empty text in quotes (at most 4000 characters).")
    return value.strip()


def _table(src: TomlSource, table: dict[str, Any], where: Where, refs: list, *, depth: int) -> Requirement:
    if depth > _MAX_DEPTH:
        raise src.error(where, f"requirements nest deeper than {_MAX_DEPTH} levels.")
    src.check_keys(where, table, _TABLE_KEYS)
    if not any(key in table for key in ("all", "n_of", "credits")):
        raise src.error(where, "a requirement needs at least one of all, n_of or credits.")
    parts: list[Requirement] = []
    if "all" in table:
        parts.extend(_items(src, table["all"], where + ("all",), refs, depth))
    if "n_of" in table:
        parts.append(_n_of(src, table["n_of"], where + ("n_of",), refs, depth))
    if "credits" in table:
        parts.append(_credits(src, table["credits"], where + ("credits",)))
    within = read_duration(src, table.get("within"), where + ("within",))
    if len(parts) == 1 and within is None:
        return parts[0]
    return AllOf(tuple(parts), within)


def _items(src: TomlSource, value: Any, where: Where, refs: list, depth: int) -> list[Requirement]:
    if not isinstance(value, list) or not value or len(value) > _MAX_ITEMS:
        raise src.error(where, f"{where[-1]} must be a list of 1 to {_MAX_ITEMS} achievement ids or tables.")
    items: list[Requirement] = []
    for index, item in enumerate(value):
        if isinstance(item, str) and item.strip():
            refs.append((item.strip(), where + (index,)))
            items.append(Earn(item.strip()))
        elif isinstance(item, dict):
            items.append(_table(src, item, where + (index,), refs, depth=depth + 1))
        else:
            raise src.error(where + (index,), f"item {index + 1} of {where[-1]} must be an achievement id "
                            "in quotes or a table like { credits = { min = 3 } }.")
    return items


def _n_of(src: TomlSource, value: Any, where: Where, refs: list, depth: int) -> NOf:
    if not isinstance(value, dict):
        raise src.error(where, "n_of must be a table like { n = 2, of = [\"a\", \"b\", \"c\"] }.")
    src.check_keys(where, value, _N_OF_KEYS)
    if "n" not in value or "of" not in value:
        raise src.error(where, "n_of needs both n and of.")
    items = _items(src, value["of"], where + ("of",), refs, depth)
    n = value["n"]
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise src.error(where + ("n",), f"n must be a whole number of 1 or more, not {n!r}.")
    if n > len(items):
        raise src.error(where + ("n",), f"n = {n} asks for more than the {len(items)} listed in of.")
    return NOf(n, tuple(items), read_duration(src, value.get("within"), where + ("within",)))


def _credits(src: TomlSource, value: Any, where: Where) -> Credits:
    if not isinstance(value, dict):
        raise src.error(where, "credits must be a table like { min = 10, tags = [\"youth-services\"] }.")
    src.check_keys(where, value, _CREDITS_KEYS)
    if "min" not in value:
        raise src.error(where, "credits needs min (the CEUs to earn).")
    amount = value["min"]
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not math.isfinite(amount) or amount <= 0:
        raise src.error(where + ("min",), f"min must be a number of CEUs above 0, not {amount!r}.")
    if "tags" in value and "field_of_study" in value:
        raise src.error(where, "credits takes tags or field_of_study, not both.")
    tags = value.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags) or len(tags) > 50:
        raise src.error(where + ("tags",), "tags must be a list of texts, like [\"youth-services\"].")
    field = value.get("field_of_study")
    if field is not None and (not isinstance(field, str) or not field.strip()):
        raise src.error(where + ("field_of_study",), "field_of_study must be non-empty text in quotes.")
    return Credits(float(amount), tuple(t.strip() for t in tags), field.strip() if field else None,
                   read_duration(src, value.get("within"), where + ("within",)))


def _value_error(src: TomlSource, where: Where, value: str, message: str) -> InputError:
    """Like ``src.error`` but on the line holding ``value`` itself (arrays often span lines)."""
    error = src.error(where, message)
    start = src.line_of(where) or 1
    lines = src.text.splitlines()
    for number in range(start, len(lines) + 1):
        if f'"{value}"' in lines[number - 1] or f"'{value}'" in lines[number - 1]:
            prefix = f"{src.path.name}, line {number}"
            return InputError(Code.PATHWAY_INVALID, f"{prefix}: {message}", **{**error.details, "line": number})
    return error  # type: ignore[return-value]


def _check_cycles(src: TomlSource, pathway: Pathway, others: Mapping[str, Pathway],
                  refs: list[tuple[str, Where]]) -> None:
    """Refuse a pathway that (through other pathways' awards) requires its own award."""
    graph = {p.id: p for p in others.values() if p.id != pathway.id}
    graph[pathway.id] = pathway
    awarded_by: dict[str, list[str]] = {}
    for p in graph.values():
        awarded_by.setdefault(p.awards, []).append(p.id)

    def path_back(start: str, seen: tuple[str, ...]) -> tuple[str, ...] | None:
        # Pathways reachable from ``start`` by "requires an achievement that pathway X awards".
        for achievement in sorted(earned_achievements(graph[start].requirements)):
            for nxt in awarded_by.get(achievement, ()):
                if nxt == pathway.id:
                    return seen + (nxt,)
                if nxt not in seen:
                    found = path_back(nxt, seen + (nxt,))
                    if found:
                        return found
        return None

    for slug, where in refs:
        for first in awarded_by.get(slug, ()):
            chain = (pathway.id,) if first == pathway.id else path_back(first, (first,))
            if chain is not None:
                route = " → ".join((pathway.id, *chain)) if first != pathway.id else pathway.id
                what = ("which this pathway itself awards" if first == pathway.id
                        else f"which pathway {first!r} awards, and that makes a cycle: {route}")
                raise _value_error(src, where, slug, f"requires {slug!r}, {what}. A pathway cannot "
                                   "require its own award.")


# -- the published Achievement --------------------------------------------------------------------


def compose_achievement(definition: dict[str, Any], pathways: list[Pathway],
                        catalog: Mapping[str, Listing]) -> dict[str, Any]:
    """The stored achievement ``definition`` of a pathway's award, stating what it is made of.

    OB 3.0 has no "requires" relation on an Achievement (§B.1.1), and
    ``related`` (§B.1.15 Related) is meant for other languages or versions
    of the same achievement. So the composition is said twice, in the data
    model's own terms: in the Criteria narrative (§B.1.6: "what is required
    of them to be recognized"), which every displayer shows, and as one
    Alignment (§B.1.5) per component achievement, with ``targetType``
    ``ceterms:Credential`` and ``targetUrl`` the component's published
    Achievement, which machines can follow. The issuer's own criteria text
    and alignments are kept (under ``pathway_base``) so this is idempotent.
    """
    ob = dict(definition["ob"])
    base = definition.get("pathway_base") or {"criteria": ob.get("criteria") or {},
                                              "alignment": ob.get("alignment") or []}
    own = base["criteria"].get("narrative", "").strip()
    routes = [f"**{p.name}**: {describe(p.requirements, catalog)}." for p in sorted(pathways, key=lambda p: p.id)]
    if len(routes) == 1:
        narrative = f"Awarded on completing the pathway {routes[0]}"
    else:
        narrative = "Awarded on completing any of these pathways:\n\n" + "\n".join(f"- {r}" for r in routes)
    criteria = {**base["criteria"], "narrative": f"{own}\n\n{narrative}" if own else narrative}
    components = sorted({slug for p in pathways for slug in earned_achievements(p.requirements)})
    alignment = list(base["alignment"])
    for slug in components:
        listing = catalog.get(slug)
        if listing is None or not listing.url or any(a.get("targetUrl") == listing.url for a in alignment):
            continue
        alignment.append({"type": ["Alignment"], "targetName": listing.name, "targetUrl": listing.url,
                          "targetType": "ceterms:Credential", "targetCode": slug,
                          "targetFramework": ", ".join(p.name for p in pathways)})
    ob["criteria"] = criteria
    if alignment:
        ob["alignment"] = alignment
    return {**definition, "ob": ob, "pathway_base": base, "pathways": [p.id for p in pathways]}


__all__ = ["Pathway", "compose_achievement", "load_pathway"]
