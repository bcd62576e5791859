"""Verifiable Presentations: the holder's ``authentication`` proof, then every credential inside.

A presentation is verified when its contexts and structure follow the VC
Data Model, it carries a Data Integrity proof with purpose
``authentication`` whose ``challenge`` and ``domain`` are the ones the
verifier asked for (so a captured presentation cannot be replayed
elsewhere), the proof's key belongs to the ``holder`` when one is named, and
each embedded credential verifies on its own. The result is an ordinary
``Report`` whose ``embedded`` entries are the credentials' reports.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

from errors import BadgesmithError, Code, CredentialError, InputError
from keys.data_integrity import suite_of, verify_proof, without_proof
from keys.did import resolve_verification_method
from keys.rdfc import DEFAULT_LIMITS, Limits, canonicalize
from verifier.data_model import VC_V2, as_list, check_contexts, check_types, contexts_of, is_url
from verifier.clr import MAX_EMBEDDED
from verifier.proofs import MAX_PROOFS
from verifier.report import FAILED, PASSED, WARNING, Check, Report
from verifier.summary import summarize_presentation

PRESENTATION_TYPE = "VerifiablePresentation"
ENVELOPED_PRESENTATION = "EnvelopedVerifiablePresentation"
ENVELOPED_CREDENTIAL = "EnvelopedVerifiableCredential"
_JWT_MEDIA_TYPES = {"application/vc+jwt", "application/jwt", "application/vc-ld+jwt"}


def is_presentation(document: Any) -> bool:
    """True for a JSON object typed VerifiablePresentation (what a wallet hands over)."""
    return isinstance(document, dict) and PRESENTATION_TYPE in as_list(document.get("type"))


def envelope_payload(credential: dict[str, Any]) -> bytes | None:
    """The JWT inside an ``EnvelopedVerifiableCredential`` (None for an ordinary credential)."""
    if ENVELOPED_CREDENTIAL not in as_list(credential.get("type")):
        return None
    if contexts_of(credential)[:1] != [VC_V2]:
        raise InputError(Code.CONTEXT_MISSING, f"An enveloped credential's first @context must be {VC_V2}.")
    data_url = credential.get("id")
    if not isinstance(data_url, str) or not data_url.startswith("data:") or "," not in data_url:
        raise InputError(Code.CONTAINER_UNKNOWN, "An enveloped credential's id must be a data: URL.")
    header, _, data = data_url[5:].partition(",")
    media_type, *parameters = header.split(";")
    if media_type not in _JWT_MEDIA_TYPES:
        raise InputError(Code.CONTAINER_UNKNOWN, f"Enveloped credentials of type {media_type[:60]!r} are not "
                                                 "supported; use application/vc+jwt.")
    try:
        return base64.b64decode(data, validate=True) if "base64" in parameters else unquote_to_bytes(data)
    except binascii.Error:
        raise InputError(Code.CONTAINER_UNKNOWN, "The enveloped credential's data: URL is not valid base64.") from None




def _fail(check: str, code: Code, message: str) -> Check:
    return Check(check, FAILED, code.value, message)


def _holder_id(presentation: dict[str, Any]) -> tuple[str | None, Check | None]:
    holder = presentation.get("holder")
    if holder is None:
        return None, None
    value = holder.get("id") if isinstance(holder, dict) else holder
    if not is_url(value):
        return None, _fail("schema", Code.PRESENTATION_INVALID,
                           "The holder must be a URL or an object whose id is a URL.")
    return value, None


def _check_structure(presentation: dict[str, Any]) -> list[Check]:
    problems = check_types(presentation, PRESENTATION_TYPE, "presentation")
    if problems:
        return [_fail("schema", Code.PRESENTATION_INVALID, problems[0].message)]
    if "id" in presentation and not is_url(presentation["id"]):
        return [_fail("schema", Code.PRESENTATION_INVALID, "The presentation's id must be a single URL.")]
    credentials = as_list(presentation.get("verifiableCredential"))
    if len(credentials) > MAX_EMBEDDED:
        return [_fail("schema", Code.PRESENTATION_INVALID,
                      f"The presentation holds {len(credentials)} credentials; at most {MAX_EMBEDDED} are checked.")]
    if not all(isinstance(c, dict) for c in credentials):
        return [_fail("schema", Code.PRESENTATION_INVALID,
                      "verifiableCredential must hold credential objects, not strings or URLs.")]
    return [Check("schema", PASSED, Code.SCHEMA_OK.value, "A well-formed Verifiable Presentation.")]


def _check_proof(presentation: dict[str, Any], canonical: str, *, holder: str | None, challenge: str | None,
                 domain: str | None, loader: Any, fetch: Callable[[str], bytes], limits: Limits,
                 require_proof: bool) -> Check:
    proofs = as_list(presentation.get("proof"))
    if not proofs and not require_proof:
        return Check("proof", WARNING, Code.PROOF_MISSING.value,
                     "The presentation is not signed by its holder: each credential in it is checked on its own.")
    if not proofs:
        return _fail("proof", Code.PROOF_MISSING, "The presentation carries no proof, so nobody can tell who "
                                                  "presented it.")
    if len(proofs) > MAX_PROOFS:
        return _fail("proof", Code.PROOF_MALFORMED,
                     f"The presentation carries {len(proofs)} proofs; at most {MAX_PROOFS} are checked.")
    try:
        for proof in proofs:
            if not isinstance(proof, dict) or suite_of(proof) is None:
                raise CredentialError(Code.PROOF_TYPE_UNSUPPORTED,
                                      "The presentation's proof is not of a suite Badgesmith implements.")
            if proof.get("proofPurpose") != "authentication":
                raise CredentialError(Code.PROOF_PURPOSE_INVALID,
                                      "A presentation's proof must have the purpose authentication.")
            if challenge is not None and proof.get("challenge") != challenge:
                raise CredentialError(Code.CHALLENGE_MISMATCH,
                                      "The presentation's proof does not carry the challenge this verifier asked "
                                      "for (a replayed or foreign presentation).")
            if domain is not None and domain not in as_list(proof.get("domain")):
                raise CredentialError(Code.DOMAIN_MISMATCH,
                                      "The presentation's proof was made for another domain.")
            vm = resolve_verification_method(proof.get("verificationMethod"), fetch=fetch, purpose="authentication")
            if holder is not None and vm.controller != holder:
                raise CredentialError(Code.HOLDER_KEY_MISMATCH,
                                      f"The presentation was signed by {str(vm.controller)[:120]}, "
                                      f"not by its holder {holder[:120]}.")
            if not verify_proof(presentation, proof, vm.public_key, loader=loader, limits=limits,
                                canonical_document=canonical):
                raise CredentialError(Code.PROOF_INVALID,
                                      "The presentation's signature does not match: it was changed after signing.")
    except BadgesmithError as error:
        return _fail("proof", error.code, error.message)
    return Check("proof", PASSED, Code.PROOF_OK.value, "The holder's authentication proof matches the presentation.")


def verify_presentation(presentation: Any, *, loader: Any, fetch: Callable[[str], bytes],
                        verify_credential: Callable[[dict[str, Any]], Report], challenge: str | None = None,
                        domain: str | None = None, limits: Limits = DEFAULT_LIMITS,
                        require_proof: bool = True) -> Report:
    """The report on ``presentation``; embedded credentials are verified with ``verify_credential``.

    ``require_proof=False`` (a presentation file handed to an employer, not a
    live exchange with a challenge) makes a missing holder proof a warning.
    """
    checks = [Check("container", PASSED, Code.CONTAINER_OK.value, "Read a presentation JSON document.")]
    if not isinstance(presentation, dict):
        return Report(checks=(*checks, _fail("json", Code.JSON_NOT_OBJECT, "A presentation must be a JSON object.")),
                      container="json")
    checks.append(Check("json", PASSED, Code.JSON_OK.value, "The presentation is a well-formed JSON object."))
    if ENVELOPED_PRESENTATION in as_list(presentation.get("type")):
        checks.append(_fail("schema", Code.PRESENTATION_INVALID,
                            "Enveloped presentations (JWT, COSE) are not supported; send one with a Data "
                            "Integrity proof."))
        return Report(checks=tuple(checks), container="json")
    problems = check_contexts(presentation, "presentation")
    canonical = None
    if problems:
        checks.append(_fail("context", Code.CONTEXT_MISSING, problems[0].message))
    else:
        try:
            canonical = canonicalize(without_proof(presentation), loader=loader, limits=limits)
            checks.append(Check("context", PASSED, Code.CONTEXT_OK.value,
                                "Every context is pinned and every term is defined."))
        except BadgesmithError as error:
            checks.append(_fail("context", error.code, error.message))
    checks += _check_structure(presentation)
    holder, problem = _holder_id(presentation)
    if problem is not None:
        checks.append(problem)
    if canonical is not None and problem is None:
        checks.append(_check_proof(presentation, canonical, holder=holder, challenge=challenge, domain=domain,
                                   loader=loader, fetch=fetch, limits=limits, require_proof=require_proof))
    embedded = []
    if all(c.outcome != FAILED for c in checks):
        for number, credential in enumerate(as_list(presentation.get("verifiableCredential")), start=1):
            embedded.append((str(credential.get("id") or f"verifiableCredential[{number}]")[:200],
                             verify_credential(credential)))
    fmt = "di-eddsa-rdfc-2022" if any(c.check == "proof" and c.outcome == PASSED for c in checks) else None
    return Report(checks=tuple(checks), format=fmt, container="json", embedded=tuple(embedded),
                  credential=summarize_presentation(presentation, holder))


__all__ = ["ENVELOPED_CREDENTIAL", "ENVELOPED_PRESENTATION", "PRESENTATION_TYPE", "envelope_payload",
           "is_presentation", "verify_presentation"]
