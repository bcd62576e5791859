"""The association-wide transcript: one CLR 2.0 ``ClrCredential``, signed by the association, embedding the
signed credentials of every division.

It is a division transcript (``issuer.records.transcript``: ``build_clr``,
``sign_transcript``, the same choice of credentials) over the member's
credentials from every division and the association's own pathway awards.
Each embedded credential keeps its division's proof, so a verifier checks each
one against its own issuer (``verifier/clr.py`` names any that fails), and the
association's proof covers the whole. The association pathways the member has
started are stated as CLR ``Association``s (component ``isPartOf`` the
pathway's award), and the CEUs per year and per division in ``description``.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from errors import Code, NotFound
from issuer.association.learner_record import association_credentials, ceus_by_division, find_member
from issuer.association.pathways import AssociationScope, award_association_pathways, signing_issuer
from issuer.association.setup import Association
from issuer.records.transcript import (Transcript, build_clr, ceus_by_year, describe_ceus, is_current,
                                       learner_subject, pathway_relations, sign_transcript)


def build_association_transcript(association: Association, email: str | None = None, *,
                                 lookup_key: str | None = None, since: date | None = None,
                                 until: date | None = None) -> Transcript:
    """The unsigned association transcript of the member at ``email`` (or with registry ``lookup_key``):
    their current credentials with an embedded proof from every division, and association pathway awards."""
    issuer = signing_issuer(association)
    key = find_member(association, email) if email is not None else lookup_key
    scope = AssociationScope(association)
    every = association_credentials(association, key, scope)
    address = email or next((r.recipient_email for r in reversed(every) if r.recipient_email), None)
    if address is not None and award_association_pathways(association, address):
        every = association_credentials(association, key, scope)  # a pathway just completed is on the record
    now = issuer.now()
    records = [r for r in every if r.format == "di" and is_current(r, now)
               and (since is None or r.issued_on >= since) and (until is None or r.issued_on <= until)]
    if not records:
        raise NotFound(Code.TRANSCRIPT_EMPTY, "This member holds no current credential from the association's "
                       "divisions in that period (revoked, suspended, expired and VC-JWT credentials are left "
                       "out of a transcript); nothing was written.")
    credentials = [json.loads(r.credential) for r in records]
    name = next((r.recipient_name for r in reversed(records) if r.recipient_name), None)
    pathways, _, defined = scope.definitions()
    extra, associations = pathway_relations(pathways, {k: d["ob"] for k, d in defined.items()},
                                            {scope.key_of(r.issuer_id, r.achievement) for r in records})
    achievements: dict[str, dict[str, Any]] = {}
    for achievement in [(c.get("credentialSubject") or {}).get("achievement") or {} for c in credentials] + extra:
        achievements.setdefault(achievement.get("id"), achievement)
    totals = ceus_by_year(records)
    per_division = "; ".join(f"{division}: {total:g}" for division, total in ceus_by_division(scope, records))
    divisions_named = len({r.issuer_id for r in records})
    document = build_clr(
        issuer_profile=issuer.profile(), credentials=credentials, subject=learner_subject(credentials),
        credential_id=issuer.new_id(), valid_from=now,
        name=f"Learning record of {name or 'a member'} across {association.name}",
        description=(f"{len(records)} current credential(s) from {divisions_named} division(s) of "
                     f"{association.name}. " + describe_ceus(totals)
                     + (f" CEUs by division: {per_division}." if per_division else "")),
        achievements=list(achievements.values()), associations=associations, partial=len(records) < len(every))
    return Transcript(document, name, tuple(records), len(every) - len(records), totals, since, until)


def issue_association_transcript(association: Association, email: str | None = None, *,
                                 lookup_key: str | None = None, since: date | None = None,
                                 until: date | None = None) -> Transcript:
    """The member's association transcript, signed with the association's key (nothing stored or written)."""
    issuer = signing_issuer(association)
    built = build_association_transcript(association, email, lookup_key=lookup_key, since=since, until=until)
    signed = sign_transcript(built.document, issuer.key, loader=issuer.loader, created=issuer.now(),
                             verification_method=issuer.verification_method)
    return Transcript(signed, built.learner_name, built.records, built.left_out, built.ceus_by_year,
                      built.since, built.until)


__all__ = ["build_association_transcript", "issue_association_transcript"]
