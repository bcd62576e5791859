"""The ``credential`` part of a report: what people need to see, taken from the credential.

Everything here is untrusted text from the credential; the web templates
escape it and never load its image URLs without consent.
"""

from __future__ import annotations

from typing import Any


def _only(value: Any) -> Any:
    """A list of one read as its item: the same value, spelled as a list."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _text(value: Any, limit: int = 2000) -> str | None:
    value = _only(value)
    if isinstance(value, dict):  # a language map or an object with a name
        value = value.get("name") or value.get("@value") or next(iter(value.values()), None)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value[:limit] if isinstance(value, str) else None


def _number(value: Any) -> float | None:
    value = _only(value)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _image(value: Any) -> str | None:
    value = _first(value)
    if isinstance(value, dict):
        value = value.get("id")
    return value[:2000] if isinstance(value, str) else None


def _recipient_name(subject: dict[str, Any]) -> str | None:
    identifiers = subject.get("identifier")
    for item in identifiers if isinstance(identifiers, list) else [identifiers]:
        if isinstance(item, dict) and item.get("identityType") == "name" and item.get("hashed") is False:
            return _text(item.get("identityHash"), 200)
    return _text(subject.get("name"), 200)


def summarize(credential: dict[str, Any]) -> dict[str, Any]:
    """id, name, issuer {id, name}, achievement, recipient, credits and dates of a credential."""
    issuer = credential.get("issuer")
    issuer = issuer if isinstance(issuer, dict) else {"id": issuer}
    subject = _first(credential.get("credentialSubject"))
    subject = subject if isinstance(subject, dict) else {}
    achievement = _only(subject.get("achievement"))
    achievement = achievement if isinstance(achievement, dict) else {}
    criteria = _only(achievement.get("criteria"))
    summary = {
        "id": _text(credential.get("id"), 500),
        "name": _text(credential.get("name"), 500) or _text(achievement.get("name"), 500),
        "issuer": {"id": _text(issuer.get("id"), 500), "name": _text(issuer.get("name"), 500)},
        "achievement": {
            "id": _text(achievement.get("id"), 500),
            "name": _text(achievement.get("name"), 500),
            "achievementType": _text(achievement.get("achievementType"), 100),
            "description": _text(achievement.get("description")),
            "criteria": _text(criteria.get("narrative")) if isinstance(criteria, dict) else None,
            "creditsAvailable": _number(achievement.get("creditsAvailable")),
            "image": _image(achievement.get("image")),
        },
        "recipient": {"id": _text(subject.get("id"), 500), "name": _recipient_name(subject)},
        "creditsEarned": _number(subject.get("creditsEarned")),
        "validFrom": _text(credential.get("validFrom") or credential.get("issuanceDate"), 64),
        "validUntil": _text(credential.get("validUntil") or credential.get("expirationDate"), 64),
        # OB 3.0's awardedDate: the day of the award when validity starts another day (an early renewal).
        "awardedDate": _text(credential.get("awardedDate"), 64),
    }
    return summary


def summarize_presentation(presentation: dict[str, Any], holder: str | None) -> dict[str, Any]:
    """What a report says about a presentation: its holder and how many credentials it carries."""
    credentials = presentation.get("verifiableCredential")
    count = len(credentials) if isinstance(credentials, list) else int(credentials is not None)
    return {"type": "VerifiablePresentation", "id": _text(presentation.get("id"), 500),
            "holder": _text(holder, 500), "credentials": count}


__all__ = ["summarize", "summarize_presentation"]
