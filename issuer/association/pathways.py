"""Association pathways: requirements met by credentials from several divisions, awarded once by the association.

A pathway file of the association is a division pathway file
(``issuer.awarding.pathway_definition``) whose requirements name division
achievements by their published id, the Achievement URL every division
credential carries (``https://youth.example.org/achievements/storytime``), or
the association's own achievements by slug. ``awards`` is always one of the
association's own achievements: only the association's key signs the award.

Evaluation, the once-only claim and the award itself are the division
machinery's (``issuer.awarding.pathways``); ``AssociationScope`` only widens
what a person holds to every division of the association. Divisions never hold
the association's key (README "Who can issue"), so the association makes the
awards: ``badgesmith association award-pathways`` (after roster runs, or from
cron), and before every association learner record and transcript.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from sqlalchemy import bindparam, func, select

from errors import Code, ConfigError, InputError
from issuer.association.setup import Association, divisions
from issuer.awarding.pathway_definition import Pathway, compose_achievement, load_pathway
from issuer.awarding.pathway_rules import Held, Listing
from issuer.awarding.pathway_store import LearnerRecords, PathwayStore
from issuer.awarding.pathways import award_pathways, list_pathways, progress, LearnerProgress
from issuer.badge.recipient import lookup_key, normalise_email
from issuer.store.models import AchievementRow, CredentialRow, Issued, PathwayAwardRow, PathwayRow

_HELD = (CredentialRow.id, CredentialRow.achievement, CredentialRow.issued_on, CredentialRow.credits,
         CredentialRow.valid_until, CredentialRow.status, CredentialRow.recipient_name, CredentialRow.recipient_did,
         CredentialRow.organization, CredentialRow.issuer_id)
_LEARNER = select(*_HELD).where(CredentialRow.issuer_id.in_(bindparam("ids", expanding=True)),
                                CredentialRow.lookup_key == bindparam("lookup_key"),
                                CredentialRow.achievement.is_not(None))
_AWARDED = select(PathwayAwardRow.pathway).where(
    PathwayAwardRow.issuer_id == bindparam("issuer_id"), PathwayAwardRow.lookup_key == bindparam("lookup_key"),
    PathwayAwardRow.credential_id.is_not(None))
# (database URL, association id) -> (stamp, pathways, catalog, {achievement key: definition})
_DEFINITIONS: dict[tuple[str, int], tuple[tuple[Any, ...], tuple[Pathway, ...], Mapping[str, Listing],
                                          Mapping[str, dict[str, Any]]]] = {}


def achievement_key(division_url: str, slug: str) -> str:
    """How an association pathway names a division's achievement: the Achievement's published id."""
    return f"{division_url}/achievements/{slug}"


class AssociationScope:
    """Everything an association spans for pathways: its divisions' credentials and achievements, and its own.

    ``read(lookup_key)`` gives ``issuer.awarding.pathways`` the person's
    credentials from every division (division achievements keyed by their
    URL, the association's own by slug) and ``page(id)`` a credential's page
    on its division's site.
    """

    def __init__(self, association: Association) -> None:
        self.association = association
        self.store = PathwayStore(association.registry)
        members = divisions(association)
        self.urls = {d.id: d.url for d in members} | {association.id: association.url}
        self.names = {d.id: d.name for d in members} | {association.id: association.name}
        self._pages: dict[str, str] = {}
        self._definitions: tuple[Any, ...] | None = None  # read once per scope: a scope lives for one call

    @property
    def ids(self) -> list[int]:
        return sorted(self.urls)

    def key_of(self, issuer_id: int, slug: str) -> str:
        """The key a pathway uses for ``slug`` of ``issuer_id``."""
        return slug if issuer_id == self.association.id else achievement_key(self.urls[issuer_id], slug)

    def definitions(self) -> tuple[tuple[Pathway, ...], Mapping[str, Listing], Mapping[str, dict[str, Any]]]:
        """The association's pathways, and every achievement it spans (listing and definition) by key."""
        if self._definitions is None:
            self._definitions = self._read_definitions()
        return self._definitions

    def _read_definitions(self) -> tuple[tuple[Pathway, ...], Mapping[str, Listing], Mapping[str, dict[str, Any]]]:
        registry = self.association.registry
        ids = self.ids
        stamp_query = select(
            select(func.count(AchievementRow.id)).where(AchievementRow.issuer_id.in_(ids)).scalar_subquery(),
            select(func.max(AchievementRow.updated_at)).where(AchievementRow.issuer_id.in_(ids)).scalar_subquery(),
            select(func.count(PathwayRow.id)).where(PathwayRow.issuer_id == self.association.id).scalar_subquery(),
            select(func.max(PathwayRow.updated_at)).where(PathwayRow.issuer_id == self.association.id)
            .scalar_subquery())
        cache_key = (str(registry.engine.url), self.association.id)
        with registry.session(write=False) as s:
            stamp = (*s.execute(stamp_query).one(), tuple(ids))
            cached = _DEFINITIONS.get(cache_key)
            if cached is not None and cached[0] == stamp:
                return cached[1], cached[2], cached[3]
            rows = s.execute(select(AchievementRow.issuer_id, AchievementRow.slug, AchievementRow.definition)
                             .where(AchievementRow.issuer_id.in_(ids)))
            defined = {self.key_of(issuer_id, slug): definition for issuer_id, slug, definition in rows}
        pathways = tuple(list_pathways_of(self.association))
        catalog = {key: Listing.from_ob(definition.get("ob", {})) for key, definition in defined.items()}
        _DEFINITIONS[cache_key] = (stamp, pathways, catalog, defined)
        return pathways, catalog, defined

    def read(self, key: str, *, with_awards: bool = True) -> LearnerRecords:
        """The person's credentials across the association, its pathways and their awards."""
        pathways, catalog, _ = self.definitions()
        with self.association.registry.session(write=False) as s:
            rows = s.execute(_LEARNER, {"ids": self.ids, "lookup_key": key}).all()
            awarded = frozenset(s.scalars(_AWARDED, {"issuer_id": self.association.id, "lookup_key": key}))
        held = []
        for id_, slug, issued_on, credits, *rest, issuer_id in rows:
            held.append(Held(id_, self.key_of(issuer_id, slug), issued_on, float(credits or 0), *rest))
            self._pages[id_] = f"{self.urls[issuer_id]}/credentials/{id_.removeprefix('urn:uuid:')}"
        held.sort(key=lambda h: (h.issued_on, h.id))
        awards = self.store.awards_of(self.association.id, key) if with_awards else {}
        return LearnerRecords(tuple(held), awards, pathways, catalog, awarded)

    def page(self, credential_id: str) -> str:
        """The public page of a credential read by ``read`` (on its division's site)."""
        return self._pages[credential_id]


def list_pathways_of(association: Association) -> list[Pathway]:
    """The association's pathways, by id."""
    store = PathwayStore(association.registry)
    return [Pathway.from_dict(r.definition) for r in store.list_pathways(association.id)]


def signing_issuer(association: Association) -> Any:
    """The association's own ``Issuer`` (its key); ConfigError when it was opened read-only."""
    if association.issuer is None:
        raise ConfigError(Code.ASSOCIATION_NOT_FOUND, "Only the association signs its pathway awards: run this "
                          "in the association's folder (--home), which holds its key.")
    return association.issuer


def add_association_pathway(association: Association, path: Path) -> Pathway:
    """Check and store an association pathway file; its awarded Achievement is republished stating it."""
    issuer = signing_issuer(association)
    scope = AssociationScope(association)
    _, catalog, defined = scope.definitions()
    others = {p.id: p for p in list_pathways_of(association)}
    pathway = load_pathway(path, achievements=defined, pathways=others)
    if "://" in pathway.awards:
        raise InputError(Code.PATHWAY_INVALID, f"{path.name}: awards must be one of the association's own "
                         f"achievements (a slug), not {pathway.awards!r}: the association signs the award.")
    siblings = [p for p in others.values() if p.awards == pathway.awards and p.id != pathway.id] + [pathway]
    published = {pathway.awards: compose_achievement(defined[pathway.awards], siblings, catalog)}
    scope.store.put_pathway(association.id, pathway.id, pathway.to_dict(), achievements=published,
                            now=issuer.now())
    return pathway


def award_association_pathways(association: Association, email: str) -> list[Issued]:
    """Award (once) every association pathway the person at ``email`` completed across the divisions."""
    scope = AssociationScope(association)
    return award_pathways(signing_issuer(association), email, read=scope.read, page=scope.page)


def award_association_due(association: Association) -> list[Issued]:
    """Award every association pathway anyone has completed and not yet been awarded."""
    issuer = signing_issuer(association)
    scope = AssociationScope(association)
    pathways, _, _ = scope.definitions()
    if not pathways:
        return []
    query = (select(func.max(CredentialRow.recipient_email)).where(
        CredentialRow.issuer_id.in_(scope.ids), CredentialRow.recipient_email.is_not(None),
        CredentialRow.lookup_key.is_not(None)).group_by(CredentialRow.lookup_key))
    with association.registry.session(write=False) as s:
        emails = sorted(s.scalars(query))
    return [issued for email in emails
            for issued in award_pathways(issuer, email, read=scope.read, page=scope.page)]


def association_progress(association: Association, email: str,
                         scope: AssociationScope | None = None) -> LearnerProgress:
    """The person's progress on every association pathway (LEARNER_NOT_FOUND if no division awarded them)."""
    scope = scope or AssociationScope(association)
    return progress(signing_issuer(association), email, read=scope.read, page=scope.page)


def association_lookup_key(association: Association, email: str) -> str:
    """The learner's lookup key: the association's secret, so the same in every division."""
    if association.lookup_secret is None:
        raise ConfigError(Code.ASSOCIATION_NOT_FOUND, "Finding a learner needs the association's lookup secret: "
                          "run this in the association's folder (--home).")
    return lookup_key(normalise_email(email), association.lookup_secret)


__all__ = ["AssociationScope", "achievement_key", "add_association_pathway", "association_lookup_key",
           "association_progress", "award_association_due", "award_association_pathways", "list_pathways_of",
           "signing_issuer"]
