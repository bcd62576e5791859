"""What the Open Badges 3.0 API serves a learner's host: the learner's credentials and profile.

A learner is an e-mail address (found through the lookup key, an HMAC, as
everywhere else). Their credentials are the ones this instance issued them
(not superseded by a correction) and the ones hosts pushed for them
(``upsertCredential``), which are kept exactly as received, after the caller
verified them. Pushed credentials are one per credential equality (OB 3.0 §10:
the issuer's id and the credential's id); a push whose ``validFrom`` is older
than the stored one's changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from sqlalchemy import select

from issuer.awarding.issuing import Issuer
from issuer.badge.recipient import lookup_key, normalise_email
from issuer.store.models import CredentialRow, HostedCredentialRow, ObProfileRow

OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CREATED, REPLACED, UNCHANGED = "created", "replaced", "unchanged"


@dataclass(frozen=True, slots=True)
class HeldCredential:
    """One of the learner's credentials: a JSON object, or a compact JWS (``jws``) as text."""

    id: str
    at: datetime  # issued here, or last pushed
    value: dict[str, Any] | str

    @property
    def is_jws(self) -> bool:
        return isinstance(self.value, str)


def learner_key(issuer: Issuer, email: str) -> str:
    """The learner's lookup key on this instance."""
    return lookup_key(normalise_email(email), issuer.settings.lookup_secret)


def _same(text: str) -> str:
    # OB 3.0 §10: identifiers compare after percent-decoding and trimming.
    return unquote(text).strip()


def held_credentials(issuer: Issuer, email: str, *, since: datetime | None = None) -> list[HeldCredential]:
    """The learner's credentials, oldest first: issued here (not superseded), then the pushed ones."""
    key = learner_key(issuer, email)
    held: dict[str, HeldCredential] = {}
    with issuer.registry.session(write=False) as s:
        own = s.execute(select(CredentialRow.id, CredentialRow.created_at, CredentialRow.format,
                               CredentialRow.credential)
                        .where(CredentialRow.issuer_id == issuer.issuer_id, CredentialRow.lookup_key == key,
                               CredentialRow.superseded_by.is_(None)))
        for credential_id, at, fmt, text in own:
            held[_same(credential_id)] = HeldCredential(credential_id, at, text if fmt == "jwt" else json.loads(text))
        pushed = s.execute(select(HostedCredentialRow.credential_id, HostedCredentialRow.updated_at,
                                  HostedCredentialRow.format, HostedCredentialRow.credential)
                           .where(HostedCredentialRow.issuer_id == issuer.issuer_id,
                                  HostedCredentialRow.lookup_key == key))
        for credential_id, at, fmt, text in pushed:
            # One of our own pushed back to us is the same credential: served once, as issued.
            held.setdefault(_same(credential_id),
                            HeldCredential(credential_id, at, text if fmt == "jws" else json.loads(text)))
    items = [h for h in held.values() if since is None or h.at >= since]
    return sorted(items, key=lambda h: (h.at, h.id))


def store_credential(issuer: Issuer, email: str, *, text: str, fmt: str, credential_issuer: str,
                     credential_id: str, valid_from: str | None) -> str:
    """Keep a verified credential for the learner: CREATED, REPLACED, or UNCHANGED (an older validFrom)."""
    key, now = learner_key(issuer, email), issuer.now()
    wanted = (HostedCredentialRow.issuer_id == issuer.issuer_id, HostedCredentialRow.lookup_key == key,
              HostedCredentialRow.credential_issuer == _same(credential_issuer),
              HostedCredentialRow.credential_id == _same(credential_id))
    with issuer.registry.session() as s:
        row = s.scalar(select(HostedCredentialRow).where(*wanted))
        if row is None:
            s.add(HostedCredentialRow(issuer_id=issuer.issuer_id, lookup_key=key,
                                      credential_issuer=_same(credential_issuer),
                                      credential_id=_same(credential_id), format=fmt, credential=text,
                                      valid_from=valid_from, created_at=now, updated_at=now))
            return CREATED
        if row.valid_from and valid_from and _moment(valid_from) < _moment(row.valid_from):
            return UNCHANGED
        row.format, row.credential, row.valid_from, row.updated_at = fmt, text, valid_from, now
        return REPLACED


def _moment(text: str) -> datetime | str:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text  # compared as text: still a total order, and the signature vouched for the value


def learner_profile(issuer: Issuer, email: str) -> dict[str, Any]:
    """The Profile a host last put for the learner, else one with their e-mail address (and name, if known)."""
    key = learner_key(issuer, email)
    with issuer.registry.session(write=False) as s:
        stored = s.scalar(select(ObProfileRow.profile).where(ObProfileRow.issuer_id == issuer.issuer_id,
                                                             ObProfileRow.lookup_key == key))
        if stored is not None:
            return dict(stored)
        name = s.scalar(select(CredentialRow.recipient_name).where(
            CredentialRow.issuer_id == issuer.issuer_id, CredentialRow.lookup_key == key,
            CredentialRow.recipient_name.is_not(None)).order_by(CredentialRow.created_at.desc()).limit(1))
    address = normalise_email(email)
    profile: dict[str, Any] = {"@context": [OB_CONTEXT], "id": f"mailto:{address}", "type": ["Profile"],
                               "email": address}
    if name:
        profile["name"] = name
    return profile


def store_profile(issuer: Issuer, email: str, profile: dict[str, Any]) -> None:
    """Replace the learner's Profile with ``profile`` (checked by the caller)."""
    key, now = learner_key(issuer, email), issuer.now()
    with issuer.registry.session() as s:
        row = s.scalar(select(ObProfileRow).where(ObProfileRow.issuer_id == issuer.issuer_id,
                                                  ObProfileRow.lookup_key == key))
        if row is None:
            s.add(ObProfileRow(issuer_id=issuer.issuer_id, lookup_key=key, profile=profile, updated_at=now))
        else:
            row.profile, row.updated_at = profile, now


__all__ = ["CREATED", "HeldCredential", "REPLACED", "UNCHANGED", "held_credentials", "learner_key",
           "learner_profile", "store_credential", "store_profile"]
