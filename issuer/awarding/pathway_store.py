"""Registry queries for pathways and pathway awards (kept apart from ``issuer/store/registry.py``).

``PathwayStore(registry)`` works on the registry's engine and sessions, so its
failures come out as the registry's (``DATABASE_ERROR``). A pathway award is
claimed by inserting its row before the award credential is signed; the
unique (issuer, learner, pathway) key lets exactly one claim win, on SQLite
and on PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from types import MappingProxyType

from sqlalchemy import bindparam, func, literal_column, select, update

from issuer.awarding.pathway_definition import Pathway
from issuer.awarding.pathway_rules import Held, Listing
from issuer.store.models import (AchievementRow, CredentialRow, PathwayAwardRecord, PathwayAwardRow, PathwayRecord,
                           PathwayRow, utcnow)
# The registry's insert-or-ignore (ON CONFLICT DO NOTHING) and definition upsert: one implementation each.
from issuer.store.registry import Registry, _insert_ignore, put_definition

_HELD_COLUMNS = (CredentialRow.id, CredentialRow.achievement, CredentialRow.issued_on, CredentialRow.credits,
                 CredentialRow.valid_until, CredentialRow.status, CredentialRow.recipient_name,
                 CredentialRow.recipient_did, CredentialRow.organization)
_AWARD_COLUMNS = (PathwayAwardRow.pathway, PathwayAwardRow.lookup_key, PathwayAwardRow.credential_id,
                  PathwayAwardRow.awarded_on, PathwayAwardRow.components, PathwayAwardRow.awarded_at)
_KEYS_PER_QUERY = 500  # bound the IN (...) list when reading many learners at once
# Built once: evaluation runs after every issue, and building a statement costs more than running it.


def _newest(model: Any, column: Any) -> Any:
    return select(column).where(model.issuer_id == bindparam("issuer_id")).scalar_subquery()


# What changes when an achievement or pathway is added, removed or updated (see _definitions).
_STAMP = (_newest(AchievementRow, func.count(AchievementRow.id)),
          _newest(AchievementRow, func.max(AchievementRow.updated_at)),
          _newest(PathwayRow, func.count(PathwayRow.id)), _newest(PathwayRow, func.max(PathwayRow.updated_at)))
_DEFINITIONS_STAMP = select(*_STAMP)
# The pathways already awarded to the person (credential issued; pending claims are not in it), as one
# comma-separated string (group_concat / string_agg): pathway ids are lowercase letters, digits and hyphens.
# The separator is written into the SQL: given as a str it is a literal rendered at every execution.
_AWARDED = (select(func.aggregate_strings(PathwayAwardRow.pathway, literal_column("','")))
            .where(PathwayAwardRow.issuer_id == bindparam("issuer_id"),
                   PathwayAwardRow.lookup_key == bindparam("lookup_key"), PathwayAwardRow.credential_id.is_not(None))
            .scalar_subquery())
# The stamp and the awarded pathways ride along with the person's credentials: one round trip on every
# evaluation, and none more when what is complete was awarded before.
_LEARNER_CREDENTIALS = select(*_HELD_COLUMNS, *_STAMP, _AWARDED).where(
    CredentialRow.issuer_id == bindparam("issuer_id"), CredentialRow.lookup_key == bindparam("lookup_key"))
_LEARNER_AWARDS = select(*_AWARD_COLUMNS).where(PathwayAwardRow.issuer_id == bindparam("issuer_id"),
                                                PathwayAwardRow.lookup_key == bindparam("lookup_key"))
# (database URL, issuer id) -> (stamp, parsed pathways, achievement catalog); see PathwayStore._definitions.
_DEFINITIONS: dict[tuple[str, int], tuple[tuple[Any, ...], tuple[Pathway, ...], Mapping[str, Listing]]] = {}


@dataclass(frozen=True, slots=True)
class LearnerRecords:
    """Everything pathway evaluation needs for one person, read in one transaction."""

    held: tuple[Held, ...]
    awards: Mapping[str, PathwayAwardRecord]
    pathways: tuple[Pathway, ...]
    catalog: Mapping[str, Listing]
    # Pathways whose award credential was issued (read with the credentials, even when ``awards`` is not).
    awarded: frozenset[str] = frozenset()


class PathwayStore:
    """Pathway definitions and awards of the issuers in one registry."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    # -- definitions ----------------------------------------------------------------------------

    def put_pathway(self, issuer_id: int, slug: str, definition: dict[str, Any], *,
                    achievements: Mapping[str, dict[str, Any]] = {}, now: datetime | None = None) -> PathwayRecord:
        """Create or replace a pathway and, in the same transaction, the achievement definitions it publishes."""
        now = now or utcnow()
        _DEFINITIONS.pop((str(self.registry.engine.url), issuer_id), None)  # even if the clock stands still
        with self.registry.session() as s:
            row = put_definition(s, PathwayRow, _pathway_query(issuer_id, slug), issuer_id=issuer_id, slug=slug,
                                 definition=definition, now=now)
            for achievement, achievement_definition in achievements.items():
                s.execute(update(AchievementRow)
                          .where(AchievementRow.issuer_id == issuer_id, AchievementRow.slug == achievement)
                          .values(definition=achievement_definition, updated_at=now))
            return PathwayRecord.from_row(row)

    def get_pathway(self, issuer_id: int, slug: str) -> PathwayRecord | None:
        """The pathway ``slug``, or None."""
        with self.registry.session(write=False) as s:
            row = s.scalar(_pathway_query(issuer_id, slug))
            return None if row is None else PathwayRecord.from_row(row)

    def list_pathways(self, issuer_id: int) -> list[PathwayRecord]:
        """All of the issuer's pathways, by slug."""
        with self.registry.session(write=False) as s:
            return [PathwayRecord.from_row(r) for r in s.scalars(_pathways_query(issuer_id))]

    # -- one learner ----------------------------------------------------------------------------

    def learner(self, issuer_id: int, lookup_key: str, *, with_awards: bool = True) -> LearnerRecords:
        """The person's credentials (every status), pathway awards, and the pathways and achievements.

        ``with_awards=False`` leaves ``awards`` empty: evaluation asks for them
        (``awards_of``) only when a pathway it finds complete is not in
        ``awarded``, one query fewer on the common path.
        """
        which = {"issuer_id": issuer_id, "lookup_key": lookup_key}
        columns, stamped = len(_HELD_COLUMNS), len(_HELD_COLUMNS) + len(_STAMP)
        with self.registry.session(write=False) as s:
            rows = s.execute(_LEARNER_CREDENTIALS, which).all()
            held = tuple(_held(row[:columns]) for row in rows)
            awards = self._awards(s, which) if with_awards else {}
            pathways, catalog = self._definitions(s, issuer_id, tuple(rows[0][columns:stamped]) if rows else None)
        awarded = frozenset(rows[0][stamped].split(",")) if rows and rows[0][stamped] else frozenset()
        return LearnerRecords(held, awards, pathways, catalog, awarded)

    def definitions(self, issuer_id: int) -> tuple[tuple[Pathway, ...], Mapping[str, Listing]]:
        """The issuer's pathways (parsed) and its achievement catalog."""
        with self.registry.session(write=False) as s:
            return self._definitions(s, issuer_id)

    def awards_of(self, issuer_id: int, lookup_key: str) -> dict[str, PathwayAwardRecord]:
        """The person's pathway awards and pending claims, by pathway."""
        with self.registry.session(write=False) as s:
            return self._awards(s, {"issuer_id": issuer_id, "lookup_key": lookup_key})

    @staticmethod
    def _awards(s: Any, which: dict[str, Any]) -> dict[str, PathwayAwardRecord]:
        return {row[0]: PathwayAwardRecord(*row) for row in s.execute(_LEARNER_AWARDS, which)}

    def catalog(self, issuer_id: int) -> dict[str, Listing]:
        """Name, tags and field of study of every achievement, by slug."""
        with self.registry.session(write=False) as s:
            return dict(self._definitions(s, issuer_id)[1])

    def _definitions(self, s: Any, issuer_id: int,
                     stamp: tuple[Any, ...] | None = None) -> tuple[tuple[Pathway, ...], Mapping[str, Listing]]:
        # Evaluation runs after every issue: re-reading and parsing every achievement definition
        # each time cost more than the rest together, so they are kept per process and re-read
        # when a row of either table is added, removed or updated (its count or newest updated_at).
        if stamp is None:
            stamp = tuple(s.execute(_DEFINITIONS_STAMP, {"issuer_id": issuer_id}).one())
        key = (str(self.registry.engine.url), issuer_id)
        cached = _DEFINITIONS.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1], cached[2]
        pathways = tuple(Pathway.from_dict(r.definition) for r in s.scalars(_pathways_query(issuer_id)))
        rows = s.execute(select(AchievementRow.slug, AchievementRow.definition)
                         .where(AchievementRow.issuer_id == issuer_id))
        catalog = MappingProxyType({slug: Listing.from_ob(d.get("ob", {})) for slug, d in rows})
        _DEFINITIONS[key] = (stamp, pathways, catalog)
        return pathways, catalog

    def held_by(self, issuer_id: int, lookup_keys: Iterable[str]) -> dict[str, list[Held]]:
        """Credentials of many people at once, by lookup key (audit)."""
        keys = sorted(set(lookup_keys))
        found: dict[str, list[Held]] = {key: [] for key in keys}
        with self.registry.session(write=False) as s:
            for i in range(0, len(keys), _KEYS_PER_QUERY):
                chunk = keys[i:i + _KEYS_PER_QUERY]
                for key, *values in s.execute(select(CredentialRow.lookup_key, *_HELD_COLUMNS).where(
                        CredentialRow.issuer_id == issuer_id, CredentialRow.lookup_key.in_(chunk))):
                    found[key].append(_held(values))
        return found

    def learner_emails(self, issuer_id: int) -> dict[str, str]:
        """Every person the issuer stored an e-mail for, by lookup key (a pathway catch-up's candidates)."""
        query = (select(CredentialRow.lookup_key, func.max(CredentialRow.recipient_email))
                 .where(CredentialRow.issuer_id == issuer_id, CredentialRow.lookup_key.is_not(None),
                        CredentialRow.recipient_email.is_not(None))
                 .group_by(CredentialRow.lookup_key))
        with self.registry.session(write=False) as s:
            return {key: email for key, email in s.execute(query)}

    # -- awards ---------------------------------------------------------------------------------

    def claim_award(self, issuer_id: int, pathway: str, lookup_key: str, *, awarded_on: date,
                    components: Sequence[dict[str, Any]], now: datetime | None = None) -> PathwayAwardRecord:
        """Claim the award of ``pathway`` to this person; returns the claim that won (ours or an earlier one).

        Compare ``credential_id``: None means the award still has to be
        issued (by whoever holds the winning claim's terms: they are stored).
        """
        with self.registry.session() as s:
            _insert_ignore(s, PathwayAwardRow, dict(
                issuer_id=issuer_id, pathway=pathway, lookup_key=lookup_key, credential_id=None,
                awarded_on=awarded_on, components=list(components), awarded_at=now or utcnow()))
            return PathwayAwardRecord.from_row(s.scalar(_award_query(issuer_id, pathway, lookup_key)))

    def complete_award(self, issuer_id: int, pathway: str, lookup_key: str, credential_id: str) -> None:
        """Record the credential that carries a claimed award (idempotent)."""
        with self.registry.session() as s:
            s.execute(update(PathwayAwardRow)
                      .where(PathwayAwardRow.issuer_id == issuer_id, PathwayAwardRow.pathway == pathway,
                             PathwayAwardRow.lookup_key == lookup_key, PathwayAwardRow.credential_id.is_(None))
                      .values(credential_id=credential_id))

    def list_awards(self, issuer_id: int, *, pathway: str | None = None) -> list[PathwayAwardRecord]:
        """Every award (and pending claim) of the issuer, oldest first."""
        query = select(PathwayAwardRow).where(PathwayAwardRow.issuer_id == issuer_id)
        if pathway is not None:
            query = query.where(PathwayAwardRow.pathway == pathway)
        with self.registry.session(write=False) as s:
            return [PathwayAwardRecord.from_row(r)
                    for r in s.scalars(query.order_by(PathwayAwardRow.awarded_at, PathwayAwardRow.id))]


def _held(values: Sequence[Any]) -> Held:
    id_, achievement, issued_on, credits, *rest = values
    return Held(id_, achievement, issued_on, float(credits or 0), *rest)


def _pathway_query(issuer_id: int, slug: str) -> Any:
    return select(PathwayRow).where(PathwayRow.issuer_id == issuer_id, PathwayRow.slug == slug)


def _pathways_query(issuer_id: int) -> Any:
    return select(PathwayRow).where(PathwayRow.issuer_id == issuer_id).order_by(PathwayRow.slug)


def _award_query(issuer_id: int, pathway: str, lookup_key: str) -> Any:
    return select(PathwayAwardRow).where(PathwayAwardRow.issuer_id == issuer_id, PathwayAwardRow.pathway == pathway,
                                         PathwayAwardRow.lookup_key == lookup_key)


__all__ = ["LearnerRecords", "PathwayStore"]
