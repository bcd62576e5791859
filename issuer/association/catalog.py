"""The association's catalog: every division's achievements and pathways, in one place members search.

``build_catalog(association)`` reads the shared database: the achievements and
pathways of the association itself (its association-wide pathways and what
they award) and of each of its divisions. An achievement entry says which
pathways it counts toward: those naming it, and those whose credits
requirement its CEUs match (a division's pathways count only that division's
credentials, the association's count every division's). A pathway entry says
what it requires, with the entries it names.

``CatalogQuery.from_args`` reads the search from query parameters, bounded and
checked (``CATALOG_QUERY_INVALID``, one sentence, never a 500);
``Catalog.search`` applies it. Nothing here writes.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import func, select

from errors import Code, InputError, NotFound
from issuer.association.setup import Association, Division, divisions
from issuer.awarding.pathway_definition import Pathway
from issuer.awarding.pathway_rules import Listing, counts_toward, credit_requirements, describe, earned_achievements
from issuer.store.models import AchievementRow, PathwayRow

KINDS = ("achievement", "pathway")
PAGE_SIZE = 50
# What a query parameter may hold: enough for any real search, small enough that matching stays cheap.
MAX_TEXT = {"q": 200, "type": 100, "tag": 60, "alignment": 200}
MAX_WORDS = 12
MAX_CEUS = 100_000.0
MAX_PAGE = 10_000
PARAMETERS = ("q", "division", "kind", "type", "tag", "alignment", "ceus_min", "ceus_max", "page")
# ASCII digits only: \d would also take "１" or "١", which int() and float() read as 1.
_NUMBER = re.compile(r"^[0-9]{1,6}(?:\.[0-9]{1,3})?$")
_DIGITS = re.compile(r"^[0-9]{1,12}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True, slots=True)
class EntryRef:
    """A link from one entry to another (a pathway it counts toward, a component, what a pathway awards)."""

    kind: str
    division: int
    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing a member can earn: an achievement or a pathway of one division (or of the association)."""

    kind: str
    division: Division
    slug: str
    name: str
    description: str = ""
    achievement_type: str | None = None  # a pathway's: that of the achievement it awards
    ceus: float | None = None  # creditsAvailable; a pathway's: the CEUs its credits requirements ask for
    tags: tuple[str, ...] = ()
    alignments: tuple[Mapping[str, Any], ...] = ()
    criteria: str = ""  # a pathway's: what it requires, in words
    field_of_study: str | None = None
    human_code: str | None = None
    url: str | None = None  # the published OB Achievement (an achievement's id; a pathway's award)
    counts_toward: tuple[EntryRef, ...] = ()  # achievements: the pathways it counts toward
    components: tuple[EntryRef, ...] = ()  # pathways: the achievements it names
    awards: EntryRef | None = None  # pathways: the achievement it awards
    search_text: str = field(default="", repr=False, compare=False)  # folded, for keywords

    @property
    def ref(self) -> EntryRef:
        """The link to this entry."""
        return EntryRef(self.kind, self.division.id, self.slug, self.name)

    def to_dict(self, page: Any) -> dict[str, Any]:
        """The entry in the JSON feed; ``page(ref)`` is the URL of an entry's page."""
        links = lambda refs: [{"kind": r.kind, "name": r.name, "page": page(r)} for r in refs]  # noqa: E731
        data: dict[str, Any] = {
            "kind": self.kind, "page": page(self.ref), "slug": self.slug, "name": self.name,
            "division": {"id": self.division.id, "name": self.division.name, "url": self.division.url},
            "description": self.description, "achievementType": self.achievement_type, "ceus": self.ceus,
            "tags": list(self.tags), "alignment": [dict(a) for a in self.alignments], "criteria": self.criteria,
            "fieldOfStudy": self.field_of_study, "humanCode": self.human_code, "achievement": self.url,
        }
        if self.kind == "achievement":
            data["countsToward"] = links(self.counts_toward)
        else:
            data["components"] = links(self.components)
            data["awards"] = links([self.awards])[0] if self.awards else None
        return data


@dataclass(frozen=True, slots=True)
class CatalogQuery:
    """A search of the catalog; every field optional (nothing given: everything, by name)."""

    q: str = ""
    division: int | None = None
    kind: str | None = None
    type: str | None = None
    tag: str | None = None
    alignment: str | None = None
    ceus_min: float | None = None
    ceus_max: float | None = None
    page: int = 1

    @classmethod
    def from_args(cls, args: Any) -> CatalogQuery:
        """The query in request parameters (a werkzeug ``MultiDict`` or a plain mapping of strings).

        Empty values mean "any" (a form sends every field). CATALOG_QUERY_INVALID
        for a value over its length, a repeated parameter, control characters,
        a CEU bound that is not a number from 0 to 100000, or an unknown kind.
        """
        values: dict[str, str] = {}
        for name in PARAMETERS:
            given = args.getlist(name) if hasattr(args, "getlist") else ([args[name]] if name in args else [])
            if len(given) > 1:
                raise _invalid(f"The parameter {name} is given {len(given)} times: give it once.", name)
            text = given[0].strip() if given else ""
            if len(text) > MAX_TEXT.get(name, 20):
                raise _invalid(f"The parameter {name} is longer than {MAX_TEXT.get(name, 20)} characters: "
                               "shorten it.", name)
            if _CONTROL.search(text):
                raise _invalid(f"The parameter {name} holds control characters: retype it.", name)
            if text:
                values[name] = text
        words = _fold(values.get("q", "")).split()
        if len(words) > MAX_WORDS:
            raise _invalid(f"The search has {len(words)} words: use at most {MAX_WORDS}.", "q")
        kind = values.get("kind")
        if kind is not None and kind not in KINDS:
            raise _invalid(f"kind {kind!r} is not one of {', '.join(KINDS)}.", "kind")
        query = cls(q=values.get("q", ""), division=_whole(values, "division", 1, 10**12),
                    kind=kind, type=values.get("type"), tag=values.get("tag"), alignment=values.get("alignment"),
                    ceus_min=_ceus(values, "ceus_min"), ceus_max=_ceus(values, "ceus_max"),
                    page=_whole(values, "page", 1, MAX_PAGE) or 1)
        if query.ceus_min is not None and query.ceus_max is not None and query.ceus_min > query.ceus_max:
            raise _invalid(f"ceus_min {query.ceus_min:g} is more than ceus_max {query.ceus_max:g}: swap them.",
                           "ceus_min")
        return query

    def to_dict(self) -> dict[str, Any]:
        """The query as given (what the JSON feed echoes and links keep)."""
        return {name: getattr(self, name) for name in PARAMETERS if getattr(self, name) not in (None, "")}

    @property
    def is_filtered(self) -> bool:
        return any(getattr(self, name) not in (None, "") for name in PARAMETERS if name != "page")


@dataclass(frozen=True, slots=True)
class Catalog:
    """Every entry of the association and its divisions, by name."""

    association: Association
    sources: tuple[Division, ...]  # the association first, then its divisions by name
    entries: tuple[Entry, ...]

    @property
    def types(self) -> list[str]:
        """The achievement types in the catalog, for the type filter."""
        return sorted({e.achievement_type for e in self.entries if e.achievement_type})

    @property
    def tags(self) -> list[str]:
        """The tags in the catalog, for the tag filter."""
        return sorted({t for e in self.entries for t in e.tags}, key=str.casefold)

    def search(self, query: CatalogQuery) -> list[Entry]:
        """The entries ``query`` matches: every word of ``q`` somewhere in an entry's text; entries whose
        name holds every word first. CATALOG_QUERY_INVALID for a division that is not in the catalog."""
        if query.division is not None and all(d.id != query.division for d in self.sources):
            raise _invalid(f"There is no division {query.division} in this catalog: pick one from the list.",
                           "division")
        words = _fold(query.q).split()
        kind, tag = query.type and _fold(query.type), query.tag and _fold(query.tag)
        alignment = query.alignment and _fold(query.alignment)
        found = []
        for entry in self.entries:
            if (query.division is not None and entry.division.id != query.division
                    or query.kind is not None and entry.kind != query.kind
                    or kind and _fold(entry.achievement_type or "") != kind
                    or tag and tag not in (_fold(t) for t in entry.tags)
                    or alignment and not any(alignment in _fold(" ".join(str(a.get(k) or "") for k in _ALIGNMENT_TEXT))
                                             for a in entry.alignments)
                    or not _in_range(entry.ceus, query.ceus_min, query.ceus_max)
                    or not all(w in entry.search_text for w in words)):
                continue
            found.append(entry)
        if words:
            found.sort(key=lambda e: not all(w in _fold(e.name) for w in words))  # stable: by name within
        return found

    def entry(self, division: int, kind: str, slug: str) -> Entry:
        """One entry; NotFound (ACHIEVEMENT_NOT_FOUND or PATHWAY_NOT_FOUND) otherwise."""
        for e in self.entries:
            if e.division.id == division and e.kind == kind and e.slug == slug:
                return e
        code = Code.ACHIEVEMENT_NOT_FOUND if kind == "achievement" else Code.PATHWAY_NOT_FOUND
        raise NotFound(code, f"There is no {kind} {slug!r} in this catalog.")


_ALIGNMENT_TEXT = ("targetName", "targetCode", "targetFramework", "targetUrl", "targetDescription")
# (database URL, association id) -> (stamp, catalog): see build_catalog.
_BUILT: dict[tuple[str, int], tuple[tuple[Any, ...], Catalog]] = {}


def build_catalog(association: Association) -> Catalog:
    """The catalog of ``association``: its own and every division's achievements and pathways.

    Served at every request of ``/catalog``, so it is kept per process and built again only when an
    achievement or pathway of the association or a division is added, replaced or removed, or a division
    joins or is renamed (their counts, newest ``updated_at`` and the divisions, read in one query).
    """
    own = Division(id=association.id, did=association.did, name=association.name, url=association.url,
                   email=association.record.email, brand={"name": association.name},
                   profile=association.record.profile)
    sources = (own, *divisions(association))
    ids = [s.id for s in sources]
    key = (str(association.registry.engine.url), association.id)
    with association.registry.session(write=False) as s:
        stamp = (*s.execute(_stamp_query(ids)).one(), tuple((d.id, d.name, d.url) for d in sources))
        cached = _BUILT.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        achievements: dict[tuple[int, str], dict[str, Any]] = {
            (issuer_id, slug): definition.get("ob") or {} for issuer_id, slug, definition in s.execute(
                select(AchievementRow.issuer_id, AchievementRow.slug, AchievementRow.definition)
                .where(AchievementRow.issuer_id.in_(ids)))}
        rows = s.execute(select(PathwayRow.issuer_id, PathwayRow.definition).where(PathwayRow.issuer_id.in_(ids))
                         .order_by(PathwayRow.issuer_id, PathwayRow.slug)).all()
    by_id = {s.id: s for s in sources}
    pathways = [(by_id[issuer_id], Pathway.from_dict(definition)) for issuer_id, definition in rows]
    catalog = _assemble(association, sources, achievements, pathways)
    _BUILT[key] = (stamp, catalog)
    return catalog


def _stamp_query(ids: list[int]) -> Any:
    def newest(model: Any) -> tuple[Any, Any]:
        return (select(func.count(model.id)).where(model.issuer_id.in_(ids)).scalar_subquery(),
                select(func.max(model.updated_at)).where(model.issuer_id.in_(ids)).scalar_subquery())

    return select(*newest(AchievementRow), *newest(PathwayRow))


def _assemble(association: Association, sources: tuple[Division, ...],
              achievements: dict[tuple[int, str], dict[str, Any]],
              pathways: list[tuple[Division, Pathway]]) -> Catalog:
    by_id = {s.id: s for s in sources}
    published = {ob["id"]: key for key, ob in achievements.items() if isinstance(ob.get("id"), str)}

    def resolve(ref: str, home: int) -> tuple[int, str] | None:
        # A division's pathway names its own achievements by id; one of the association's may also name a
        # division's achievement by its published URL.
        if (home, ref) in achievements:
            return home, ref
        return published.get(ref)

    def ref(key: tuple[int, str]) -> EntryRef:
        return EntryRef("achievement", key[0], key[1], achievements[key].get("name") or key[1])

    toward: dict[tuple[int, str], list[EntryRef]] = {key: [] for key in achievements}
    entries = []
    for source, pathway in pathways:
        named = [k for r in sorted(earned_achievements(pathway.requirements)) if (k := resolve(r, source.id))]
        listings = {r: Listing.from_ob(achievements[k]) for r in earned_achievements(pathway.requirements)
                    if (k := resolve(r, source.id))}
        entry = _pathway_entry(source, pathway, achievements.get((source.id, pathway.awards)), listings,
                               [ref(k) for k in named])
        if (source.id, pathway.awards) in achievements:
            entry = replace(entry, awards=ref((source.id, pathway.awards)))
        entries.append(entry)
        everywhere = source.id == association.id  # the association's pathways count every division's CEUs
        for key, ob in achievements.items():
            if key[1] == pathway.awards and key[0] == source.id:
                continue  # what a pathway awards does not count toward it
            if key in named or ((everywhere or key[0] == source.id)
                                and counts_toward(pathway.requirements, "", Listing.from_ob(ob), _credits(ob) or 0)):
                toward[key].append(entry.ref)
    for key, ob in achievements.items():
        entries.append(_achievement_entry(by_id[key[0]], key[1], ob,
                                          tuple(sorted(toward[key], key=lambda r: _fold(r.name)))))
    entries.sort(key=lambda e: (_fold(e.name), _fold(e.division.name), e.kind, e.slug))
    return Catalog(association, sources, tuple(entries))


def _achievement_entry(source: Division, slug: str, ob: Mapping[str, Any], toward: tuple[EntryRef, ...]) -> Entry:
    criteria = ob.get("criteria") if isinstance(ob.get("criteria"), Mapping) else {}
    return _indexed(Entry(
        "achievement", source, slug, str(ob.get("name") or slug), description=str(ob.get("description") or ""),
        achievement_type=ob.get("achievementType"), ceus=_credits(ob), tags=tuple(ob.get("tag") or ()),
        alignments=tuple(a for a in ob.get("alignment") or () if isinstance(a, Mapping)),
        criteria=str(criteria.get("narrative") or ""), field_of_study=ob.get("fieldOfStudy"),
        human_code=ob.get("humanCode"), url=ob.get("id"), counts_toward=toward))


def _pathway_entry(source: Division, pathway: Pathway, awarded: Mapping[str, Any] | None,
                   listings: Mapping[str, Listing], components: list[EntryRef]) -> Entry:
    awarded = awarded or {}
    ceus = sum(node.min for node in credit_requirements(pathway.requirements)) or None
    return _indexed(Entry(
        "pathway", source, pathway.id, pathway.name, description=pathway.description,
        achievement_type=awarded.get("achievementType"), ceus=ceus, tags=tuple(awarded.get("tag") or ()),
        alignments=tuple(a for a in awarded.get("alignment") or () if isinstance(a, Mapping)),
        criteria=describe(pathway.requirements, listings), field_of_study=awarded.get("fieldOfStudy"),
        human_code=awarded.get("humanCode"), url=awarded.get("id"), components=tuple(components)))


def _credits(ob: Mapping[str, Any]) -> float | None:
    value = ob.get("creditsAvailable")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _indexed(entry: Entry) -> Entry:
    """The entry with the folded text the keyword search looks in."""
    parts = [entry.name, entry.description, entry.criteria, entry.division.name, entry.achievement_type or "",
             entry.field_of_study or "", entry.human_code or "", *entry.tags,
             *(str(a.get(k) or "") for a in entry.alignments for k in _ALIGNMENT_TEXT if k != "targetUrl")]
    return replace(entry, search_text=_fold(" ".join(parts)))


def _fold(text: str) -> str:
    """Text as the search compares it: compatibility-normalised, case-folded, accents kept."""
    return unicodedata.normalize("NFKC", text).casefold()


def _in_range(value: float | None, low: float | None, high: float | None) -> bool:
    if low is None and high is None:
        return True
    return value is not None and (low is None or value >= low - 1e-9) and (high is None or value <= high + 1e-9)


def _whole(values: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    text = values.get(name)
    if text is None:
        return None
    if not _DIGITS.match(text) or not low <= int(text) <= high:
        raise _invalid(f"{name} {text!r} is not a whole number from {low} to {high}.", name)
    return int(text)


def _ceus(values: Mapping[str, str], name: str) -> float | None:
    text = values.get(name)
    if text is None:
        return None
    number = float(text) if _NUMBER.match(text) else math.nan
    if not 0 <= number <= MAX_CEUS:
        raise _invalid(f"{name} {text!r} is not a number of CEUs from 0 to {MAX_CEUS:g} (like 1.5).", name)
    return number


def _invalid(message: str, parameter: str) -> InputError:
    return InputError(Code.CATALOG_QUERY_INVALID, message, parameter=parameter)


__all__ = ["KINDS", "PAGE_SIZE", "Catalog", "CatalogQuery", "Entry", "EntryRef", "build_catalog"]
