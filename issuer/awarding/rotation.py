"""Signing-key rotation for did:web issuers.

A did:key issuer *is* its key: a new key would be a new issuer id, so
rotation is refused there with an explanation. For did:web, the new key is
added to the DID document and becomes the signing key; earlier keys stay in
the document (marked retired in the registry), so everything they signed
still verifies.
"""

from __future__ import annotations

import re
from typing import Any

from errors import Code, Conflict, NotFound
from issuer.awarding.issuing import Issuer
from issuer.instance.jwt_keys import jwt_signing_key
from issuer.instance.settings import set_current_key
from keys.ed25519 import KeyPair
from keys.jws_keys import jwt_algorithm
from keys.keystore import list_keys, save_key


def next_key_id(existing: list[str]) -> str:
    """``key-<n+1>`` after the highest ``key-<n>`` in use."""
    numbers = [int(m.group(1)) for k in existing if (m := re.fullmatch(r"key-(\d+)", k))]
    return f"key-{max(numbers, default=0) + 1}"


def rotate_key(issuer: Issuer, *, passphrase: str | None = None) -> str:
    """Make a new signing key for ``issuer``; returns its key id."""
    settings = issuer.settings
    if settings.did_method != "web":
        raise Conflict(Code.CONFIG_INVALID,
                       "A did:key issuer's id is its key, so a new key would make a new issuer: "
                       "create the instance with --did-web to be able to rotate keys.")
    recorded = [k.key_id for k in issuer.registry.list_keys(issuer.issuer_id)]
    key_id = next_key_id(recorded + list_keys(settings.keys_dir))
    key = KeyPair.generate()
    save_key(settings.keys_dir, key_id, key, passphrase=passphrase)
    issuer.registry.add_key(issuer.issuer_id, key_id, key.public_key.to_multikey(), file=f"{key_id}.pem",
                            now=issuer.now())
    issuer.registry.retire_key(issuer.issuer_id, settings.key_id, now=issuer.now())
    set_current_key(settings.home, key_id)
    return key_id


def key_rows(issuer: Issuer) -> list[dict[str, Any]]:
    """Every signing key the instance has: its Ed25519 keys (oldest first, the current one marked), then
    the RSA/P-256 keys of ``[keys] jwt``, each with its alg and public key (Multikey; a JWK for RSA)."""
    rows = [{"key_id": k.key_id, "alg": "EdDSA", "public_key": k.public_multikey, "created": k.created_at.isoformat(),
             "retired": k.retired_at.isoformat() if k.retired_at else None,
             "current": k.key_id == issuer.settings.key_id} for k in issuer.registry.list_keys(issuer.issuer_id)]
    try:
        signing = jwt_signing_key(issuer.settings, issuer.jwt_keys)
    except NotFound:  # jwt_alg names an alg no listed key has: list them anyway, none marked current
        signing = None
    for key_id, key in issuer.jwt_keys.items():
        public = key.public_key
        # RSA has no Multikey form here; its JWK is what the DID document publishes anyway
        rows.append({"key_id": key_id, "alg": jwt_algorithm(key),
                     "public_key": public.to_multikey() if hasattr(public, "to_multikey") else None,
                     "jwk": public.to_jwk(), "created": None, "retired": None,
                     "current": signing is not None and signing[0] == key_id})
    return rows


__all__ = ["key_rows", "next_key_id", "rotate_key"]
