"""Endorsement files and the EndorsementCredential built from one (OB 3.0 §B.1.6, §B.1.7).

An endorsement says "this issuer vouches for that achievement (or that
issuer)". The file is TOML, checked like an achievement file (unknown keys
with a "did you mean", each error naming the field and its line)::

    id = "ala-storytime-endorsement"          # names the output file (lowercase, digits, hyphens)
    endorses = "https://badges.other.example/achievements/storytime"   # an https URL or a DID
    endorses_type = "achievement"             # or "profile" (an issuer)
    name = "LLA endorses Storytime for Early Literacy"     # optional; default from the issuer's name
    comment = "Meets the LLA continuing-education standard for youth services."
    valid_for = "3y"                          # optional: validUntil = today + 3 years

``build_endorsement`` makes the unsigned credential: VC 2.0 + OB 3.0.3
contexts, types ``VerifiableCredential`` and ``EndorsementCredential``, the
endorser's Profile as issuer, and an ``EndorsementSubject`` whose ``id`` is
the endorsed achievement or profile and whose ``endorsementComment`` is the
comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timezone
from pathlib import Path
from typing import Any

from errors import Code
from issuer.badge.achievement import TomlSource, _text, _url, add_duration, read_duration
from issuer.badge.credential import OB_CONTEXT, VC_V2

TARGET_TYPES = ("achievement", "profile")
_TOP_KEYS = ("id", "endorses", "endorses_type", "name", "description", "comment", "valid_for")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DID = re.compile(r"^did:[a-z0-9]+:[A-Za-z0-9._:%-]+(?:#[A-Za-z0-9._:%-]+)?$")
_LIMITS = {"id": 64, "endorses": 2048, "name": 200, "description": 4000, "comment": 4000}


@dataclass(frozen=True, slots=True)
class Endorsement:
    """A checked endorsement file."""

    id: str
    endorses: str
    endorses_type: str  # "achievement" or "profile"
    comment: str | None = None
    name: str | None = None
    description: str | None = None
    valid_for: str | None = None
    source: Path | None = None


def load_endorsement(path: str | Path) -> Endorsement:
    """Read an endorsement TOML file; ``InputError`` ENDORSEMENT_INVALID / TOML_MALFORMED naming line and field."""
    src = TomlSource.read(Path(path), code=Code.ENDORSEMENT_INVALID)
    data = src.data
    src.check_keys((), data, _TOP_KEYS)
    texts = {key: _text(src, data, (key,), limit=limit, required=key in ("id", "endorses"))
             for key, limit in _LIMITS.items()}
    if not _SLUG.match(texts["id"]):
        raise src.error(("id",), f"id {texts['id']!r} must be a short name of lowercase letters, digits and "
                        "hyphens, like \"ala-storytime-endorsement\".")
    endorses = texts["endorses"]
    if not _DID.match(endorses):
        endorses = _url(src, endorses, ("endorses",))
    kind = data.get("endorses_type", "achievement")
    if kind not in TARGET_TYPES:
        raise src.error(("endorses_type",), f"endorses_type must be \"achievement\" or \"profile\", not {kind!r}.")
    return Endorsement(id=texts["id"], endorses=endorses, endorses_type=kind, comment=texts["comment"],
                       name=texts["name"], description=texts["description"],
                       valid_for=read_duration(src, data.get("valid_for"), ("valid_for",)), source=src.path)


def build_endorsement(endorsement: Endorsement, *, issuer: dict[str, Any], credential_id: str,
                      now: datetime) -> dict[str, Any]:
    """The unsigned EndorsementCredential (validFrom: ``now`` to the second, in UTC)."""
    valid_from = now.astimezone(timezone.utc).replace(microsecond=0)
    subject: dict[str, Any] = {"id": endorsement.endorses, "type": ["EndorsementSubject"]}
    if endorsement.comment:
        subject["endorsementComment"] = endorsement.comment
    what = "achievement" if endorsement.endorses_type == "achievement" else "issuer"
    credential: dict[str, Any] = {
        "@context": [VC_V2, OB_CONTEXT],
        "id": credential_id,
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": endorsement.name or f"{issuer.get('name', 'An issuer')} endorses this {what}",
        "issuer": issuer,
        "validFrom": valid_from.isoformat().replace("+00:00", "Z"),
        "credentialSubject": subject,
    }
    if endorsement.description:
        credential["description"] = endorsement.description
    if endorsement.valid_for:
        until = datetime.combine(add_duration(valid_from.date(), endorsement.valid_for), time(0, 0),
                                 tzinfo=timezone.utc)
        credential["validUntil"] = until.isoformat().replace("+00:00", "Z")
    return credential


__all__ = ["Endorsement", "TARGET_TYPES", "build_endorsement", "load_endorsement"]
