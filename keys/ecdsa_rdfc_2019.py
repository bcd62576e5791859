"""The ``ecdsa-rdfc-2019`` cryptosuite (W3C vc-di-ecdsa §3.2): ECDSA over P-256 or P-384.

A ``DataIntegrityProof`` with ``cryptosuite: ecdsa-rdfc-2019``: the proof
options and the document are canonicalized with RDFC-1.0 and hashed with the
curve's hash (SHA-256 for P-256, SHA-384 for P-384); the signature over
``hash(proof options) || hash(document)`` is raw ``r‖s`` (64 or 96 bytes),
``z`` + base58btc in ``proofValue``. Verification is shared with the other
RDFC suites (``data_integrity.verify_proof``); signing is here, for tests and
for issuers that hold a P-256/P-384 key as a ``cryptography`` private key.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from errors import Code, InputError
from keys.data_integrity import ECDSA_RDFC_2019, append_proof, format_created, hash_data
from keys.jwk import EcPublicKey
from keys.multikey import encode_multibase
from keys.rdfc import DEFAULT_LIMITS, Limits

# cryptography's curve name -> (JWK/Multikey name, signature hash, document hash, coordinate bytes)
_CURVES = {"secp256r1": ("P-256", hashes.SHA256, hashlib.sha256, 32),
           "secp384r1": ("P-384", hashes.SHA384, hashlib.sha384, 48)}


def public_key_of(private_key: ec.EllipticCurvePrivateKey) -> EcPublicKey:
    """The ``EcPublicKey`` of a P-256/P-384 private key (``KEY_INVALID`` for other curves)."""
    curve = _curve(private_key)
    numbers = private_key.public_key().public_numbers()
    return EcPublicKey(x=numbers.x, y=numbers.y, curve=curve[0])


def create(document: dict[str, Any], private_key: ec.EllipticCurvePrivateKey, *, verification_method: str,
           loader: Callable[..., Any], created: datetime, proof_purpose: str = "assertionMethod",
           limits: Limits = DEFAULT_LIMITS) -> dict[str, Any]:
    """A new ecdsa-rdfc-2019 proof (dict) over ``document`` (any existing ``proof`` is excluded)."""
    _, signature_hash, digest, size = _curve(private_key)
    proof: dict[str, Any] = {"type": ECDSA_RDFC_2019.proof_type, "cryptosuite": ECDSA_RDFC_2019.cryptosuite,
                             "created": format_created(created), "verificationMethod": verification_method,
                             "proofPurpose": proof_purpose}
    data = hash_data(document, proof, loader=loader, limits=limits, digest=digest)
    r, s = decode_dss_signature(private_key.sign(data, ec.ECDSA(signature_hash())))
    proof["proofValue"] = encode_multibase(r.to_bytes(size, "big") + s.to_bytes(size, "big"))
    return proof


def sign(document: dict[str, Any], private_key: ec.EllipticCurvePrivateKey, **options: Any) -> dict[str, Any]:
    """``document`` with an ecdsa-rdfc-2019 proof appended to its ``proof`` array."""
    return append_proof(document, create(document, private_key, **options))


def _curve(private_key: Any) -> tuple[str, Any, Any, int]:
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or private_key.curve.name not in _CURVES:
        raise InputError(Code.KEY_INVALID, "An ecdsa-rdfc-2019 key is a P-256 or P-384 private key.")
    return _CURVES[private_key.curve.name]


__all__ = ["create", "public_key_of", "sign"]
