"""Build OB 3.0 OpenBadgeCredentials from plain values (no signing, no I/O).

The credential stays a plain dict: it is JSON-LD, checked by the official
schema, and mirroring the spec in a class tree would only drift from it. The
clock, the id source and the salt source are injected so tests are byte-exact.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any, Callable, Sequence

from errors import Code, InputError

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
OB_SCHEMA_URL = (
    "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"
)


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who receives the credential: an identity object (hashed e-mail) and/or a DID."""

    identity: dict[str, Any] | None = None
    did: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Award:
    """What one credential says beyond the achievement: credits, dates, evidence."""

    credits_earned: float | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    evidence: Sequence[dict[str, Any]] = field(default_factory=tuple)
    results: Sequence[dict[str, Any]] = field(default_factory=tuple)
    status: Sequence[dict[str, Any]] = field(default_factory=tuple)
    narrative: str | None = None
    credential_schema: bool = True
    awarded: datetime | None = None  # awardedDate, when the award is not the start of validity (a renewal)


def new_credential_id() -> str:
    """A fresh ``urn:uuid:`` credential id."""
    return f"urn:uuid:{uuid.uuid4()}"


def format_datetime(moment: datetime | date) -> str:
    """An XSD dateTime with time zone, second precision, ``Z`` for UTC."""
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(0, 0), tzinfo=timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc).replace(microsecond=0)
    return moment.isoformat().replace("+00:00", "Z")


def evidence_for_url(url: str, *, name: str | None = None) -> dict[str, Any]:
    """An OB Evidence object for a URL (a recording, a certificate of attendance…)."""
    item: dict[str, Any] = {"id": url, "type": ["Evidence"]}
    if name:
        item["name"] = name
    return item


def _subject(achievement: dict[str, Any], recipient: Recipient, award: Award) -> dict[str, Any]:
    subject: dict[str, Any] = {}
    if recipient.did:
        subject["id"] = recipient.did
    subject["type"] = ["AchievementSubject"]
    identifiers = []
    if recipient.identity:
        identifiers.append(dict(recipient.identity))
    if recipient.name:
        # OB 3.0 has no "name" on AchievementSubject; the recipient's display
        # name travels as an unhashed IdentityObject of identityType "name".
        identifiers.append({"type": "IdentityObject", "identityHash": recipient.name,
                            "identityType": "name", "hashed": False})
    if identifiers:
        subject["identifier"] = identifiers
    subject["achievement"] = achievement
    if award.credits_earned is not None:
        subject["creditsEarned"] = _number(award.credits_earned)
    if award.results:
        subject["result"] = [dict(r) for r in award.results]
    if award.narrative:
        subject["narrative"] = award.narrative
    return subject


def _number(value: float) -> float | int:
    # Integral credits are written as JSON integers (36, not 36.0): both
    # canonicalize to "36"^^xsd:float, but the JSON reads better to people.
    value = float(value)
    return int(value) if value.is_integer() else value


def build_credential(
    *,
    issuer: dict[str, Any],
    achievement: dict[str, Any],
    recipient: Recipient,
    award: Award,
    now: datetime,
    new_id: Callable[[], str] = new_credential_id,
    name: str | None = None,
    description: str | None = None,
    image: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An unsigned OpenBadgeCredential (VC 2.0 + OB context 3.0.3) that passes the strict schema.

    ``issuer`` is an OB Profile dict (``id``, ``type``, ``name``…), ``achievement``
    an OB Achievement dict. ``now`` is the default ``validFrom``; ``new_id``
    supplies the ``urn:uuid:`` id.
    """
    if recipient.did is None and not recipient.identity:
        raise InputError(Code.RECIPIENT_INVALID,
                         "A credential needs a recipient: an e-mail address or a DID.")
    contexts = [VC_V2, OB_CONTEXT]
    if award.credential_schema:
        contexts.append(OB_EXTENSIONS)
    credential: dict[str, Any] = {
        "@context": contexts,
        "id": new_id(),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer,
        "validFrom": format_datetime(award.valid_from or now),
    }
    if award.awarded is not None:
        credential["awardedDate"] = format_datetime(award.awarded)
    if award.valid_until is not None:
        credential["validUntil"] = format_datetime(award.valid_until)
    credential["name"] = name or achievement.get("name", "Open Badge")
    if description:
        credential["description"] = description
    if image:
        credential["image"] = image
    credential["credentialSubject"] = _subject(achievement, recipient, award)
    if award.evidence:
        credential["evidence"] = [dict(e) for e in award.evidence]
    if award.status:
        statuses = [dict(s) for s in award.status]
        credential["credentialStatus"] = statuses[0] if len(statuses) == 1 else statuses
    if award.credential_schema:
        credential["credentialSchema"] = [
            {"id": OB_SCHEMA_URL, "type": "1EdTechJsonSchemaValidator2019"}
        ]
    return credential


__all__ = [
    "Award",
    "OB_CONTEXT",
    "OB_EXTENSIONS",
    "Recipient",
    "VC_V2",
    "build_credential",
    "evidence_for_url",
    "format_datetime",
    "new_credential_id",
]
