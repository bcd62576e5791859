"""Pathways at work: add and list them, award them once, audit them, and show a learner's progress.

- ``add_pathway(issuer, path)`` checks a pathway file against the instance
  and stores it, and republishes the awarded Achievement so that it states
  what it is made of (``pathway_definition.compose_achievement``).
- ``award_pathways(issuer, email)`` is called by the issuing path
  (``issuer.awarding.awards``) after every credential: each pathway the person has
  newly completed is awarded once, in its own transaction, as an ordinary
  credential of the pathway's achievement whose ``evidence`` names the
  component credentials (OB 3.0 §B.1.9 Evidence: id = the component's badge
  page, name = what it recognises).
- ``progress(issuer, email)`` is the learner's "track my progress" view
  (CLI ``badgesmith progress`` and the learner page).
- ``audit_pathways(issuer)`` lists awards whose requirements no longer hold
  (a component was revoked): revoking never silently revokes an award.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterable

from errors import Code, NotFound
from issuer.awarding.issuing import IssueRequest, Issuer, renewals_of
from issuer.awarding.pathway_definition import Pathway, compose_achievement, load_pathway
from issuer.awarding.pathway_rules import (Catalog, Held, Outcome, credits_counted, describe, evaluate, outcome_credentials,
                                  remaining)
from issuer.awarding.pathway_store import LearnerRecords, PathwayStore
from issuer.badge.recipient import lookup_key, normalise_email
from issuer.store.models import Issued, PathwayAwardRecord

EXPIRING_DAYS = 90  # "expires soon" on the progress view


def _store(issuer: Issuer) -> PathwayStore:
    return PathwayStore(issuer.registry)


# -- definitions ----------------------------------------------------------------------------------


def add_pathway(issuer: Issuer, path: Path) -> Pathway:
    """Check and store a pathway file (add or replace); the awarded Achievement is republished with it."""
    store = _store(issuer)
    definitions = {r.slug: r.definition for r in issuer.registry.list_achievements(issuer.issuer_id)}
    others = {p.id: p for p in list_pathways(issuer)}
    pathway = load_pathway(path, achievements=definitions, pathways=others)
    catalog = store.catalog(issuer.issuer_id)
    siblings = [p for p in others.values() if p.awards == pathway.awards and p.id != pathway.id] + [pathway]
    published = {pathway.awards: compose_achievement(definitions[pathway.awards], siblings, catalog)}
    previous = others.get(pathway.id)
    if previous is not None and previous.awards != pathway.awards:
        # The pathway now awards something else: the old achievement no longer names it.
        rest = [p for p in others.values() if p.awards == previous.awards and p.id != pathway.id]
        old = definitions[previous.awards] if previous.awards in definitions else None
        if old is not None:
            published[previous.awards] = (compose_achievement(old, rest, catalog) if rest
                                          else _uncompose(old))
    store.put_pathway(issuer.issuer_id, pathway.id, pathway.to_dict(), achievements=published, now=issuer.now())
    return pathway


def _uncompose(definition: dict[str, Any]) -> dict[str, Any]:
    base = definition.get("pathway_base")
    if not base:
        return definition
    ob = {**definition["ob"], "criteria": base["criteria"]}
    ob.pop("alignment", None)
    if base["alignment"]:
        ob["alignment"] = base["alignment"]
    return {k: v for k, v in {**definition, "ob": ob}.items() if k not in ("pathway_base", "pathways")}


def list_pathways(issuer: Issuer) -> list[Pathway]:
    """The instance's pathways, by id."""
    return [Pathway.from_dict(r.definition) for r in _store(issuer).list_pathways(issuer.issuer_id)]


def get_pathway(issuer: Issuer, pathway_id: str) -> Pathway:
    """One pathway; ``NotFound`` PATHWAY_NOT_FOUND otherwise."""
    record = _store(issuer).get_pathway(issuer.issuer_id, pathway_id)
    if record is None:
        raise NotFound(Code.PATHWAY_NOT_FOUND, f"There is no pathway {pathway_id!r}: add it with "
                       "`badgesmith pathway add FILE.toml` (see `badgesmith pathway list`).")
    return Pathway.from_dict(record.definition)


def describe_pathway(issuer: Issuer, pathway: Pathway) -> str:
    """What a pathway asks for, in one sentence for people."""
    return describe(pathway.requirements, _store(issuer).catalog(issuer.issuer_id))


# -- awarding -------------------------------------------------------------------------------------


def _evaluate(pathway: Pathway, held: tuple[Held, ...], catalog: Catalog, today: date) -> Outcome:
    # A pathway's own award never counts toward it (its credits included).
    return evaluate(pathway.requirements, [h for h in held if h.achievement != pathway.awards], catalog,
                    today=today)


# What a person holds that pathways may count, by lookup key (``with_awards``: their awards too); and a held
# credential's public page. An instance's own by default; an association's span its divisions
# (``issuer.association.pathways``).
ReadLearner = Callable[..., LearnerRecords]
CredentialPage = Callable[[str], str]


def award_pathways(issuer: Issuer, email: str, *, read: ReadLearner | None = None,
                   page: CredentialPage | None = None) -> list[Issued]:
    """Award every pathway the person at ``email`` has completed and not yet been awarded.

    Returns the award credentials this call stored or finished. Safe to
    repeat and to run in several processes at once: the award is claimed
    first (unique per issuer, learner and pathway), and the claim fixes the
    award date and components, so whoever issues it issues the same
    credential (``Issuer.issue`` is idempotent on that date). ``read`` and
    ``page`` widen what counts beyond this instance's credentials (an association's pathways).
    """
    email = normalise_email(email)
    key = lookup_key(email, issuer.settings.lookup_secret)
    store = _store(issuer)
    read = read or (lambda k, with_awards=True: store.learner(issuer.issuer_id, k, with_awards=with_awards))
    today = issuer.now().date()
    done: list[Issued] = []
    for _ in range(20):  # awards can complete other pathways; no cycles, so this settles quickly
        records = read(key, with_awards=False)
        complete = [(p, o) for p in records.pathways if (o := _evaluate(p, records.held, records.catalog, today)).met]
        if all(p.id in records.awarded for p, _ in complete):
            break  # the common cases: nothing complete, or only what was awarded before; awards never read
        awards = store.awards_of(issuer.issuer_id, key)
        progressed = False
        for pathway, outcome in complete:
            claim = awards.get(pathway.id)
            if claim is None:
                claim = store.claim_award(issuer.issuer_id, pathway.id, key, awarded_on=outcome.completed_on,
                                          components=_components(page or issuer.credential_page, outcome, records),
                                          now=issuer.now())
            if claim.credential_id is not None:
                continue  # awarded before (or by another server meanwhile)
            # Ours, or a claim left pending by a crash: its stored date and components decide the award.
            done.append(_issue_award(issuer, store, pathway, claim, email, records))
            progressed = True
        if not progressed:
            break
    return done


def award_pathways_many(issuer: Issuer, emails: Iterable[str]) -> list[Issued]:
    """``award_pathways`` for many people (a roster): their credentials read in a few queries, and
    only those who have completed some pathway go through the one-by-one award path."""
    store = _store(issuer)
    pathways, catalog = store.definitions(issuer.issuer_id)
    if not pathways:
        return []
    by_key = {lookup_key(e, issuer.settings.lookup_secret): e for e in dict.fromkeys(map(normalise_email, emails))}
    held = store.held_by(issuer.issuer_id, by_key)
    today = issuer.now().date()
    done: list[Issued] = []
    for key, email in by_key.items():
        if any(_evaluate(p, tuple(held[key]), catalog, today).met for p in pathways):
            done.extend(award_pathways(issuer, email))  # re-reads, skips what was awarded before
    return done


@dataclass(frozen=True, slots=True)
class DueAward:
    """A pathway someone has completed but was never awarded (e.g. defined after they finished it)."""

    pathway: str
    pathway_name: str
    email: str
    name: str | None
    completed_on: date

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "completed_on": self.completed_on.isoformat()}


def awards_due(issuer: Issuer) -> list[DueAward]:
    """Every completed pathway not yet awarded (pending claims included), for everyone with a stored e-mail.

    Awards normally follow the credential that completes a pathway; a pathway
    added later, or a rule changed, leaves people who completed it before
    without the award. ``award_due`` issues these.
    """
    store = _store(issuer)
    pathways, catalog = store.definitions(issuer.issuer_id)
    if not pathways:
        return []
    emails = store.learner_emails(issuer.issuer_id)
    awarded = {(a.pathway, a.lookup_key) for a in store.list_awards(issuer.issuer_id) if a.credential_id}
    held = store.held_by(issuer.issuer_id, emails)
    today = issuer.now().date()
    due = []
    for key, email in sorted(emails.items(), key=lambda item: item[1]):
        mine = tuple(held[key])
        for pathway in pathways:
            if (pathway.id, key) in awarded:
                continue
            outcome = _evaluate(pathway, mine, catalog, today)
            if outcome.met:
                due.append(DueAward(pathway.id, pathway.name, email, _newest_name(mine), outcome.completed_on))
    return due


def award_due(issuer: Issuer) -> list[Issued]:
    """Issue every award ``awards_due`` lists (once each, dated the day the pathway was completed)."""
    return [issued for email in dict.fromkeys(d.email for d in awards_due(issuer))
            for issued in award_pathways(issuer, email)]


def _components(page: CredentialPage, outcome: Outcome, records: LearnerRecords) -> list[dict[str, Any]]:
    return [{"id": h.id, "achievement": h.achievement, "name": _name(records.catalog, h.achievement),
             "issued_on": h.issued_on.isoformat(), "credits": h.credits, "page": page(h.id)}
            for h in outcome_credentials(outcome)]


def _newest_name(held: Iterable[Held]) -> str | None:
    """The name the person's most recent credential gives (older ones may carry an old name)."""
    return next((h.recipient_name for h in sorted(held, key=lambda h: h.issued_on, reverse=True)
                 if h.recipient_name), None)


def _issue_award(issuer: Issuer, store: PathwayStore, pathway: Pathway, claim: PathwayAwardRecord, email: str,
                 records: LearnerRecords) -> Issued:
    latest = sorted(records.held, key=lambda h: (h.issued_on, h.id), reverse=True)
    name = next((h.recipient_name for h in latest if h.recipient_name), None)
    did = next((h.recipient_did for h in latest if h.recipient_did), None)
    # The organisation of the most recent component: who paid for the seat that completed it.
    ids = {c["id"] for c in claim.components}
    organization = next((h.organization for h in latest if h.id in ids and h.organization), None)
    evidence = tuple({"id": c["page"], "type": ["Evidence"], "name": c["name"],
                      "description": f"Credential {c['id']}, awarded {c['issued_on']}"
                                     + (f" ({c['credits']:g} CEUs)" if c.get("credits") else "") + "."}
                     for c in claim.components)
    request = IssueRequest(email=email, name=name, did=did, date=claim.awarded_on, organization=organization,
                           evidence_items=evidence)
    definition = issuer.achievement(pathway.awards)
    issued = issuer.issue(pathway.awards, request, definition=definition)
    store.complete_award(issuer.issuer_id, pathway.id, claim.lookup_key, issued.record.id)
    return issued


def _name(catalog: Catalog, slug: str) -> str:
    listing = catalog.get(slug)
    return listing.name if listing and listing.name else slug


# -- the learner's progress -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RequirementProgress:
    """One node of a pathway's requirement tree, evaluated for a learner.

    ``kind`` is ``achievement``, ``all``, ``n_of`` or ``credits``; ``done`` and
    ``needed`` count requirements, or CEUs for ``credits``.
    """

    kind: str
    label: str
    met: bool
    done: float
    needed: float
    within: str | None
    credentials: tuple[str, ...]
    children: tuple[RequirementProgress, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**{k: getattr(self, k) for k in ("kind", "label", "met", "done", "needed", "within")},
                "credentials": list(self.credentials), "children": [c.to_dict() for c in self.children]}


@dataclass(frozen=True, slots=True)
class CountedCredential:
    """A held credential that counts toward a pathway (or expires soon)."""

    id: str
    achievement: str
    name: str
    issued_on: date
    credits: float
    valid_until: datetime | None
    page: str

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["issued_on"] = self.issued_on.isoformat()
        data["valid_until"] = self.valid_until.isoformat() if self.valid_until else None
        return data


@dataclass(frozen=True, slots=True)
class PathwayProgress:
    """Where a learner stands on one pathway: what is done, what is left, CEUs counted."""

    pathway: str
    name: str
    description: str
    awards: str
    awards_name: str
    complete: bool
    awarded: bool
    award_credential: str | None
    awarded_on: date | None
    done: tuple[CountedCredential, ...]
    left: tuple[str, ...]
    ceus_counted: float
    ceus_required: float
    requirements: RequirementProgress

    def to_dict(self) -> dict[str, Any]:
        return {"pathway": self.pathway, "name": self.name, "description": self.description,
                "awards": self.awards, "awards_name": self.awards_name, "complete": self.complete,
                "awarded": self.awarded, "award_credential": self.award_credential,
                "awarded_on": self.awarded_on.isoformat() if self.awarded_on else None,
                "done": [c.to_dict() for c in self.done], "left": list(self.left),
                "ceus_counted": self.ceus_counted, "ceus_required": self.ceus_required,
                "requirements": self.requirements.to_dict()}


@dataclass(frozen=True, slots=True)
class NextCycle:
    """A certification renewed before its cycle ended: the renewal, awarded on ``awarded_on``, and the cycle
    it starts (``valid_from`` to ``valid_until``)."""

    previous: str
    id: str
    name: str
    awarded_on: date
    valid_from: datetime
    valid_until: datetime | None
    page: str

    def to_dict(self) -> dict[str, Any]:
        return {"previous": self.previous, "id": self.id, "name": self.name, "page": self.page,
                "awarded_on": self.awarded_on.isoformat(), "valid_from": self.valid_from.isoformat(),
                "valid_until": self.valid_until.isoformat() if self.valid_until else None}


@dataclass(frozen=True, slots=True)
class LearnerProgress:
    """A learner's progress on every pathway of the instance, what they hold that expires soon (unless it
    was renewed), and the next cycles of certifications renewed ahead of time."""

    email: str
    name: str | None
    as_of: date
    pathways: tuple[PathwayProgress, ...]
    expiring: tuple[CountedCredential, ...]
    renewed: tuple[NextCycle, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"email": self.email, "name": self.name, "as_of": self.as_of.isoformat(),
                "pathways": [p.to_dict() for p in self.pathways], "expiring": [c.to_dict() for c in self.expiring],
                "renewed": [c.to_dict() for c in self.renewed]}


def progress(issuer: Issuer, email: str, *, expiring_days: int = EXPIRING_DAYS, read: ReadLearner | None = None,
             page: CredentialPage | None = None) -> LearnerProgress:
    """The learner's progress on each pathway (``NotFound`` LEARNER_NOT_FOUND if nothing was ever issued to them).

    Revoked and suspended credentials count toward nothing; ``expiring``
    lists active credentials whose validUntil is within ``expiring_days``, except
    certifications this instance already renewed: ``renewed`` gives their next cycle instead.
    ``read`` and ``page`` as for ``award_pathways``.
    """
    email = normalise_email(email)
    key = lookup_key(email, issuer.settings.lookup_secret)
    records = read(key) if read is not None else _store(issuer).learner(issuer.issuer_id, key)
    page = page or issuer.credential_page
    if not records.held:
        raise NotFound(Code.LEARNER_NOT_FOUND, f"No credential was ever issued to {email} here: "
                       "check the address (it is the one the badges were sent to).")
    now = issuer.now()
    today = now.date()
    catalog = records.catalog
    by_id = {h.id: h for h in records.held}
    pathways = []
    for pathway in records.pathways:
        outcome = _evaluate(pathway, records.held, catalog, today)
        award = records.awards.get(pathway.id)
        counted, required = credits_counted(outcome)
        pathways.append(PathwayProgress(
            pathway=pathway.id, name=pathway.name, description=pathway.description, awards=pathway.awards,
            awards_name=_name(catalog, pathway.awards), complete=outcome.met,
            awarded=award is not None and award.credential_id is not None,
            award_credential=award.credential_id if award else None, awarded_on=award.awarded_on if award else None,
            done=tuple(_counted(page, catalog, h) for h in outcome_credentials(outcome)),
            left=tuple(remaining(outcome, catalog)), ceus_counted=counted, ceus_required=required,
            requirements=_requirement(outcome, catalog)))
    renewed = {}
    if read is None and any(h.valid_until is not None for h in records.held):  # one query, for certifications
        renewed = renewals_of(issuer.registry.find_credentials(issuer.issuer_id, lookup_key=key))
    expiring = sorted((h for h in by_id.values() if h.status == "active" and h.valid_until is not None
                       and h.id not in renewed and now <= h.valid_until
                       and (h.valid_until - now).days <= expiring_days),
                      key=lambda h: (h.valid_until, h.id))
    cycles = tuple(NextCycle(previous, r.id, _name(catalog, r.achievement), r.issued_on, r.valid_from, r.valid_until,
                             page(r.id))
                   for previous, r in sorted(renewed.items(), key=lambda item: item[1].valid_from)
                   if r.valid_from > now)
    return LearnerProgress(email, _newest_name(records.held), today, tuple(pathways),
                           tuple(_counted(page, catalog, h) for h in expiring), cycles)


def _counted(page: CredentialPage, catalog: Catalog, held: Held) -> CountedCredential:
    return CountedCredential(held.id, held.achievement, _name(catalog, held.achievement), held.issued_on,
                             held.credits, held.valid_until, page(held.id))


def _requirement(outcome: Outcome, catalog: Catalog) -> RequirementProgress:
    node = outcome.node
    kind = {"Earn": "achievement", "AllOf": "all", "NOf": "n_of", "Credits": "credits"}[type(node).__name__]
    return RequirementProgress(kind, describe(node, catalog), outcome.met, outcome.done, outcome.needed,
                               getattr(node, "within", None), tuple(h.id for h in outcome.used),
                               tuple(_requirement(c, catalog) for c in outcome.children))


# -- audit ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditFinding:
    """An award whose requirements no longer hold (``unmet``), or a claim never issued (``pending``)."""

    pathway: str
    kind: str
    credential_id: str | None
    recipient: str | None
    awarded_on: date
    left: tuple[str, ...]
    withdrawn: tuple[str, ...]  # component credentials now revoked or suspended

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "awarded_on": self.awarded_on.isoformat(), "left": list(self.left),
                "withdrawn": list(self.withdrawn)}


def audit_pathways(issuer: Issuer) -> list[AuditFinding]:
    """Awards to decide on: requirements no longer met (revoked components), or claims left pending."""
    store = _store(issuer)
    pathways = {p.id: p for p in list_pathways(issuer)}
    awards = [a for a in store.list_awards(issuer.issuer_id) if a.pathway in pathways]
    held = store.held_by(issuer.issuer_id, (a.lookup_key for a in awards))
    catalog = store.catalog(issuer.issuer_id)
    today = issuer.now().date()
    findings = []
    for award in awards:
        mine = {h.id: h for h in held.get(award.lookup_key, [])}
        recipient = _newest_name(mine.values())
        if award.credential_id is None:
            findings.append(AuditFinding(award.pathway, "pending", None, recipient, award.awarded_on, (), ()))
            continue
        own = mine.get(award.credential_id)
        if own is not None and own.status == "revoked":
            continue  # a person already decided about this award
        outcome = _evaluate(pathways[award.pathway], tuple(mine.values()), catalog, today)
        if outcome.met:
            continue
        withdrawn = tuple(c["id"] for c in award.components
                          if c["id"] in mine and mine[c["id"]].status != "active")
        findings.append(AuditFinding(award.pathway, "unmet", award.credential_id, recipient, award.awarded_on,
                                     tuple(remaining(outcome, catalog)), withdrawn))
    return findings


__all__ = ["AuditFinding", "CountedCredential", "DueAward", "LearnerProgress", "NextCycle", "PathwayProgress",
           "RequirementProgress", "add_pathway", "audit_pathways", "award_due", "award_pathways",
           "award_pathways_many", "awards_due", "describe_pathway",
           "get_pathway", "list_pathways", "progress"]
