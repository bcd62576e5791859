"""``badgesmith endorse``: issue an EndorsementCredential from an endorsement file.

The instance endorses another issuer's achievement or profile (or one of its
own achievements): the credential is built from the file
(``issuer.badge.endorsement``), signed with the instance's key like an award
(Data Integrity by default, or a VC-JWT with the ``jwt_alg`` key), self-checked
with the verifier, and written to ``out/endorsements/<id>.json`` (``.jwt``).

When the endorsed achievement is one of this instance's own
(``<base url>/achievements/<slug>``), the signed endorsement is also stored
with the achievement (``definition["endorsements"]``, by endorsement id, so
endorsing again replaces it): its public page shows it, and its JSON-LD lists
it under ``endorsement``. Credentials already issued are not changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from errors import Code, InputError, NotFound
from issuer.awarding.issuing import Issuer
from issuer.badge.credential import new_credential_id
from issuer.badge.endorsement import build_endorsement, load_endorsement
from issuer.instance.files import write_file_atomic
from issuer.instance.urls import achievement_url
from keys.vc_jwt import decode_jwt, extract_credential

FORMATS = ("di", "jwt")


@dataclass(frozen=True, slots=True)
class Endorsed:
    """An issued endorsement: its id, the signed text, the file written, and our achievement it endorses."""

    id: str
    signed: str
    file: Path
    achievement: str | None  # the slug, when the endorsed achievement is this instance's own


def endorse(issuer: Issuer, path: str | Path, *, fmt: str = "di") -> Endorsed:
    """Issue the EndorsementCredential that ``path`` describes (see the module docstring)."""
    if fmt not in FORMATS:
        raise InputError(Code.USAGE, f"Unknown format {fmt!r}; use one of {', '.join(FORMATS)}.")
    endorsement = load_endorsement(path)
    slug = own_achievement(issuer, endorsement.endorses) if endorsement.endorses_type == "achievement" else None
    definition = issuer.achievement(slug) if slug else None  # ACHIEVEMENT_NOT_FOUND before anything is signed
    now = issuer.now()
    unsigned = build_endorsement(endorsement, issuer=issuer.profile(), credential_id=new_credential_id(), now=now)
    signed = issuer.signer().sign_checked(unsigned, fmt=fmt, now=now)
    file = issuer.settings.out_dir / "endorsements" / f"{endorsement.id}.{'jwt' if fmt == 'jwt' else 'json'}"
    file.parent.mkdir(parents=True, exist_ok=True)
    text = signed if fmt == "jwt" else json.dumps(json.loads(signed), indent=2, ensure_ascii=False) + "\n"
    write_file_atomic(file, text.encode("utf-8"))
    if definition is not None:
        stored = dict(definition.get("endorsements") or {})
        stored[endorsement.id] = signed
        issuer.registry.put_achievement(issuer.issuer_id, slug, {**definition, "endorsements": stored})
    return Endorsed(id=unsigned["id"], signed=signed, file=file, achievement=slug)


def own_achievement(issuer: Issuer, url: str) -> str | None:
    """The slug when ``url`` is one of this instance's achievement ids, else None.

    A URL under this instance's achievements whose slug does not exist is ACHIEVEMENT_NOT_FOUND: endorsing
    an achievement of ours that is not there is a mistake, not another issuer's achievement.
    """
    prefix = achievement_url(issuer.settings, "")
    if not url.startswith(prefix):
        return None
    slug = url[len(prefix):]
    if issuer.registry.get_achievement(issuer.issuer_id, slug) is None:
        raise NotFound(Code.ACHIEVEMENT_NOT_FOUND, f"{url} is this instance's address for an achievement "
                       f"{slug!r}, which does not exist: check `endorses`, or add the achievement first.")
    return slug


def stored_endorsements(definition: dict[str, Any]) -> list[dict[str, Any] | str]:
    """The endorsements stored with an achievement definition: signed JSON as dicts, VC-JWTs as strings."""
    return [text if not text.startswith("{") else json.loads(text)
            for text in (definition.get("endorsements") or {}).values()]


def endorsement_summaries(definition: dict[str, Any]) -> list[dict[str, Any]]:
    """What the achievement page shows of each stored endorsement: endorser, comment, date, id, format."""
    rows = []
    for entry in stored_endorsements(definition):
        credential = entry if isinstance(entry, dict) else extract_credential(decode_jwt(entry).payload)[0]
        issuer = credential.get("issuer")
        subject = credential.get("credentialSubject") or {}
        rows.append({"id": credential.get("id"), "name": credential.get("name"),
                     "issuer": issuer.get("name") if isinstance(issuer, dict) else issuer,
                     "issuer_url": issuer.get("url") if isinstance(issuer, dict) else None,
                     "comment": subject.get("endorsementComment") if isinstance(subject, dict) else None,
                     "date": str(credential.get("validFrom", ""))[:10],
                     "format": "VC-JWT" if isinstance(entry, str) else "Data Integrity"})
    return rows


__all__ = ["Endorsed", "FORMATS", "endorse", "endorsement_summaries", "own_achievement", "stored_endorsements"]
