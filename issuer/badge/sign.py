"""Sign a built credential: an eddsa-rdfc-2022 proof (default), a VC-JWT, or the legacy suite.

Data Integrity proofs are signed with Ed25519 keys; a VC-JWT with the key's
own algorithm: EdDSA (Ed25519), RS256 (RSA) or ES256 (P-256).

``sign_credential`` is the issuing side's single signing door; the issuing
workflow then self-checks the result with the verifier before writing it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from errors import Code, InputError
from keys import ed25519_2020, eddsa_rdfc_2022
from keys.did import did_key_verification_method
from keys.ed25519 import KeyPair
from keys.jws_keys import SigningKey, jwt_algorithm
from keys.jwk import RsaPublicKey
from keys.vc_jwt import sign_jwt

FORMATS = ("di", "jwt", "ed25519-2020")


def default_verification_method(key: SigningKey) -> str:
    """The did:key verification method of ``key``: ``did:key:z6Mk…#z6Mk…`` (Ed25519) or
    ``did:key:zDna…#zDna…`` (P-256). An RSA key has none: did:key cannot carry RSA."""
    if isinstance(key.public_key, RsaPublicKey):
        raise InputError(Code.USAGE, "did:key cannot carry an RSA key: give the RS256 key's did:web "
                                     "verification method (--verification-method did:web:HOST#KEY).")
    return did_key_verification_method(key.public_key)


def sign_credential(credential: dict[str, Any], key: SigningKey, *, fmt: str = "di",
                    loader: Callable[..., Any], created: datetime,
                    verification_method: str | None = None) -> dict[str, Any] | str:
    """The signed credential: a dict with ``proof`` for ``di``/``ed25519-2020``, a JWT string for ``jwt``
    (its ``alg`` the key's)."""
    if not isinstance(credential, dict):
        raise InputError(Code.JSON_NOT_OBJECT, "A credential to sign must be a JSON object.")
    if fmt != "jwt" and not isinstance(key, KeyPair):
        raise InputError(Code.USAGE, f"A {jwt_algorithm(key)} key signs VC-JWTs only (--format jwt); "
                                     "Data Integrity proofs are signed with the Ed25519 key.")
    method = verification_method or default_verification_method(key)
    if fmt == "di":
        return eddsa_rdfc_2022.sign(credential, key, verification_method=method, loader=loader,
                                    created=created)
    if fmt == "ed25519-2020":
        return ed25519_2020.sign(credential, key, verification_method=method, loader=loader,
                                 created=created)
    if fmt == "jwt":
        return sign_jwt(credential, key, verification_method=method)
    raise InputError(Code.USAGE, f"Unknown format {fmt!r}; use one of {', '.join(FORMATS)}.")


__all__ = ["FORMATS", "default_verification_method", "sign_credential"]
