"""The W3C VC Data Model 2.0 rules that JSON-LD processing alone does not enforce.

Canonicalization already rejects undefined terms, redefined protected terms,
malformed value objects and non-IRI identifiers. What it lets through — an
``evidence`` without a ``type``, a ``credentialSchema`` without an ``id``, an
empty ``credentialSubject``, ``validUntil`` before ``validFrom``, a
``relatedResource`` without a digest — is checked here, once, for both sides:
the issuer refuses to sign such a credential (VC API: 422) and the verifier
fails it (``schema`` check). Each problem names the rule it breaks.

Here related-resource digests are checked for form; ``verifier.related_resources``
retrieves the resources (through the injected fetch) and compares them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from errors import Code, InputError
from verifier.validity import parse_datetime

VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"

# An absolute URI (RFC 3986 scheme ":" rest) without whitespace: what "a URL" means in VC 2.0 §4.4.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$")
# XML Schema 1.1 dateTimeStamp: a dateTime that must carry a time zone.
_DATE_TIME_STAMP = re.compile(r"^-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
                              r"T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))$")
# xsd:dateTime (VC 1.1 issuanceDate / expirationDate): the zone is optional.
_DATE_TIME = re.compile(r"^-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
                        r"T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")
_SRI = re.compile(r"^(sha256|sha384|sha512)-[A-Za-z0-9+/_-]+={0,2}$")
_MULTIBASE = re.compile(r"^[uz][A-Za-z0-9_-]+$")
_LANGUAGE_KEYS = {"@value", "@language", "@direction"}
# Objects that VC 2.0 §4.5 says MUST have a type; credentialSchema also needs an id (§4.11).
_TYPED = ("credentialStatus", "termsOfUse", "evidence", "refreshService", "credentialSchema")


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken rule: ``rule`` is the property path, ``message`` one sentence for people."""

    rule: str
    message: str


class InvalidCredential(InputError):
    """A readable credential that breaks a data model rule (HTTP 422: well-formed, not acceptable)."""

    http_status = 422


def is_url(value: Any) -> bool:
    """True for a single absolute URL string (``https://…``, ``did:…``, ``urn:…``)."""
    return isinstance(value, str) and bool(_URL.match(value))


def is_date_time_stamp(value: Any) -> bool:
    """True for an XML Schema dateTimeStamp (a date-time with a time zone)."""
    return isinstance(value, str) and bool(_DATE_TIME_STAMP.match(value))


def as_list(value: Any) -> list[Any]:
    """``value`` as a list: a list stays, anything else becomes a one-item list (None: empty)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def contexts_of(document: dict[str, Any]) -> list[Any]:
    """The document's ``@context`` as a list (empty when absent)."""
    return as_list(document.get("@context"))


def check_contexts(document: dict[str, Any], what: str) -> list[Problem]:
    """``@context``: present, the VC base context first, then URLs or objects (VC 2.0 §4.3)."""
    contexts = contexts_of(document)
    if not contexts or contexts[0] not in (VC_V2, VC_V1):
        return [Problem("@context", f"The {what}'s first @context must be {VC_V2}.")]
    bad = [c for c in contexts[1:] if not (is_url(c) or isinstance(c, dict))]
    if bad:
        return [Problem("@context", f"Every further @context of the {what} must be a URL or an object.")]
    return []


def check_types(document: dict[str, Any], required: str, what: str) -> list[Problem]:
    """``type``: one or more strings, including ``required`` (VC 2.0 §4.5)."""
    types = document.get("type")
    values = as_list(types)
    if not values or not all(isinstance(t, str) and t for t in values):
        return [Problem("type", f"The {what} must have a type: one or more strings.")]
    if required not in values:
        return [Problem("type", f"The {what}'s type must include {required}.")]
    return []


def _check_text(value: Any, rule: str) -> list[Problem]:
    # VC 2.0 §4.6 / §11.1: a string, a language value object, or a list of them.
    for item in as_list(value):
        if isinstance(item, str):
            continue
        if (isinstance(item, dict) and isinstance(item.get("@value"), str)
                and set(item) <= _LANGUAGE_KEYS):
            continue
        return [Problem(rule, f"{rule} must be a string or a language value object "
                              "(@value with @language and @direction only).")]
    return []


def _check_id(value: dict[str, Any], rule: str, *, required: bool = False) -> list[Problem]:
    if "id" not in value:
        return [Problem(f"{rule}.id", f"{rule} needs an id (a URL).")] if required else []
    if not is_url(value["id"]):
        return [Problem(f"{rule}.id", f"{rule}.id must be a single URL.")]
    return []


def _check_typed(credential: dict[str, Any], name: str) -> list[Problem]:
    if name not in credential:
        return []
    items = as_list(credential[name])
    if not items or not all(isinstance(item, dict) for item in items):
        return [Problem(name, f"{name} must be one or more objects.")]
    problems: list[Problem] = []
    for item in items:
        types = as_list(item.get("type"))
        if not types or not all(isinstance(t, str) and t for t in types):
            problems.append(Problem(f"{name}.type", f"Each {name} must have a type."))
        problems += _check_id(item, name, required=name == "credentialSchema")
    return problems


def _check_issuer(credential: dict[str, Any]) -> list[Problem]:
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        problems = _check_id(issuer, "issuer", required=True)
        for field in ("name", "description"):
            if field in issuer:
                problems += _check_text(issuer[field], f"issuer.{field}")
        return problems
    if not is_url(issuer):
        return [Problem("issuer", "The issuer must be a URL or an object whose id is a URL.")]
    return []


def _check_subjects(credential: dict[str, Any]) -> list[Problem]:
    if "credentialSubject" not in credential:
        return [Problem("credentialSubject", "The credential must have a credentialSubject.")]
    subjects = as_list(credential["credentialSubject"])
    if not subjects or not all(isinstance(s, dict) and s for s in subjects):
        return [Problem("credentialSubject", "Each credentialSubject must be an object making at least one claim.")]
    problems: list[Problem] = []
    for subject in subjects:
        problems += _check_id(subject, "credentialSubject")
    return problems


def _check_validity(credential: dict[str, Any], v2: bool) -> list[Problem]:
    names = ("validFrom", "validUntil") if v2 else ("issuanceDate", "expirationDate")
    pattern = _DATE_TIME_STAMP if v2 else _DATE_TIME
    problems = [Problem(name, f"{name} must be an XML Schema dateTimeStamp such as 2026-01-31T12:00:00Z.")
                for name in names if name in credential
                and not (isinstance(credential[name], str) and pattern.match(credential[name]))]
    if problems or not v2 or not all(name in credential for name in names):
        return problems
    start, end = parse_datetime(credential["validFrom"]), parse_datetime(credential["validUntil"])
    if start is not None and end is not None and start > end:
        return [Problem("validUntil", "validUntil must not be earlier than validFrom.")]
    return []


def _hashable(value: Any) -> str:
    """A hashable stand-in for any JSON value (ids in hostile input may be lists or objects)."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def _check_related_resources(credential: dict[str, Any]) -> list[Problem]:
    if "relatedResource" not in credential:
        return []
    items = as_list(credential["relatedResource"])
    if not items or not all(isinstance(item, dict) for item in items):
        return [Problem("relatedResource", "relatedResource must be one or more objects, not URLs.")]
    problems: list[Problem] = []
    seen: set[str] = set()
    for item in items:
        problems += _check_id(item, "relatedResource", required=True)
        identifier = _hashable(item.get("id"))
        if identifier in seen:
            problems.append(Problem("relatedResource.id", "Each relatedResource id must be unique."))
        seen.add(identifier)
        sri, multibase = item.get("digestSRI"), item.get("digestMultibase")
        if sri is None and multibase is None:
            problems.append(Problem("relatedResource.digest",
                                    "Each relatedResource needs a digestSRI or a digestMultibase."))
        if sri is not None and not all(isinstance(d, str) and _SRI.match(d) for d in as_list(sri)):
            problems.append(Problem("relatedResource.digestSRI",
                                    "digestSRI must be sha256-, sha384- or sha512- followed by base64."))
        if multibase is not None and not all(isinstance(d, str) and _MULTIBASE.match(d)
                                             for d in as_list(multibase)):
            problems.append(Problem("relatedResource.digestMultibase",
                                    "digestMultibase must be a multibase string (u… or z…)."))
    return problems


def data_model_problems(credential: Any) -> list[Problem]:
    """Every VC Data Model rule ``credential`` breaks (empty when it conforms)."""
    if not isinstance(credential, dict):
        return [Problem("credential", "A verifiable credential must be a JSON object.")]
    problems = check_contexts(credential, "credential") + check_types(credential, "VerifiableCredential",
                                                                     "credential")
    v2 = contexts_of(credential)[:1] == [VC_V2]
    if "id" in credential and not is_url(credential["id"]):
        problems.append(Problem("id", "The credential's id must be a single URL."))
    problems += _check_issuer(credential) + _check_subjects(credential)
    for field in ("name", "description"):
        if field in credential:
            problems += _check_text(credential[field], field)
    problems += _check_validity(credential, v2)
    for name in _TYPED:
        problems += _check_typed(credential, name)
    problems += _check_related_resources(credential)
    return problems


def check_data_model(credential: Any) -> None:
    """Raise ``InvalidCredential`` (``DATA_MODEL_INVALID``, the rule named) when a rule is broken."""
    problems = data_model_problems(credential)
    if problems:
        first = problems[0]
        raise InvalidCredential(Code.DATA_MODEL_INVALID, f"Not a valid verifiable credential: {first.message}",
                                rule=first.rule, problems=[{"rule": p.rule, "message": p.message}
                                                           for p in problems[:20]])


__all__ = ["InvalidCredential", "Problem", "VC_V1", "VC_V2", "as_list", "check_contexts", "check_data_model",
           "check_types", "contexts_of", "data_model_problems", "is_date_time_stamp", "is_url"]
