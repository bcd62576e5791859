"""Embedded EndorsementCredentials (OB 3.0 §B.1.8, verification §9.2): each checked as a credential.

An Open Badge may carry endorsements of itself, of its achievement and of its
issuer. OB 3.0's verification steps verify every one; Badgesmith reports
each in its own nested section, and a credential whose endorsement fails is
not verified (an employer would otherwise read a forged endorsement as real).
Endorsements of endorsements are not followed (one level, capped in count).
"""

from __future__ import annotations

from typing import Any

from errors import Code
from verifier.clr import NestedVerifier
from verifier.report import FAILED, Check, Report

ENDORSEMENT_CONTAINER = "endorsement"
MAX_ENDORSEMENTS = 50


def endorsements_of(credential: dict[str, Any]) -> list[tuple[str, Any]]:
    """(where, endorsement) for the credential's, its achievement's and its issuer's endorsements."""
    places: list[tuple[str, Any]] = [("endorsement", credential.get("endorsement"))]
    subject = credential.get("credentialSubject")
    if isinstance(subject, dict) and isinstance(subject.get("achievement"), dict):
        places.append(("credentialSubject.achievement.endorsement", subject["achievement"].get("endorsement")))
    if isinstance(credential.get("issuer"), dict):
        places.append(("issuer.endorsement", credential["issuer"].get("endorsement")))
    found = []
    for where, value in places:
        for index, entry in enumerate(value if isinstance(value, list) else [value] if value else []):
            found.append((f"{where}[{index}]", entry))
    return found


def verify_endorsements(verifier: NestedVerifier, credential: dict[str, Any]) -> tuple[tuple[tuple[str, Report], ...],
                                                                                  list[str]]:
    """One nested report per endorsement, and a warning naming each one that failed."""
    found = endorsements_of(credential)
    if len(found) > MAX_ENDORSEMENTS:
        report = Report(checks=(Check("json", FAILED, Code.INPUT_TOO_LARGE.value,
                                      f"The credential carries {len(found)} endorsements, more than the "
                                      f"{MAX_ENDORSEMENTS} Badgesmith checks."),), container=ENDORSEMENT_CONTAINER)
        return (("endorsement", report),), ["Too many endorsements to check."]
    embedded, warnings = [], []
    for where, entry in found:
        if isinstance(entry, dict):
            report = verifier.verify_credential(entry, container=ENDORSEMENT_CONTAINER)
            name = entry.get("id") if isinstance(entry.get("id"), str) else where
        else:
            report = Report(checks=(Check("json", FAILED, Code.JSON_NOT_OBJECT.value,
                                          "This endorsement is not a credential object."),),
                            container=ENDORSEMENT_CONTAINER)
            name = where
        embedded.append((str(name)[:500], report))
        warnings.extend(failure_warnings(name, where, report))
    return tuple(embedded), warnings


def failure_warnings(name: Any, where: str, report: Report) -> list[str]:
    """The warning that names an endorsement which did not verify, and why (none when it verified)."""
    if report.verified:
        return []
    failed = report.failures()
    reason = failed[0].message if failed else "it did not verify"
    return [f"The endorsement {str(name)[:200]} ({where}) did not verify: {reason}"]


__all__ = ["ENDORSEMENT_CONTAINER", "endorsements_of", "failure_warnings", "verify_endorsements"]
