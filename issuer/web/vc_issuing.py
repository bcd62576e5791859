"""Issuing any verifiable credential (W3C VC API), not only Open Badges built from an achievement.

The caller sends a credential; Badgesmith fills in what only the issuer knows
(its DID as ``issuer``, an ``id`` when there is none), checks the VC Data
Model rules, and signs it in the same registry transaction that allocates the
status entry the caller asked for — exactly as ``badgesmith issue`` does
(random index, list served at ``<base url>/status/<purpose>/<n>``). The signed
credential is self-checked with the verifier and stored like any other; it
has no achievement and no e-mail recipient.

The issuer alone chooses status entries. A ``credentialStatus`` the caller
put in the credential is replaced by an entry the issuer allocates (its
``statusPurpose`` kept when it is revocation or suspension, revocation
otherwise): a caller can neither reuse another credential's list and index
nor issue a credential its issuer cannot revoke. A status entry the issuer
cannot replace (``credentialStatus`` spelled as an IRI or through an alias)
is refused by canonicalization's spelling rule (``JSON_RESPELLED``) when it
is signed, and the transaction that allocated its entry stores nothing.

``fmt="jwt"`` signs a VC 2.0 credential as a VC-JWT with the ``jwt_alg`` key
(the Ed25519 key for EdDSA) and returns it enveloped, as VC 2.0 §4.13 carries
a secured credential in JSON: an ``EnvelopedVerifiableCredential`` whose id is
``data:application/vc+jwt,<token>``.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime
from typing import Any, Callable

from errors import Code, CredentialError, InputError, NotFound
from issuer.awarding.documents import forget_status_lists
from issuer.awarding.issuing import STATUS_URL_TEMPLATE, Issuer
from issuer.awarding.signing import self_check_failures
from issuer.awarding.status_changes import publish_status_lists
from issuer.badge.credential import new_credential_id
from issuer.badge.sign import sign_credential
from issuer.badge.status import PURPOSES, Purpose, StatusEntry
from issuer.store.models import CredentialRecord, NewCredential
from keys.data_integrity import format_created
from verifier.data_model import VC_V1, VC_V2, InvalidCredential, as_list, check_data_model, contexts_of
from verifier.presentation import ENVELOPED_CREDENTIAL
from verifier.related_resources import require_matching_related_resources
from verifier.validity import parse_datetime

PROOF_FORMATS = ("di", "ed25519-2020", "jwt")
ENVELOPE_MEDIA_TYPE = "application/vc+jwt"
DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v2"
STATUS_ENTRY_TYPE = "BitstringStatusListEntry"
STATUS_CONTEXT = "https://www.w3.org/ns/credentials/status/v1"  # the Bitstring terms, for VC 1.1 credentials
MAX_ID_LENGTH = 200  # the registry's key


def status_purpose_option(option: Any) -> str | None:
    """The purpose asked for by ``options.credentialStatus`` (None when no entry is wanted)."""
    if option is None:
        return None
    if not isinstance(option, dict) or option.get("type") != STATUS_ENTRY_TYPE:
        raise InputError(Code.STATUS_ENTRY_INVALID,
                         f"options.credentialStatus must be {{\"type\": \"{STATUS_ENTRY_TYPE}\", "
                         "\"statusPurpose\": \"revocation\" or \"suspension\"}.")
    purpose = option.get("statusPurpose", "revocation")
    if purpose not in PURPOSES:
        raise InputError(Code.STATUS_ENTRY_INVALID,
                         f"statusPurpose {str(purpose)[:40]!r} is not supported; use revocation or suspension.")
    return purpose


def status_purposes(credential: dict[str, Any], option: str | None) -> list[Purpose]:
    """The entries the issuer allocates: the one ``options`` asks for, and one per entry the caller sent.

    A ``BitstringStatusListEntry`` the caller sent keeps its purpose (checked as
    ``options.credentialStatus`` is); any other entry becomes a revocation entry.
    Its list, index and id are never used.
    """
    wanted = [option] if option else []
    for entry in as_list(credential.get("credentialStatus")):
        bitstring = isinstance(entry, dict) and entry.get("type") == STATUS_ENTRY_TYPE
        wanted.append(status_purpose_option(entry) if bitstring else "revocation")
    return list(dict.fromkeys(wanted))  # type: ignore[arg-type]


def prepare_credential(issuer: Issuer, credential: Any, *, fmt: str, now: datetime) -> dict[str, Any]:
    """The credential as it will be signed: issuer and id filled in, contexts the proof needs, rules checked."""
    if not isinstance(credential, dict):
        raise InputError(Code.JSON_NOT_OBJECT, "credential must be a JSON object (the unsigned credential).")
    credential = copy.deepcopy(credential)
    named = credential.get("issuer")
    if "issuer" not in credential:
        credential["issuer"] = issuer.did
    elif isinstance(named, dict) and "id" not in named:
        named["id"] = issuer.did
    credential.setdefault("id", new_credential_id())
    check_data_model(credential)
    named_id = named.get("id") if isinstance(named, dict) else named
    if named_id not in (None, issuer.did):
        raise InvalidCredential(Code.ISSUER_MISMATCH,
                                f"The credential names {str(named_id)[:120]} as its issuer; this instance signs "
                                f"only as {issuer.did}. Leave issuer out to have it filled in.")
    if len(credential["id"]) > MAX_ID_LENGTH:
        raise InvalidCredential(Code.DATA_MODEL_INVALID,
                                f"The credential id is longer than {MAX_ID_LENGTH} characters.", rule="id")
    if fmt == "jwt" and contexts_of(credential)[:1] == [VC_V1]:
        raise InputError(Code.USAGE, "A VC-JWT from the VC API is a VC 2.0 credential (first @context "
                                     "https://www.w3.org/ns/credentials/v2); VC 1.1 credentials are issued "
                                     "with Data Integrity only.")
    if fmt == "jwt":  # a VC-JWT's nbf is required (OB 3.0 §8.2): from validFrom, the issuing time when absent
        credential.setdefault("validFrom", format_created(now))
    if contexts_of(credential)[:1] == [VC_V1]:
        # VC 1.1 requires issuanceDate, and its context lacks the Data Integrity terms.
        credential.setdefault("issuanceDate", format_created(now))
        if fmt == "di" and DATA_INTEGRITY_CONTEXT not in contexts_of(credential):
            credential["@context"] = contexts_of(credential) + [DATA_INTEGRITY_CONTEXT]
    return credential


def issue_document(issuer: Issuer, credential: Any, *, fmt: str = "di", status_purpose: str | None = None,
                   actor: str = "vc-api", fetch: Callable[[str], bytes] | None = None,
                   ) -> tuple[dict[str, Any], CredentialRecord]:
    """Sign and store ``credential``; returns the signed credential and its registry record.

    With ``fetch``, each ``relatedResource`` that can be retrieved must match its
    digest (``RELATED_RESOURCE_MISMATCH`` otherwise): signing a digest the issuer
    can see is wrong would hand every verifier a credential that fails.
    """
    if fmt not in PROOF_FORMATS:
        raise InputError(Code.USAGE, f"Unknown proof format {fmt!r}; use one of {', '.join(PROOF_FORMATS)}.")
    now = issuer.now()
    prepared = prepare_credential(issuer, credential, fmt=fmt, now=now)
    purposes = status_purposes(prepared, status_purpose)
    prepared.pop("credentialStatus", None)
    if purposes and contexts_of(prepared)[:1] == [VC_V1] and STATUS_CONTEXT not in contexts_of(prepared):
        prepared["@context"] = contexts_of(prepared) + [STATUS_CONTEXT]
    if fetch is not None and "relatedResource" in prepared:
        require_matching_related_resources(prepared, fetch, contexts=issuer.loader)
    valid_from = parse_datetime(prepared.get("validFrom") or prepared.get("issuanceDate")) or now
    valid_until = parse_datetime(prepared.get("validUntil") or prepared.get("expirationDate"))
    subjects = as_list(prepared.get("credentialSubject"))
    subject_id = subjects[0].get("id") if len(subjects) == 1 else None

    # [defaults] jwt_alg RS256 / ES256 sign VC-JWTs with their own key; EdDSA (None here) with the Ed25519 one.
    jwt_key = issuer.signer().jwt_key if fmt == "jwt" else None

    def sign(entries: tuple[StatusEntry, ...]) -> str:
        if not entries and presigned is not None:
            return presigned
        unsigned = prepared
        if entries:
            ours = [entry.to_dict() for entry in entries]
            unsigned = {**prepared, "credentialStatus": ours[0] if len(ours) == 1 else ours}
        method, key = jwt_key or (issuer.verification_method, issuer.key)
        signed = sign_credential(unsigned, key, fmt=fmt, loader=issuer.loader, created=now,
                                 verification_method=method)
        _self_check(issuer, signed, now)
        return signed if isinstance(signed, str) else json.dumps(signed, ensure_ascii=False)

    # Without a status entry nothing in the signature comes from the transaction, so sign
    # before it opens: the database write lock is then held only to store.
    presigned: str | None = None
    if not purposes:
        presigned = sign(())

    new = NewCredential(
        id=prepared["id"], achievement=None, recipient_hash=None, lookup_key=None,  # type: ignore[arg-type]
        issued_on=valid_from.date(), valid_from=valid_from, valid_until=valid_until,
        format="jwt" if fmt == "jwt" else "di",
        recipient_did=subject_id if isinstance(subject_id, str) and len(subject_id) <= 1000 else None)
    issued = issuer.registry.issue(issuer.issuer_id, new, sign, purposes=purposes,
                                   status_url=STATUS_URL_TEMPLATE.format(base=issuer.settings.url),
                                   actor=actor, now=now)
    if fmt == "jwt":
        return envelope(issued.record.credential), issued.record
    return json.loads(issued.record.credential), issued.record


def envelope(token: str) -> dict[str, Any]:
    """The ``EnvelopedVerifiableCredential`` carrying a VC-JWT (VC 2.0 §4.13)."""
    return {"@context": [VC_V2], "id": f"data:{ENVELOPE_MEDIA_TYPE},{token}", "type": ENVELOPED_CREDENTIAL}


def _self_check(issuer: Issuer, signed: dict[str, Any] | str, now: datetime) -> None:
    # What the verifier will say, minus status (the list is written in this very
    # transaction) and validity (a credential may be valid only from tomorrow).
    failures = self_check_failures(signed, loader=issuer.loader, did=issuer.did, did_document=issuer.did_document(),
                                   now=now, skip=("validity", "status"))
    if failures:
        raise CredentialError(Code(failures[0].code), f"The credential cannot be issued: {failures[0].message}")


def find_credential(issuer: Issuer, credential_id: str) -> CredentialRecord:
    """The stored credential with this id (VC API ids are any URL; CLI ids may omit ``urn:uuid:``)."""
    text = credential_id.strip()[:MAX_ID_LENGTH]
    for candidate in (text, f"urn:uuid:{text}"):
        record = issuer.registry.get_credential(candidate, issuer_id=issuer.issuer_id)
        if record is not None:
            return record
    raise NotFound(Code.CREDENTIAL_NOT_FOUND, f"There is no credential {text[:120]} in this instance.")


def update_status(issuer: Issuer, credential_id: str, action: str, *, actor: str,
                  reason: str | None = None) -> CredentialRecord:
    """Revoke, suspend or reinstate, log who did it, and republish the lists (as the CLI does)."""
    record = find_credential(issuer, credential_id)
    record = issuer.registry.set_status(record.id, action, actor=actor, reason=reason,
                                        issuer_id=issuer.issuer_id, now=issuer.now())
    forget_status_lists()
    publish_status_lists(issuer)
    return record


__all__ = ["DATA_INTEGRITY_CONTEXT", "PROOF_FORMATS", "STATUS_CONTEXT", "envelope", "find_credential", "issue_document",
           "prepare_credential", "status_purpose_option", "status_purposes", "update_status"]
