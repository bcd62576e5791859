"""A pathway's requirement tree and its evaluation against the credentials one person holds (pure).

Four kinds of node: an ``Earn`` (hold a credential of one achievement), ``AllOf``
and ``NOf`` (hold n of the listed requirements), and ``Credits`` (a sum of
``creditsEarned``, optionally only of achievements with some tag or field of
study). ``AllOf``, ``NOf`` and ``Credits`` may carry ``within`` ("2y"): the
credentials they use must all have been awarded inside one window that long.

``evaluate`` answers both questions the system asks: is the pathway complete
(and with which credentials, completed on which date), and for the learner,
what is done and what is left. It is deterministic for a given set of
credentials, which the once-only award relies on.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Mapping, Sequence, Union

from issuer.badge.achievement import add_duration, subtract_duration


@dataclass(frozen=True, slots=True)
class Held:
    """A credential as pathways see it (the registry row without the signed text)."""

    id: str
    achievement: str
    issued_on: date
    credits: float
    valid_until: datetime | None = None
    status: str = "active"
    recipient_name: str | None = None
    recipient_did: str | None = None
    organization: str | None = None


@dataclass(frozen=True, slots=True)
class Listing:
    """What evaluation needs to know about an achievement: its name and what credits filters match."""

    name: str
    tags: tuple[str, ...] = ()
    field_of_study: str | None = None
    url: str | None = None

    @classmethod
    def from_ob(cls, ob: Mapping[str, Any]) -> Listing:
        """From a stored OB Achievement dict."""
        return cls(ob.get("name", ""), tuple(ob.get("tag") or ()), ob.get("fieldOfStudy"), ob.get("id"))


Catalog = Mapping[str, Listing]


@dataclass(frozen=True, slots=True)
class Earn:
    """Hold a credential of ``achievement``."""

    achievement: str


@dataclass(frozen=True, slots=True)
class AllOf:
    """Every item; all inside one ``within`` window when given."""

    items: tuple[Requirement, ...]
    within: str | None = None


@dataclass(frozen=True, slots=True)
class NOf:
    """At least ``n`` of the items."""

    n: int
    items: tuple[Requirement, ...]
    within: str | None = None


@dataclass(frozen=True, slots=True)
class Credits:
    """At least ``min`` credits earned, from achievements with one of ``tags`` / this field of study."""

    min: float
    tags: tuple[str, ...] = ()
    field_of_study: str | None = None
    within: str | None = None


Requirement = Union[Earn, AllOf, NOf, Credits]


def requirement_to_dict(node: Requirement) -> dict[str, Any]:
    """The JSON form stored in the registry (and shown by ``pathway show --json``)."""
    if isinstance(node, Earn):
        return {"kind": "achievement", "achievement": node.achievement}
    if isinstance(node, Credits):
        return {"kind": "credits", "min": node.min, "tags": list(node.tags),
                "field_of_study": node.field_of_study, "within": node.within}
    data: dict[str, Any] = {"kind": "all" if isinstance(node, AllOf) else "n_of",
                            "items": [requirement_to_dict(i) for i in node.items], "within": node.within}
    if isinstance(node, NOf):
        data["n"] = node.n
    return data


def requirement_from_dict(data: Mapping[str, Any]) -> Requirement:
    """Inverse of ``requirement_to_dict``."""
    kind = data["kind"]
    if kind == "achievement":
        return Earn(data["achievement"])
    if kind == "credits":
        return Credits(float(data["min"]), tuple(data.get("tags") or ()), data.get("field_of_study"),
                       data.get("within"))
    items = tuple(requirement_from_dict(i) for i in data["items"])
    return AllOf(items, data.get("within")) if kind == "all" else NOf(int(data["n"]), items, data.get("within"))


@lru_cache(maxsize=1024)  # nodes are frozen and hashable; evaluation asks again and again
def earned_achievements(node: Requirement) -> frozenset[str]:
    """Every achievement named by an ``Earn`` in the tree (for cycles and relevance)."""
    if isinstance(node, Earn):
        return frozenset({node.achievement})
    if isinstance(node, Credits):
        return frozenset()
    return frozenset().union(*(earned_achievements(i) for i in node.items))


# -- evaluation -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """One node evaluated: met or not, the credentials it used, and how far along it is.

    ``done``/``needed`` count requirements (``all``, ``n_of``, ``achievement``)
    or credits (``credits``). ``used`` are the credentials that satisfy the
    node (or count toward it when unmet); ``completed_on`` is the day the node
    was first met, None when unmet.
    """

    node: Requirement
    met: bool
    done: float
    needed: float
    used: tuple[Held, ...]
    completed_on: date | None
    children: tuple[Outcome, ...] = ()


def evaluate(node: Requirement, held: Iterable[Held], catalog: Catalog, *, today: date) -> Outcome:
    """Evaluate ``node`` against the active credentials in ``held`` (revoked and suspended ones never count).

    Expired credentials do count: the achievement happened; ``within`` is how
    a pathway asks for recent work.
    """
    active = sorted((h for h in held if h.status == "active"), key=lambda h: (h.issued_on, h.id))
    return _evaluate(node, _relevant(node, tuple(active), catalog), catalog, today)


def _relevant(node: Requirement, held: tuple[Held, ...], catalog: Catalog) -> tuple[Held, ...]:
    """The credentials that can count toward ``node`` at all (fewer windows to try, less to evaluate)."""
    return tuple(h for h in held if counts_toward(node, h.achievement, catalog.get(h.achievement), h.credits))


def counts_toward(node: Requirement, achievement: str, listing: Listing | None, credits: float) -> bool:
    """Whether a credential of ``achievement`` carrying ``credits`` CEUs can count toward ``node`` at all:
    the tree names it, or its credits match one of the tree's credits requirements."""
    return achievement in earned_achievements(node) or (
        credits > 0 and any(credits_match(c, listing) for c in credit_requirements(node)))


@lru_cache(maxsize=1024)
def credit_requirements(node: Requirement) -> tuple[Credits, ...]:
    """Every ``Credits`` node in the tree."""
    if isinstance(node, Credits):
        return (node,)
    if isinstance(node, Earn):
        return ()
    return tuple(c for item in node.items for c in credit_requirements(item))


def _evaluate(node: Requirement, held: tuple[Held, ...], catalog: Catalog, today: date) -> Outcome:
    within = getattr(node, "within", None)
    if not within:
        return _plain(node, held, catalog, today)
    held = _relevant(node, held, catalog)
    # The earliest credential of a satisfying set starts some window: try each
    # distinct award date as the start and keep the earliest completion.
    best: Outcome | None = None
    for start in sorted({h.issued_on for h in held}):
        end = add_duration(start, within)
        outcome = _plain(node, tuple(h for h in held if start <= h.issued_on <= end), catalog, today)
        if outcome.met and (best is None or outcome.completed_on < best.completed_on):
            best = outcome
    if best is not None:
        return best
    # Not met: show progress in the window that ends today, the one the learner can still complete:
    # from the earliest start whose window (as above) still reaches today. That is today minus
    # ``within`` on the calendar, or the day after when the day was clamped (today Mar 31, "1m":
    # Feb 28's window ends Mar 28, so the window starts Mar 1). Starting any earlier could
    # report a set that no window holds as met.
    start = subtract_duration(today, within)
    if add_duration(start, within) < today:
        start += timedelta(days=1)
    return _plain(node, tuple(h for h in held if h.issued_on >= start), catalog, today)


def _plain(node: Requirement, held: tuple[Held, ...], catalog: Catalog, today: date) -> Outcome:
    if isinstance(node, Earn):
        mine = [h for h in held if h.achievement == node.achievement]
        first = mine[0] if mine else None  # held is in award order: the day it was first earned
        return Outcome(node, first is not None, 1.0 if first else 0.0, 1.0, (first,) if first else (),
                       first.issued_on if first else None)
    if isinstance(node, Credits):
        return _credits(node, held, catalog)
    children = tuple(_evaluate(item, held, catalog, today) for item in node.items)
    met_children = sorted((c for c in children if c.met), key=lambda c: c.completed_on)
    needed = len(children) if isinstance(node, AllOf) else node.n
    chosen = met_children[:needed]
    met = len(met_children) >= needed
    counted = chosen if met else [c for c in children if c.used]
    used = tuple({h.id: h for c in counted for h in c.used}.values())
    completed = max(c.completed_on for c in chosen) if met and chosen else None
    return Outcome(node, met, float(min(len(met_children), needed)), float(needed), used, completed, children)


def _credits(node: Credits, held: tuple[Held, ...], catalog: Catalog) -> Outcome:
    matching = [h for h in held if h.credits > 0 and credits_match(node, catalog.get(h.achievement))]
    total, used, completed = 0.0, [], None
    for h in matching:  # award order: the day the running sum reaches the minimum completes it
        total += h.credits
        used.append(h)
        if completed is None and total >= node.min - 1e-9:
            completed = h.issued_on
    met = completed is not None
    if met:
        # Only what was needed is "used" for the award's evidence; progress still reports the full sum.
        running, needed_used = 0.0, []
        for h in used:
            running += h.credits
            needed_used.append(h)
            if running >= node.min - 1e-9:
                break
        used = needed_used
    return Outcome(node, met, round(total, 3), node.min, tuple(used), completed)


def credits_match(node: Credits, listing: Listing | None) -> bool:
    """Whether credits of an achievement count toward ``node`` (no filter: every achievement)."""
    if listing is None:
        return not node.tags and not node.field_of_study
    if node.tags and not set(node.tags) & set(listing.tags):
        return False
    if node.field_of_study and (listing.field_of_study or "").casefold() != node.field_of_study.casefold():
        return False
    return True


# -- describing requirements to people ------------------------------------------------------------


def describe(node: Requirement, catalog: Catalog) -> str:
    """One line saying what ``node`` asks for, in the words a learner reads."""
    suffix = f" within {_duration_words(node.within)}" if getattr(node, "within", None) else ""
    if isinstance(node, Earn):
        return _name(node.achievement, catalog)
    if isinstance(node, Credits):
        return f"{node.min:g} CEUs{_credit_filter(node)}{suffix}"
    names = ", ".join(describe(i, catalog) for i in node.items)
    if isinstance(node, AllOf):
        return f"all of: {names}{suffix}"
    return f"{node.n} of: {names}{suffix}"


def remaining(outcome: Outcome, catalog: Catalog) -> list[str]:
    """What is left to do, one sentence each (empty when met)."""
    node = outcome.node
    if outcome.met:
        return []
    if isinstance(node, Earn):
        return [_name(node.achievement, catalog)]
    if isinstance(node, Credits):
        where = f"{_credit_filter(node)}" + (f" (earned within {_duration_words(node.within)})" if node.within else "")
        left = round(node.min - outcome.done, 3)
        return [f"{left:g} more CEU{'' if left == 1 else 's'}{where}"]
    if isinstance(node, AllOf):
        return [line for child in outcome.children for line in remaining(child, catalog)]
    missing = int(node.n - outcome.done)
    options = [describe(c.node, catalog) for c in outcome.children if not c.met]
    return [f"{missing} more of: {', '.join(options)}"]


def credits_counted(outcome: Outcome) -> tuple[float, float]:
    """(CEUs counted, CEUs required) over every credits requirement in the tree."""
    if isinstance(outcome.node, Credits):
        return outcome.done, outcome.node.min
    pairs = [credits_counted(c) for c in outcome.children]
    return sum(p[0] for p in pairs), sum(p[1] for p in pairs)


def _name(slug: str, catalog: Catalog) -> str:
    listing = catalog.get(slug)
    return listing.name if listing and listing.name else slug


def _credit_filter(node: Credits) -> str:
    if node.tags:
        return " tagged " + " or ".join(node.tags)
    if node.field_of_study:
        return f" in {node.field_of_study}"
    return ""


def _duration_words(text: str) -> str:
    count, unit = int(text[:-1]), text[-1]
    word = {"y": "year", "m": "month", "w": "week", "d": "day"}[unit]
    return f"{count} {word}{'' if count == 1 else 's'}"


def outcome_credentials(outcome: Outcome) -> Sequence[Held]:
    """The credentials a met pathway was completed with, in award order (the award's evidence)."""
    return sorted(outcome.used, key=lambda h: (h.issued_on, h.id))


__all__ = ["AllOf", "Catalog", "Credits", "Earn", "Held", "Listing", "NOf", "Outcome", "Requirement",
           "counts_toward", "credit_requirements", "credits_counted", "credits_match", "describe",
           "earned_achievements", "evaluate", "outcome_credentials", "remaining", "requirement_from_dict",
           "requirement_to_dict"]
