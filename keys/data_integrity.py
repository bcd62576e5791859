"""Embedded Data Integrity proofs over RDF canonical form (shared by the Ed25519 suites).

Both suites Badgesmith implements hash the same way (W3C vc-di-eddsa §3.2.x,
"Hashing" and "Proof Serialization"): canonicalize the proof options with the
document's ``@context`` and the unsecured document with RDFC-1.0, SHA-256 each,
and sign ``hash(proof options) || hash(document)`` with Ed25519; the
``proofValue`` is ``z`` + base58btc. They differ only in the proof's ``type``
/ ``cryptosuite`` and the context the document must carry, which the
``Suite`` values below describe. Suite-specific entry points live in
``eddsa_rdfc_2022.py`` and ``ed25519_2020.py``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from errors import Code, CredentialError
from keys.ed25519 import KeyPair, PublicKey
from keys.multikey import decode_multibase, encode_multibase
from keys.rdfc import DEFAULT_LIMITS, Limits, canonicalize

ED25519_2020_CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"
_SIGNATURE_BYTES = 64


@dataclass(frozen=True, slots=True)
class Suite:
    """How one proof suite names itself in a proof."""

    name: str  # the format name in reports: "di-eddsa-rdfc-2022", "ed25519-2020"
    proof_type: str
    cryptosuite: str | None = None
    required_context: str | None = None
    legacy: bool = False


EDDSA_RDFC_2022 = Suite("di-eddsa-rdfc-2022", "DataIntegrityProof", "eddsa-rdfc-2022")
# The suite's draft name; identical maths, still found in VC 1.1 credentials.
EDDSA_2022 = Suite("di-eddsa-rdfc-2022", "DataIntegrityProof", "eddsa-2022", legacy=True)
ED25519_SIGNATURE_2020 = Suite("ed25519-2020", "Ed25519Signature2020",
                               required_context=ED25519_2020_CONTEXT)

_SUITES = (EDDSA_RDFC_2022, EDDSA_2022, ED25519_SIGNATURE_2020)


def suite_of(proof: dict[str, Any]) -> Suite | None:
    """The suite a proof uses, or ``None`` when Badgesmith does not implement it."""
    for suite in _SUITES:
        if proof.get("type") == suite.proof_type and proof.get("cryptosuite") == suite.cryptosuite:
            return suite
    return None


def format_created(moment: datetime) -> str:
    """An XSD dateTime in UTC without fractional seconds, as the suites' vectors write it."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def without_proof(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "proof"}


def hash_data(document: dict[str, Any], proof_options: dict[str, Any], *,
              loader: Callable[..., Any], limits: Limits = DEFAULT_LIMITS,
              canonical_document: str | None = None, previous: list[dict[str, Any]] | None = None) -> bytes:
    """``sha256(canonical proof options) || sha256(canonical document)`` (proof first).

    ``canonical_document`` lets a caller that already canonicalized the
    unsecured document (the verifier's context check) skip doing it again.
    ``previous`` are the proofs a chained proof names in ``previousProof``:
    they are part of what it signs (DI 1.0 §4.2, "Add Proof", step 4).
    """
    if previous:
        document = {**without_proof(document), "proof": previous}
        canonical_document = canonicalize(document, loader=loader, limits=limits)
    options = {k: v for k, v in proof_options.items() if k != "proofValue"}
    # The proof options are canonicalized under the document's own contexts
    # (DI §4.2 "Add Proof", step "set proofConfig.@context").
    if "@context" in document:
        options["@context"] = document["@context"]
    proof_hash = hashlib.sha256(canonicalize(options, loader=loader, limits=limits).encode("utf-8"))
    if canonical_document is None:
        canonical_document = canonicalize(without_proof(document), loader=loader, limits=limits)
    doc_hash = hashlib.sha256(canonical_document.encode("utf-8"))
    return proof_hash.digest() + doc_hash.digest()


def create_proof(document: dict[str, Any], key: KeyPair, *, suite: Suite, verification_method: str,
                 loader: Callable[..., Any], created: datetime,
                 proof_purpose: str = "assertionMethod",
                 limits: Limits = DEFAULT_LIMITS) -> dict[str, Any]:
    """A new proof (dict) over ``document`` (any existing ``proof`` is excluded)."""
    if suite.required_context and suite.required_context not in _contexts(document):
        raise CredentialError(
            Code.CONTEXT_MISSING,
            f"A {suite.proof_type} proof needs the context {suite.required_context} in the credential.")
    proof: dict[str, Any] = {"type": suite.proof_type}
    if suite.cryptosuite:
        proof["cryptosuite"] = suite.cryptosuite
    proof.update({"created": format_created(created), "verificationMethod": verification_method,
                  "proofPurpose": proof_purpose})
    signature = key.sign(hash_data(document, proof, loader=loader, limits=limits))
    proof["proofValue"] = encode_multibase(signature)
    return proof


def sign_document(document: dict[str, Any], key: KeyPair, **options: Any) -> dict[str, Any]:
    """A copy of ``document`` with a new proof added to its ``proof`` array."""
    proof = create_proof(document, key, **options)
    signed = dict(document)
    existing = document.get("proof")
    proofs = [] if existing is None else (list(existing) if isinstance(existing, list) else [existing])
    signed["proof"] = proofs + [proof]
    return signed


def decode_proof_value(proof: dict[str, Any]) -> bytes:
    """The 64-byte signature in ``proofValue``, or ``PROOF_MALFORMED``."""
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value:
        raise CredentialError(Code.PROOF_MALFORMED, "The proof has no proofValue.")
    if not value.startswith("z"):
        raise CredentialError(Code.PROOF_MALFORMED,
                              "The proofValue is not base58btc multibase (it must start with 'z').")
    try:
        signature = decode_multibase(value)
    except CredentialError:
        raise
    except Exception as exc:  # a malformed base58 string
        raise CredentialError(Code.PROOF_MALFORMED, "The proofValue is not valid base58btc.") from exc
    if len(signature) != _SIGNATURE_BYTES:
        raise CredentialError(
            Code.PROOF_MALFORMED,
            f"The proofValue holds {len(signature)} bytes; an Ed25519 signature has 64.")
    return signature


def verify_proof(document: dict[str, Any], proof: dict[str, Any], public_key: PublicKey, *,
                 loader: Callable[..., Any], limits: Limits = DEFAULT_LIMITS,
                 canonical_document: str | None = None, previous: list[dict[str, Any]] | None = None) -> bool:
    """True when ``proof`` is a valid signature by ``public_key`` over ``document``.

    Malformed proofs raise ``CredentialError``; a well-formed proof that does not
    match returns False.
    """
    signature = decode_proof_value(proof)
    suite = suite_of(proof)
    if suite is None:
        raise CredentialError(Code.PROOF_TYPE_UNSUPPORTED,
                              f"The proof type {proof.get('type')!s:.60} is not supported.")
    return public_key.verify(signature, hash_data(document, proof, loader=loader, limits=limits,
                                                  canonical_document=canonical_document, previous=previous))


def _contexts(document: dict[str, Any]) -> list[Any]:
    context = document.get("@context", [])
    return context if isinstance(context, list) else [context]


__all__ = [
    "ED25519_2020_CONTEXT",
    "ED25519_SIGNATURE_2020",
    "EDDSA_2022",
    "EDDSA_RDFC_2022",
    "Suite",
    "create_proof",
    "decode_proof_value",
    "format_created",
    "hash_data",
    "sign_document",
    "suite_of",
    "verify_proof",
    "without_proof",
]
