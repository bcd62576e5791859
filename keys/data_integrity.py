"""Embedded Data Integrity proofs over RDF canonical form (the Ed25519 and ECDSA suites).

The RDFC suites Badgesmith implements hash the same way (W3C vc-di-eddsa
§3.2.x and vc-di-ecdsa §3.2.x, "Hashing" and "Proof Serialization"):
canonicalize the proof options with the document's ``@context`` and the
unsecured document with RDFC-1.0, hash each, and sign ``hash(proof options)
|| hash(document)``; the ``proofValue`` is ``z`` + base58btc. Ed25519 suites
hash with SHA-256; ``ecdsa-rdfc-2019`` with the curve's hash (SHA-256 for
P-256, SHA-384 for P-384) and an ECDSA signature in raw ``r‖s`` form. They
differ otherwise only in the proof's ``type`` / ``cryptosuite`` and the
context the document must carry, which the ``Suite`` values below describe.
Suite-specific entry points live in ``eddsa_rdfc_2022.py``,
``ed25519_2020.py`` and ``ecdsa_rdfc_2019.py``; ``ecdsa-sd-2023`` (selective
disclosure) has its own algorithm in ``ecdsa_sd_2023.py``, dispatched from
``verify_proof`` here.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from errors import Code, CredentialError
from keys import ecdsa_sd_2023
from keys.ed25519 import KeyPair, PublicKey
from keys.jwk import EcPublicKey
from keys.multikey import decode_multibase, encode_multibase
from keys.rdfc import DEFAULT_LIMITS, Limits, canonicalize

ED25519_2020_CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"
_SIGNATURE_BYTES = 64
# hash_proof_options' memo: (id(loader), limits, hash name, options JSON) -> (loader, hash)
_PROOF_HASHES: dict[tuple[Any, ...], tuple[Any, bytes]] = {}
_MAX_REMEMBERED_OPTIONS = 4_096  # characters of options JSON; anything longer is not a common proof
_OPTIONS_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False)  # json.dumps's, built once


@dataclass(frozen=True, slots=True)
class Suite:
    """How one proof suite names itself in a proof."""

    name: str  # the format name in reports: "di-eddsa-rdfc-2022", "ed25519-2020"
    proof_type: str
    cryptosuite: str | None = None
    required_context: str | None = None
    legacy: bool = False
    key: str = "Ed25519"  # the key type the suite verifies with: "Ed25519" or "ECDSA" (P-256/P-384)


EDDSA_RDFC_2022 = Suite("di-eddsa-rdfc-2022", "DataIntegrityProof", "eddsa-rdfc-2022")
# The suite's draft name; identical maths, still found in VC 1.1 credentials.
EDDSA_2022 = Suite("di-eddsa-rdfc-2022", "DataIntegrityProof", "eddsa-2022", legacy=True)
ED25519_SIGNATURE_2020 = Suite("ed25519-2020", "Ed25519Signature2020",
                               required_context=ED25519_2020_CONTEXT)
ECDSA_RDFC_2019 = Suite("di-ecdsa-rdfc-2019", "DataIntegrityProof", "ecdsa-rdfc-2019", key="ECDSA")
ECDSA_SD_2023 = Suite("di-ecdsa-sd-2023", "DataIntegrityProof", "ecdsa-sd-2023", key="ECDSA")

_SUITES = (EDDSA_RDFC_2022, EDDSA_2022, ED25519_SIGNATURE_2020, ECDSA_RDFC_2019, ECDSA_SD_2023)
_HASHES = {"P-256": hashlib.sha256, "P-384": hashlib.sha384}


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


def hash_proof_options(document: dict[str, Any], proof_options: dict[str, Any], *,
                       loader: Callable[..., Any], limits: Limits = DEFAULT_LIMITS,
                       digest: Callable[..., Any] = hashlib.sha256) -> bytes:
    """The hash of the canonical proof options (without ``proofValue``) under the document's ``@context``."""
    options = {k: v for k, v in proof_options.items() if k != "proofValue"}
    # The proof options are canonicalized under the document's own contexts
    # (DI §4.2 "Add Proof", step "set proofConfig.@context").
    if "@context" in document:
        options["@context"] = document["@context"]
    # Remembered by their exact JSON text: a roster batch signs every credential with the same
    # options (one `created`), and its credentials are verified with them. Pinned contexts never
    # change for a loader (keys.rdfc), so equal text hashes equal; failures are not remembered.
    try:
        text = _OPTIONS_JSON.encode(options)
    except (TypeError, ValueError, RecursionError):
        text = None  # not JSON: canonicalize says why
    key = (id(loader), limits, digest().name, text)
    found = _PROOF_HASHES.get(key) if text is not None else None
    if found is not None and found[0] is loader:
        return found[1]
    proof_hash = digest(canonicalize(options, loader=loader, limits=limits).encode("utf-8")).digest()
    if text is not None and len(text) <= _MAX_REMEMBERED_OPTIONS:
        if len(_PROOF_HASHES) >= 256:
            _PROOF_HASHES.clear()
        _PROOF_HASHES[key] = (loader, proof_hash)
    return proof_hash


def hash_data(document: dict[str, Any], proof_options: dict[str, Any], *,
              loader: Callable[..., Any], limits: Limits = DEFAULT_LIMITS,
              canonical_document: str | None = None, previous: list[dict[str, Any]] | None = None,
              digest: Callable[..., Any] = hashlib.sha256, proof_hash: bytes | None = None) -> bytes:
    """``hash(canonical proof options) || hash(canonical document)`` (proof first); SHA-256 by default.

    ``canonical_document`` lets a caller that already canonicalized the
    unsecured document (the verifier's context check) skip doing it again,
    and ``proof_hash`` one that already hashed these very proof options
    (``hash_proof_options``) under this document's ``@context``.
    ``previous`` are the proofs a chained proof names in ``previousProof``:
    they are part of what it signs (DI 1.0 §4.2, "Add Proof", step 4).
    """
    if previous:
        document = {**without_proof(document), "proof": previous}
        canonical_document = canonicalize(document, loader=loader, limits=limits)
    if proof_hash is None:
        proof_hash = hash_proof_options(document, proof_options, loader=loader, limits=limits, digest=digest)
    if canonical_document is None:
        canonical_document = canonicalize(without_proof(document), loader=loader, limits=limits)
    return proof_hash + digest(canonical_document.encode("utf-8")).digest()


def hash_for(public_key: Any) -> Callable[..., Any]:
    """The hash an RDFC suite uses with ``public_key``: SHA-256, or SHA-384 for a P-384 key."""
    return _HASHES.get(getattr(public_key, "curve", ""), hashlib.sha256)


def create_proof(document: dict[str, Any], key: KeyPair, *, suite: Suite, verification_method: str,
                 loader: Callable[..., Any], created: datetime,
                 proof_purpose: str = "assertionMethod",
                 limits: Limits = DEFAULT_LIMITS, canonical_document: str | None = None) -> dict[str, Any]:
    """A new proof (dict) over ``document`` (any existing ``proof`` is excluded).

    ``canonical_document``: the caller's canonical form of the unsecured document, when it has one
    (a roster keeps it for its self-check), instead of canonicalizing again (see ``hash_data``).
    """
    if suite.required_context and suite.required_context not in _contexts(document):
        raise CredentialError(
            Code.CONTEXT_MISSING,
            f"A {suite.proof_type} proof needs the context {suite.required_context} in the credential.")
    proof: dict[str, Any] = {"type": suite.proof_type}
    if suite.cryptosuite:
        proof["cryptosuite"] = suite.cryptosuite
    proof.update({"created": format_created(created), "verificationMethod": verification_method,
                  "proofPurpose": proof_purpose})
    signature = key.sign(hash_data(document, proof, loader=loader, limits=limits,
                                   canonical_document=canonical_document))
    proof["proofValue"] = encode_multibase(signature)
    return proof


def sign_document(document: dict[str, Any], key: KeyPair, **options: Any) -> dict[str, Any]:
    """A copy of ``document`` with a new proof added to its ``proof`` array."""
    return append_proof(document, create_proof(document, key, **options))


def append_proof(document: dict[str, Any], proof: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``document`` with ``proof`` added to its ``proof`` array."""
    signed = dict(document)
    existing = document.get("proof")
    proofs = [] if existing is None else (list(existing) if isinstance(existing, list) else [existing])
    signed["proof"] = proofs + [proof]
    return signed


def decode_proof_value(proof: dict[str, Any], *, size: int = _SIGNATURE_BYTES, what: str = "an Ed25519") -> bytes:
    """The ``size``-byte signature in ``proofValue`` (64 for Ed25519), or ``PROOF_MALFORMED``."""
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
    if len(signature) != size:
        raise CredentialError(
            Code.PROOF_MALFORMED,
            f"The proofValue holds {len(signature)} bytes; {what} signature has {size}.")
    return signature


def check_key_type(suite: Suite, public_key: Any, vm_id: str = "") -> None:
    """``KEY_INVALID`` unless ``public_key`` is of the type ``suite`` verifies with."""
    named = f" {vm_id[:120]}" if vm_id else ""
    if suite.key == "ECDSA" and not isinstance(public_key, EcPublicKey):
        raise CredentialError(Code.KEY_INVALID, f"The verification method{named} is not a P-256 or P-384 key, "
                                                f"which the {suite.cryptosuite} proof needs.")
    if suite.key == "Ed25519" and not isinstance(public_key, PublicKey):
        raise CredentialError(Code.KEY_INVALID, f"The verification method{named} is not an Ed25519 key, which "
                                                "this proof suite needs.")


def verify_proof(document: dict[str, Any], proof: dict[str, Any], public_key: PublicKey | EcPublicKey, *,
                 loader: Callable[..., Any], limits: Limits = DEFAULT_LIMITS,
                 canonical_document: str | None = None, previous: list[dict[str, Any]] | None = None,
                 proof_hash: bytes | None = None) -> bool:
    """True when ``proof`` is a valid signature by ``public_key`` over ``document``.

    Malformed proofs raise ``CredentialError``; a well-formed proof that does not
    match returns False. ``ecdsa-sd-2023`` proofs go to ``ecdsa_sd_2023.verify``.
    ``canonical_document`` and ``proof_hash``: see ``hash_data``.
    """
    suite = suite_of(proof)
    if suite is None:
        raise CredentialError(Code.PROOF_TYPE_UNSUPPORTED,
                              f"The proof type {proof.get('type')!s:.60} is not supported.")
    check_key_type(suite, public_key)
    if suite is ECDSA_SD_2023:
        if previous:
            raise CredentialError(Code.PROOF_MALFORMED, "An ecdsa-sd-2023 proof cannot be part of a proof chain.")
        return ecdsa_sd_2023.verify(
            document, proof, public_key, loader=loader, limits=limits, canonical_document=canonical_document,
            proof_hash=hash_proof_options(document, proof, loader=loader, limits=limits))
    if suite is ECDSA_RDFC_2019:
        assert isinstance(public_key, EcPublicKey)
        signature = decode_proof_value(proof, size=public_key.signature_bytes, what=f"a {public_key.curve} ECDSA")
    else:
        signature = decode_proof_value(proof)
    return public_key.verify(signature, hash_data(document, proof, loader=loader, limits=limits,
                                                  canonical_document=canonical_document, previous=previous,
                                                  digest=hash_for(public_key), proof_hash=proof_hash))


def _contexts(document: dict[str, Any]) -> list[Any]:
    context = document.get("@context", [])
    return context if isinstance(context, list) else [context]


__all__ = [
    "ECDSA_RDFC_2019",
    "ECDSA_SD_2023",
    "ED25519_2020_CONTEXT",
    "ED25519_SIGNATURE_2020",
    "EDDSA_2022",
    "EDDSA_RDFC_2022",
    "Suite",
    "append_proof",
    "check_key_type",
    "create_proof",
    "decode_proof_value",
    "format_created",
    "hash_data",
    "hash_for",
    "hash_proof_options",
    "sign_document",
    "suite_of",
    "verify_proof",
    "without_proof",
]
