"""CLR 2.0 ``ClrCredential`` (a learner's transcript): recognise it, check its shape, and
verify every credential it embeds as a credential of its own.

The reader owns the format: ``issuer/transcript.py`` writes what this module
reads (``CLR_CONTEXT``, ``CLR_TYPE``, ``MAX_EMBEDDED``).

The transcript's own checks (context, proof, validity, status, …) are the
pipeline's; this module adds two things to them:

- ``check_clr_schema``: the structural rules of the CLR 2.0 JSON Schema that
  matter to a verifier (a ``ClrSubject`` naming the learner, at least one
  embedded credential, well-formed ``Association``s). The official CLR
  schema is in no package Badgesmith can ship, so the test suite holds our
  own transcripts to it instead.
- ``verify_embedded``: each ``verifiableCredential`` entry (an object with
  an embedded proof, or a compact VC-JWT string) through
  ``Verifier.verify_credential``, one nested report per entry. Only one level
  deep (a transcript inside a transcript fails, it is not walked), and at most
  ``MAX_EMBEDDED`` entries, so a hostile file cannot multiply the work.

The outer proof covers the embedded credentials too, so changing one of them
breaks both that credential's own proof and the transcript's; re-signing the
transcript over a forged credential still leaves that one entry failing, and
the report names it.
"""

from __future__ import annotations

from typing import Any, Protocol

from errors import BadgesmithError, Code
from keys.vc_jwt import decode_jwt, extract_credential
from verifier.report import FAILED, PASSED, Check, Report


class NestedVerifier(Protocol):
    """The pipeline, passed in to check a nested credential (``Verifier`` is one). The pipeline imports
    this module and ``endorsements``, so they name only what they call, not ``verifier.pipeline``."""

    def verify_credential(self, credential: dict[str, Any], *, container: str = ...,
                          jwt: str | None = ..., email: str | None = ...) -> Report: ...


CLR_TYPE = "ClrCredential"
CLR_SUBJECT_TYPE = "ClrSubject"
CLR_CONTEXT = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
CLR_SCHEMA = "https://purl.imsglobal.org/spec/clr/v2p0/schema/json/clr_v2p0_clrcredential_schema.json"
EMBEDDED_CONTAINER = "clr"
MAX_EMBEDDED = 500
ASSOCIATION_TYPES = frozenset({"exactMatchOf", "isChildOf", "isParentOf", "isPartOf", "isPeerOf",
                               "isRelatedTo", "precedes", "replacedBy"})


def _types(value: Any) -> set[str]:
    if isinstance(value, str):
        return {value}
    return {v for v in value if isinstance(v, str)} if isinstance(value, list) else set()


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def is_clr(credential: dict[str, Any]) -> bool:
    """True when the credential says it is a CLR 2.0 ``ClrCredential``."""
    return CLR_TYPE in _types(credential.get("type"))


def embedded_credentials(credential: dict[str, Any]) -> list[Any]:
    """The ``credentialSubject.verifiableCredential`` entries (objects or JWT strings), as given."""
    subject = credential.get("credentialSubject")
    return _as_list(subject.get("verifiableCredential")) if isinstance(subject, dict) else []


def check_clr_schema(credential: dict[str, Any]) -> Check:
    """The ``schema`` check for a ClrCredential (CLR 2.0 §ClrCredential / §ClrSubject rules)."""
    problems = _clr_problems(credential)
    if problems:
        shown = "; ".join(problems[:3])
        return Check("schema", FAILED, Code.SCHEMA_INVALID.value,
                     f"The transcript does not match the CLR 2.0 ClrCredential rules: {shown}.")
    count = len(embedded_credentials(credential))
    return Check("schema", PASSED, Code.SCHEMA_OK.value,
                 f"A well-formed CLR 2.0 ClrCredential bundling {count} credential(s).")


def _clr_problems(credential: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if not isinstance(credential.get("name"), (str, dict)):
        problems.append("$.name is required")
    if not isinstance(credential.get("validFrom"), str):
        problems.append("$.validFrom is required")
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict):
        return problems + ["$.credentialSubject must be one ClrSubject object"]
    if CLR_SUBJECT_TYPE not in _types(subject.get("type")):
        problems.append("$.credentialSubject.type must include ClrSubject")
    if not subject.get("id") and not subject.get("identifier"):
        problems.append("$.credentialSubject needs an id or an identifier naming the learner")
    entries = embedded_credentials(credential)
    if not entries:
        problems.append("$.credentialSubject.verifiableCredential must hold at least one credential")
    for i, entry in enumerate(entries):
        if not isinstance(entry, (dict, str)):
            problems.append(f"$.credentialSubject.verifiableCredential[{i}] is not a credential")
    for i, association in enumerate(_as_list(subject.get("association"))):
        where = f"$.credentialSubject.association[{i}]"
        if not isinstance(association, dict):
            problems.append(f"{where} is not an object")
        elif association.get("type") != "Association":
            problems.append(f"{where}.type must be Association")
        elif not isinstance(association.get("associationType"), str) or (
                association["associationType"] not in ASSOCIATION_TYPES):
            problems.append(f"{where}.associationType is not a CLR association type")
        elif not isinstance(association.get("sourceId"), str) or not isinstance(association.get("targetId"), str):
            problems.append(f"{where} needs a sourceId and a targetId")
    return problems


def _entry_id(entry: Any, index: int) -> str:
    if isinstance(entry, dict) and isinstance(entry.get("id"), str):
        return entry["id"][:500]
    return f"verifiableCredential[{index}]"


def _unreadable(message: str, code: Code) -> Report:
    return Report(checks=(Check("container", PASSED, Code.CONTAINER_OK.value, "Read from inside a CLR transcript."),
                          Check("json", FAILED, code.value, message)),
                  container=EMBEDDED_CONTAINER)


def _verify_entry(verifier: NestedVerifier, entry: Any, *, email: str | None) -> tuple[str | None, Report]:
    if isinstance(entry, str):
        try:
            credential = extract_credential(decode_jwt(entry)[1])[0]
        except BadgesmithError as error:
            return None, _unreadable(error.message, error.code)
        report = verifier.verify_credential(credential, container=EMBEDDED_CONTAINER, jwt=entry, email=email)
        return credential.get("id") if isinstance(credential.get("id"), str) else None, report
    if not isinstance(entry, dict):
        return None, _unreadable("This entry is not a credential (a JSON object or a VC-JWT).",
                                 Code.JSON_NOT_OBJECT)
    if is_clr(entry):
        # One level only: a nested transcript would let a small file fan out into much work.
        return None, Report(checks=(Check("schema", FAILED, Code.EMBEDDED_INVALID.value,
                                          "A transcript inside a transcript is not verified."),),
                            container=EMBEDDED_CONTAINER)
    return None, verifier.verify_credential(entry, container=EMBEDDED_CONTAINER, email=email)


def verify_embedded(verifier: NestedVerifier, credential: dict[str, Any], *,
                    email: str | None = None) -> tuple[tuple[tuple[str, Report], ...], list[str]]:
    """One report per embedded credential, and warnings naming each one that failed.

    Returns ``(embedded, warnings)``: ``embedded`` pairs each entry's id
    (``verifiableCredential[i]`` when it has none) with its report.
    """
    entries = embedded_credentials(credential)
    if len(entries) > MAX_EMBEDDED:
        message = (f"The transcript embeds {len(entries)} credentials, more than the {MAX_EMBEDDED} "
                   "Badgesmith checks; none of them was verified.")
        return (("verifiableCredential", _unreadable(message, Code.INPUT_TOO_LARGE)),), [message]
    embedded: list[tuple[str, Report]] = []
    warnings: list[str] = []
    unreachable: dict[str, list[str]] = {}  # a status list's failure -> the entries it left unchecked
    for index, entry in enumerate(entries):
        jwt_id, report = _verify_entry(verifier, entry, email=email)
        entry_id = jwt_id or _entry_id(entry, index)
        embedded.append((entry_id, report))
        if not report.verified:
            failed = report.failures()
            if failed and all(c.code == Code.STATUS_UNREACHABLE.value for c in failed):
                unreachable.setdefault(failed[0].message, []).append(entry_id)
                continue
            reason = failed[0].message if failed else "it did not verify"
            warnings.append(f"The embedded credential {entry_id} did not verify: {reason}")
    # One warning per list that could not be fetched, however many credentials name it.
    for message, ids in unreachable.items():
        shown = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
        warnings.append(f"For {len(ids)} embedded credential{'s' if len(ids) > 1 else ''} ({shown}): {message}")
    return tuple(embedded), warnings


__all__ = ["ASSOCIATION_TYPES", "CLR_CONTEXT", "CLR_SCHEMA", "CLR_SUBJECT_TYPE", "CLR_TYPE",
           "EMBEDDED_CONTAINER", "MAX_EMBEDDED", "NestedVerifier", "check_clr_schema", "embedded_credentials", "is_clr",
           "verify_embedded"]
