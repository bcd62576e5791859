"""The learner's page — an "online CV" of their recognitions — behind unguessable, revocable links.

A learner page exists only while a link to it does: ``create_link(issuer,
email)`` makes a token (``secrets.token_urlsafe(32)``, 256 bits) and shows it
once; the registry keeps only its SHA-256, so a copy of the database opens no
page. ``revoke_link`` makes the page answer 404 from then on. Learners are
found through the e-mail lookup key (an HMAC, ``issuer.badge.recipient``), never by
re-hashing credentials.

The page (``issuer.web.learner_pages``, ``/learners/<token>``) lists the learner's
current credentials grouped by pathway (with progress from
``issuer.awarding.pathways.progress``) and then by achievement, their active
certifications with the expiry, the CEUs per year, and the credentials no longer
in force (revoked, suspended, expired, not yet valid) unless a current one of the
same achievement replaced them (a renewal, a correction). The signed form of the
record is the CLR 2.0 transcript the page links to; the page itself is not signed.
It is private by design: ``no-store``, ``noindex``, and no referrer, since
the token is in the URL.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from errors import Code, NotFound
from issuer.awarding.issuing import Issuer, renewals_of
from issuer.awarding.pathways import PathwayProgress, progress
from issuer.badge.recipient import lookup_key, normalise_email
from issuer.records.transcript import ceus_by_year, is_current
from issuer.store.models import CredentialRecord, LearnerLinkRecord, LearnerLinkRow

TOKEN_BYTES = 32
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # what token_urlsafe(32) makes


# -- links ----------------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    """What the registry keeps of a token: its SHA-256, hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def learner_page_url(issuer: Issuer, token: str) -> str:
    """The public address of the page a token opens."""
    return f"{issuer.settings.url}/learners/{token}"


def _learner_key(issuer: Issuer, email: str) -> str:
    email = normalise_email(email)
    key = lookup_key(email, issuer.settings.lookup_secret)
    if not issuer.registry.find_credentials(issuer.issuer_id, lookup_key=key):
        raise NotFound(Code.LEARNER_NOT_FOUND, f"No credential was ever issued to {email} here: check the "
                       "address (it is the one the badges were sent to).")
    return key


def create_link(issuer: Issuer, email: str, *, key: str | None = None) -> tuple[str, LearnerLinkRecord]:
    """A new link to the learner's page: ``(token, record)``. The token is not stored: show it once.
    ``key``: the learner's lookup key when the caller found them (an association, across its divisions)."""
    key = key or _learner_key(issuer, email)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with issuer.registry.session() as s:
        row = LearnerLinkRow(issuer_id=issuer.issuer_id, token_hash=hash_token(token), lookup_key=key,
                             created_at=issuer.now())
        s.add(row)
        s.flush()
        return token, LearnerLinkRecord.from_row(row)


def list_links(issuer: Issuer, email: str, *, key: str | None = None) -> list[LearnerLinkRecord]:
    """Every link ever made for this learner (revoked ones too), oldest first (``key`` as for ``create_link``)."""
    key = key or _learner_key(issuer, email)
    with issuer.registry.session(write=False) as s:
        rows = s.scalars(select(LearnerLinkRow).where(LearnerLinkRow.issuer_id == issuer.issuer_id,
                                                      LearnerLinkRow.lookup_key == key)
                         .order_by(LearnerLinkRow.id))
        return [LearnerLinkRecord.from_row(r) for r in rows]


def revoke_link(issuer: Issuer, email: str, which: str, *, key: str | None = None) -> LearnerLinkRecord:
    """Revoke one of the learner's links, named by its token, its page URL, or its id (``--list``);
    ``key`` as for ``create_link``."""
    key = key or _learner_key(issuer, email)
    text = which.strip().rstrip("/").rsplit("/", 1)[-1]
    if text.isdigit() and len(text) < 19:
        condition = LearnerLinkRow.id == int(text)
    else:
        condition = LearnerLinkRow.token_hash == hash_token(text)
    with issuer.registry.session() as s:
        row = s.scalars(select(LearnerLinkRow).where(condition, LearnerLinkRow.issuer_id == issuer.issuer_id,
                                                     LearnerLinkRow.lookup_key == key)).first()
        if row is None:
            raise NotFound(Code.LEARNER_LINK_NOT_FOUND, "This learner has no such link; "
                           "`badgesmith learner-link --email ADDR --list` shows their links.")
        if row.revoked_at is None:  # revoking twice keeps the first date
            row.revoked_at = issuer.now()
            s.flush()
        return LearnerLinkRecord.from_row(row)


def active_link(issuer: Issuer, token: str) -> LearnerLinkRecord | None:
    """The link a token opens, or None (malformed, unknown, revoked, or another instance's)."""
    if not _TOKEN.match(token):
        return None  # not worth a query
    with issuer.registry.session(write=False) as s:
        row = s.scalars(select(LearnerLinkRow).where(LearnerLinkRow.token_hash == hash_token(token))).first()
        if row is None or row.revoked_at is not None or row.issuer_id != issuer.issuer_id:
            return None
        return LearnerLinkRecord.from_row(row)


# -- the page's content ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """One credential on the page."""

    id: str
    uid: str
    name: str
    kind: str | None
    credits: float | None
    issued_on: date
    valid_until: datetime | None
    format: str
    slug: str | None  # the achievement (its image); None for a VC API credential
    record: CredentialRecord = field(repr=False, compare=False)
    # On an association's record (issuer.association.learner_record): the division that awarded it, and the
    # credential's page on that division's site; None for the instance's own credentials.
    division: str | None = None
    page: str | None = None
    renewal: CredentialRecord | None = field(default=None, repr=False, compare=False)  # a certification's next cycle

    @property
    def is_certification(self) -> bool:
        return self.kind == "Certification"


@dataclass(slots=True)
class Group:
    """A pathway (with the learner's progress) or an achievement, and the credentials under it."""

    title: str
    entries: list[Entry] = field(default_factory=list)
    pathway: PathwayProgress | None = None


@dataclass(frozen=True, slots=True)
class LearnerView:
    """Everything the learner page shows."""

    name: str | None
    groups: tuple[Group, ...]
    ceus_by_year: tuple[tuple[int, float], ...]
    count: int
    transcript: bool  # at least one credential a transcript can embed
    as_of: date
    certifications: tuple[Entry, ...] = ()  # current certifications, soonest expiry first
    inactive: tuple[Entry, ...] = ()  # not in force and not replaced by a current one, newest first

    @property
    def ceus_total(self) -> float:
        return sum(total for _, total in self.ceus_by_year)


def _entry(record: CredentialRecord, obs: dict[str, dict[str, Any]]) -> Entry:
    ob = obs.get(record.achievement, {})
    return Entry(record.id, record.id.removeprefix("urn:uuid:"), ob.get("name") or record.achievement,
                 ob.get("achievementType"), record.credits, record.issued_on, record.valid_until, record.format,
                 record.achievement, record)


def learner_view(issuer: Issuer, key: str) -> LearnerView:
    """The learner's current credentials, grouped by pathway and then by achievement; then the others."""
    now = issuer.now()
    every = issuer.registry.find_credentials(issuer.issuer_id, lookup_key=key)
    records = [r for r in every if is_current(r, now)]
    obs = {r.slug: r.definition.get("ob", {}) for r in issuer.registry.list_achievements(issuer.issuer_id)}
    entries = {r.id: _entry(r, obs) for r in records}
    groups: list[Group] = []
    placed: set[str] = set()
    email = next((r.recipient_email for r in reversed(records) if r.recipient_email), None)
    if email is not None:
        for pathway in progress(issuer, email).pathways:
            members = [c.id for c in pathway.done] + ([pathway.award_credential] if pathway.award_credential else [])
            if not any(m in entries for m in members):
                continue  # nothing current toward it: not part of this CV
            group = Group(pathway.name, [entries[m] for m in dict.fromkeys(members) if m in entries], pathway)
            placed.update(e.id for e in group.entries)
            groups.append(group)
    by_achievement: dict[str, Group] = {}
    for record in records:
        if record.id not in placed:
            entry = entries[record.id]
            by_achievement.setdefault(record.achievement, Group(entry.name)).entries.append(entry)
    groups.extend(sorted(by_achievement.values(), key=lambda g: g.title.lower()))
    name = next((r.recipient_name for r in reversed(records or every) if r.recipient_name), None)
    renewed = renewals_of(every)  # a certification renewed early shows its next cycle beside it
    certifications = sorted((replace(entries[r.id], renewal=renewed.get(r.id)) for r in records
                             if entries[r.id].is_certification),
                            key=lambda e: (e.valid_until is None, e.valid_until or now, e.name.lower()))
    return LearnerView(name, tuple(groups), ceus_by_year(records), len(records),
                       any(r.format == "di" for r in records), now.date(), tuple(certifications),
                       _inactive(every, records, obs))


def _inactive(every: list[CredentialRecord], current: list[CredentialRecord],
              obs: dict[str, dict[str, Any]]) -> tuple[Entry, ...]:
    """The newest not-current credential of each achievement the learner holds no current credential of."""
    held = {r.achievement for r in current}
    newest: dict[str, CredentialRecord] = {}
    for record in every:  # oldest first: a later one of the same achievement wins
        if record.achievement is not None and record.achievement not in held:
            newest[record.achievement] = record
    return tuple(_entry(r, obs) for r in sorted(newest.values(), key=lambda r: (r.issued_on, r.id), reverse=True))


__all__ = ["Entry", "Group", "LearnerView", "active_link", "create_link", "hash_token", "learner_page_url",
           "learner_view", "list_links", "revoke_link"]
