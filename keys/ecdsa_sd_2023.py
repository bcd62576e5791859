"""The ``ecdsa-sd-2023`` cryptosuite (W3C vc-di-ecdsa §3.3–3.5): selective disclosure, verified.

The issuer signs a *base proof* that goes to the holder only; the holder
*derives* a proof that reveals some statements and hides the rest, and that
derived proof is what a verifier sees. Verifying it (vc-di-ecdsa §3.5.8
"createVerifyData", "Verify Derived Proof"):

1. ``proofValue`` is ``u`` + base64url(``0xd9 0x5d 0x01`` + CBOR array of five):
   the base signature, the per-proof P-256 public key (Multikey bytes), one
   signature per non-mandatory statement, the label map (``c14nN`` → HMAC'd
   blank node label, compressed as int → 32 bytes) and the mandatory indexes.
2. The revealed document is canonicalized (RDFC-1.0, through
   ``keys.rdfc.canonicalize`` and its spelling rule); each canonical blank
   node label is replaced by the issuer's HMAC'd label from the map, and the
   statements are sorted.
3. Statements at the mandatory indexes are hashed together (SHA-256 of their
   concatenation); the base signature must sign ``proofHash || publicKey ||
   mandatoryHash`` with the issuer's key, and every other statement must carry
   a signature by the per-proof key, in order.

Base proofs (header ``0xd9 0x5d 0x00``) are the holder's and are refused with
``PROOF_MALFORMED`` saying why and what to do: vc-di-ecdsa's "Instantiate
Cryptosuite" sets ecdsa-sd-2023's ``verifyProof`` to "Verify Derived Proof",
whose parseDerivedProofValue raises PROOF_VERIFICATION_ERROR on any header but
the derived one; no base-proof verification is defined (Digital Bazaar's
library agrees: '"proof.proofValue" must be a derived proof').
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Callable

import cbor2

from errors import Code, CredentialError, InputError
from keys.jwk import EcPublicKey
from keys.multikey import P256_PUB, b64url_decode, b64url_encode, encode_multibase
from keys.rdfc import DEFAULT_LIMITS, Limits, canonicalize

BASE_HEADER = b"\xd9\x5d\x00"
DERIVED_HEADER = b"\xd9\x5d\x01"
MAX_PROOF_VALUE_CHARS = 2 * 1024 * 1024  # ~100 bytes per statement: far above any credential's statements
_P256_MULTIKEY_BYTES = 35  # 0x80 0x24 + a compressed P-256 point
_HMAC_LABEL_BYTES = 32
_STATEMENT_SIGNATURE_BYTES = 64  # the per-proof key is always P-256
# One N-Quads term: a literal (with escapes, datatype or language), an IRI, or a blank node.
_TERM = re.compile(r'"(?:[^"\\]|\\.)*"(?:\^\^<[^>]*>|@[A-Za-z0-9-]+)?|<[^>]*>|_:([A-Za-z0-9_.-]+)')


@dataclass(frozen=True, slots=True)
class DerivedProofValue:
    """The five components of a derived ``proofValue`` (label map decompressed)."""

    base_signature: bytes
    public_key: bytes  # the per-proof key as Multikey bytes (0x80 0x24 + compressed point)
    signatures: tuple[bytes, ...]
    label_map: dict[str, str]  # "c14n0" -> "u…" (base64url of the HMAC'd label)
    mandatory_indexes: tuple[int, ...]


def _malformed(message: str) -> CredentialError:
    return CredentialError(Code.PROOF_MALFORMED, message)


def parse_derived_proof_value(value: Any) -> DerivedProofValue:
    """The components of an ecdsa-sd-2023 derived ``proofValue`` (vc-di-ecdsa "parseDerivedProofValue")."""
    if not isinstance(value, str) or not value.startswith("u"):
        raise _malformed("An ecdsa-sd-2023 proofValue is base64url multibase (it must start with 'u').")
    if len(value) > MAX_PROOF_VALUE_CHARS:
        raise _malformed("The ecdsa-sd-2023 proofValue is too long to be checked.")
    try:
        data = b64url_decode(value[1:])
    except InputError as exc:
        raise _malformed("The ecdsa-sd-2023 proofValue is not unpadded base64url.") from exc
    if data.startswith(BASE_HEADER):
        raise _malformed("This is an ecdsa-sd-2023 base proof, which cannot be verified: the specification "
                         "(W3C vc-di-ecdsa) verifies ecdsa-sd-2023 only with its Verify Derived Proof algorithm, "
                         "which refuses a base proof. Ask for a proof derived from it (the holder's wallet "
                         "derives one when presenting the credential).")
    if not data.startswith(DERIVED_HEADER):
        raise _malformed("The ecdsa-sd-2023 proofValue does not start with the derived proof header.")
    try:
        components = cbor2.loads(data[len(DERIVED_HEADER):])
    except Exception as exc:  # cbor2 raises several types (CBORDecodeError, ValueError, …) on bad input
        raise _malformed("The ecdsa-sd-2023 proofValue is not valid CBOR.") from exc
    if not isinstance(components, list) or len(components) != 5:
        raise _malformed("The ecdsa-sd-2023 proofValue does not hold the five components of a derived proof.")
    base_signature, public_key, signatures, label_map, mandatory = components
    if not isinstance(base_signature, bytes) or len(base_signature) not in (64, 96):
        raise _malformed("The ecdsa-sd-2023 base signature is not 64 (P-256) or 96 (P-384) bytes.")
    if not isinstance(public_key, bytes) or len(public_key) != _P256_MULTIKEY_BYTES \
            or not public_key.startswith(P256_PUB):
        raise _malformed("The ecdsa-sd-2023 per-proof public key is not a P-256 Multikey.")
    if not isinstance(signatures, list) or not all(
            isinstance(s, bytes) and len(s) == _STATEMENT_SIGNATURE_BYTES for s in signatures):
        raise _malformed("The ecdsa-sd-2023 statement signatures are not 64-byte P-256 signatures.")
    if not isinstance(label_map, dict) or not all(
            isinstance(k, int) and not isinstance(k, bool) and k >= 0
            and isinstance(v, bytes) and len(v) == _HMAC_LABEL_BYTES for k, v in label_map.items()):
        raise _malformed("The ecdsa-sd-2023 label map does not map integers to 32-byte labels.")
    if not isinstance(mandatory, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in mandatory):
        raise _malformed("The ecdsa-sd-2023 mandatory indexes are not non-negative integers.")
    return DerivedProofValue(
        base_signature=base_signature, public_key=public_key, signatures=tuple(signatures),
        label_map={f"c14n{k}": "u" + b64url_encode(v) for k, v in label_map.items()},
        mandatory_indexes=tuple(mandatory))


def relabel_statements(canonical: str, label_map: dict[str, str]) -> list[str]:
    """The canonical N-Quads with every ``_:c14nN`` label replaced through ``label_map``, sorted.

    Each statement keeps its ``\\n``. A canonical label the map lacks is
    ``PROOF_MALFORMED``: the proof does not describe this document.
    """
    def replace(match: re.Match[str]) -> str:
        label = match.group(1)
        if label is None:
            return match.group(0)
        if label not in label_map:
            raise _malformed("The ecdsa-sd-2023 label map does not name every blank node of the credential.")
        return "_:" + label_map[label]

    return sorted(_TERM.sub(replace, line) + "\n" for line in canonical.splitlines() if line)


def verify(document: dict[str, Any], proof: dict[str, Any], public_key: EcPublicKey, *,
           proof_hash: bytes, loader: Callable[..., Any], limits: Limits = DEFAULT_LIMITS,
           canonical_document: str | None = None) -> bool:
    """True when ``proof`` (a derived ecdsa-sd-2023 proof) is valid for ``document`` under the issuer's
    ``public_key``.

    ``proof_hash`` is SHA-256 of the canonical proof options (``data_integrity.hash_proof_options``).
    ``canonical_document`` is the canonical N-Quads of the document without its proof, when the
    caller has them. Malformed proofs raise ``CredentialError(PROOF_MALFORMED)``.
    """
    parsed = parse_derived_proof_value(proof.get("proofValue"))
    if len(parsed.base_signature) != public_key.signature_bytes:
        raise _malformed(f"The ecdsa-sd-2023 base signature does not fit the issuer's {public_key.curve} key.")
    if canonical_document is None:
        canonical_document = canonicalize({k: v for k, v in document.items() if k != "proof"},
                                          loader=loader, limits=limits)
    return verify_statements(relabel_statements(canonical_document, parsed.label_map), parsed,
                             public_key, proof_hash=proof_hash)


def verify_statements(statements: list[str], parsed: DerivedProofValue, public_key: EcPublicKey, *,
                      proof_hash: bytes) -> bool:
    """The signature checks of a derived proof over the relabelled, sorted ``statements``."""
    mandatory_indexes = set(parsed.mandatory_indexes)
    if any(i >= len(statements) for i in mandatory_indexes):
        return False  # statements were removed after deriving
    mandatory = [s for i, s in enumerate(statements) if i in mandatory_indexes]
    optional = [s for i, s in enumerate(statements) if i not in mandatory_indexes]
    if len(optional) != len(parsed.signatures):
        return False  # statements were added or removed after deriving: the signature count differs
    mandatory_hash = hashlib.sha256("".join(mandatory).encode("utf-8")).digest()
    if not public_key.verify(parsed.base_signature, proof_hash + parsed.public_key + mandatory_hash):
        return False
    statement_key = EcPublicKey.from_multikey(encode_multibase(parsed.public_key))
    return all(statement_key.verify(signature, statement.encode("utf-8"))
               for signature, statement in zip(parsed.signatures, optional))

__all__ = ["BASE_HEADER", "DERIVED_HEADER", "DerivedProofValue", "parse_derived_proof_value",
           "relabel_statements", "verify", "verify_statements"]
