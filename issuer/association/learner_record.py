"""A member's association record: every division's credentials on one learner page (the "online CV").

The page is the division learner page (``/learners/<token>`` on the
association's site, ``templates/learners/page.html``) given an
``AssociationView``: the learner's current credentials from every division
(each linking to its page on the division's site), the CEUs per year and per
division, and progress on the association's pathways. The link is an ordinary
learner link of the association's own issuer row (``issuer.records.learners``);
the learner is found through the association's lookup secret, which every
division shares, so one e-mail is one member. Revoked, suspended, expired and
superseded credentials count toward nothing; the newest one of an achievement
held no longer is listed as "no longer in force", as on a division's page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import bindparam, select

from errors import Code, NotFound
from issuer.association.pathways import (AssociationScope, association_lookup_key, association_progress,
                                         award_association_pathways)
from issuer.association.setup import Association
from issuer.records.learners import Entry, Group, LearnerView, create_link
from issuer.records.transcript import ceus_by_year, is_current
from issuer.store.models import CredentialRecord, CredentialRow, LearnerLinkRecord

# Ordered as the division query (find_credentials) orders: the index on (issuer, lookup key, issued_on) serves it.
_CREDENTIALS = (select(CredentialRow)
                .where(CredentialRow.issuer_id.in_(bindparam("ids", expanding=True)),
                       CredentialRow.lookup_key == bindparam("lookup_key"))
                .order_by(CredentialRow.issued_on, CredentialRow.id))


@dataclass(frozen=True, slots=True)
class AssociationView(LearnerView):
    """The learner page's content for an association: a division learner view and the CEUs per division."""

    ceus_by_division: tuple[tuple[str, float], ...] = ()
    association: str = ""


def association_credentials(association: Association, key: str, scope: AssociationScope | None = None
                            ) -> list[CredentialRecord]:
    """Every credential of the learner ``key`` from the association and its divisions, oldest first."""
    scope = scope or AssociationScope(association)
    with association.registry.session(write=False) as s:
        return [CredentialRecord.from_row(row)
                for row in s.scalars(_CREDENTIALS, {"ids": scope.ids, "lookup_key": key})]


def find_member(association: Association, email: str) -> str:
    """The learner's lookup key; LEARNER_NOT_FOUND when no division ever awarded them anything."""
    key = association_lookup_key(association, email)
    scope = AssociationScope(association)
    with association.registry.session(write=False) as s:
        found = s.scalars(_CREDENTIALS.limit(1), {"ids": scope.ids, "lookup_key": key}).first()
    if found is None:
        raise NotFound(Code.LEARNER_NOT_FOUND, "No division of the association ever awarded a credential to "
                       "this address: check it (it is the one the badges were sent to).")
    return key


def create_association_link(association: Association, email: str) -> tuple[str, LearnerLinkRecord]:
    """A new link to the member's association record: ``(token, record)``, shown once."""
    key = find_member(association, email)
    if association.issuer is None:
        raise NotFound(Code.ASSOCIATION_NOT_FOUND, "Learner links are made in the association's folder (--home).")
    award_association_pathways(association, email)  # a pathway completed meanwhile shows as awarded
    return create_link(association.issuer, email, key=key)


def association_view(association: Association, key: str) -> AssociationView:
    """What the association's learner page shows for the learner ``key``."""
    issuer = association.issuer
    now = issuer.now()
    scope = AssociationScope(association)
    _, _, defined = scope.definitions()
    every = association_credentials(association, key, scope)
    current = [r for r in every if is_current(r, now)]
    entries = {r.id: _entry(scope, defined, r) for r in every}
    groups: list[Group] = []
    placed: set[str] = set()
    email = next((r.recipient_email for r in reversed(every) if r.recipient_email), None)
    current_ids = {r.id for r in current}
    if email is not None and scope.definitions()[0]:
        for pathway in association_progress(association, email, scope).pathways:
            members = [c.id for c in pathway.done] + ([pathway.award_credential] if pathway.award_credential else [])
            shown = [entries[m] for m in dict.fromkeys(members) if m in current_ids]
            if not shown and not pathway.done:
                continue  # nothing toward it yet
            groups.append(Group(pathway.name, shown, pathway))
            placed.update(e.id for e in shown)
    by_division: dict[str, Group] = {}
    for record in current:
        if record.id not in placed:
            entry = entries[record.id]
            by_division.setdefault(entry.division or "", Group(entry.division or association.name)).entries.append(entry)
    groups.extend(sorted(by_division.values(), key=lambda g: g.title.lower()))
    name = next((r.recipient_name for r in reversed(current or every) if r.recipient_name), None)
    certifications = sorted((entries[r.id] for r in current if entries[r.id].is_certification),
                            key=lambda e: (e.valid_until is None, e.valid_until or now, e.name.lower()))
    return AssociationView(name, tuple(groups), ceus_by_year(current), len(current),
                           any(r.format == "di" for r in current), now.date(), tuple(certifications),
                           _no_longer_held(every, current, entries), ceus_by_division(scope, current),
                           association.name)


def ceus_by_division(scope: AssociationScope, records: Iterable[CredentialRecord]) -> tuple[tuple[str, float], ...]:
    """CEUs per division (and the association's own awards), by division name."""
    totals: dict[str, float] = defaultdict(float)
    for record in records:
        if record.credits:
            totals[scope.names[record.issuer_id]] += record.credits
    return tuple((name, round(total, 3)) for name, total in sorted(totals.items(), key=lambda t: t[0].lower()))


def _entry(scope: AssociationScope, defined: dict[str, Any], record: CredentialRecord) -> Entry:
    ob = defined.get(scope.key_of(record.issuer_id, record.achievement), {}).get("ob", {}) \
        if record.achievement else {}
    uid = record.id.removeprefix("urn:uuid:")
    own = record.issuer_id == scope.association.id
    return Entry(record.id, uid, ob.get("name") or record.achievement or "Credential", ob.get("achievementType"),
                 record.credits, record.issued_on, record.valid_until, record.format, record.achievement, record,
                 division=scope.names[record.issuer_id],
                 page=None if own else f"{scope.urls[record.issuer_id]}/credentials/{uid}")


def _no_longer_held(every: list[CredentialRecord], current: list[CredentialRecord],
                    entries: dict[str, Entry]) -> tuple[Entry, ...]:
    """The newest not-current credential of each (division, achievement) with no current one."""
    held = {(r.issuer_id, r.achievement) for r in current}
    newest: dict[tuple[int, str | None], CredentialRecord] = {}
    for record in every:
        if record.achievement is not None and (record.issuer_id, record.achievement) not in held:
            newest[(record.issuer_id, record.achievement)] = record
    return tuple(entries[r.id] for r in sorted(newest.values(), key=lambda r: (r.issued_on, r.id), reverse=True))


__all__ = ["AssociationView", "association_credentials", "association_view", "ceus_by_division",
           "create_association_link", "find_member"]
