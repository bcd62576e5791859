"""The wallet's proof of possession in OpenID for Verifiable Credential Issuance 1.0 (§8.2.1, Appendix F.1).

A wallet asks for a credential with a JWT of type ``openid4vci-proof+jwt``,
signed by the key the credential is to be bound to. :func:`check_proof` checks,
in this order, and refuses with ``invalid_proof`` (or ``invalid_nonce``):

- ``typ`` is ``openid4vci-proof+jwt``; ``alg`` is EdDSA (Ed25519) or ES256
  (P-256), never ``none`` or an HMAC; no ``crit``;
- the key is named exactly once: a ``kid`` that is a ``did:key`` (or
  ``did:jwk``) DID URL, or an inline ``jwk`` (``x5c`` and other DID methods are
  refused: nothing here could resolve them offline);
- the signature is that key's;
- ``aud`` is this credential issuer's identifier;
- ``iat`` is at most ``MAX_PROOF_AGE`` old and at most ``FUTURE_SKEW`` ahead;
- ``nonce`` is a ``c_nonce`` this issuer handed out, not expired and never
  spent before (:class:`Nonces`); spent only once everything else holds.

The holder the credential is bound to (``credentialSubject.id``) is the DID of
that key: the ``kid``'s DID, or for an inline ``jwk`` the ``did:key`` of the
same key, which verifiers resolve without a network (Ed25519 and P-256 keys
both have a did:key form).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import delete

from errors import BadgesmithError, Code, Conflict, InputError
from issuer.store.models import Oid4vciNonceRow
from issuer.store.registry import Registry
from keys.did import parse_did_key
from keys.ed25519 import PublicKey
from keys.jwk import EcPublicKey, JwsPublicKey, algorithms_for, public_key_from_jwk
from keys.multikey import b64url_decode, b64url_encode
from keys.vc_jwt import decode_jwt

PROOF_TYPE = "openid4vci-proof+jwt"
PROOF_ALGORITHMS = ("EdDSA", "ES256")
MAX_PROOF_BYTES = 16 * 1024  # a proof is a header, four claims and a signature: about 1 kB
MAX_PROOF_AGE = 300          # seconds: a wallet may sit on its proof while the user confirms
FUTURE_SKEW = 60             # seconds: the wallet's clock may run a little ahead
NONCE_TTL = 300              # seconds a c_nonce stays usable
MAX_IAT = 10**11             # seconds since 1970 (year 5138): beyond it an iat is no time at all


def refusal(code: Code, message: str, oauth_error: str) -> InputError:
    """An ``InputError`` that the OID4VCI endpoints answer with ``oauth_error`` as the spec's ``error``."""
    error = InputError(code, message)
    error.oauth_error = oauth_error  # type: ignore[attr-defined]
    return error


def _invalid_proof(message: str, code: Code = Code.WALLET_PROOF_INVALID) -> InputError:
    return refusal(code, message, "invalid_proof")


def _invalid_nonce(message: str) -> InputError:
    return refusal(Code.NONCE_INVALID, message, "invalid_nonce")


class Nonces:
    """``c_nonce`` values: issued statelessly (time and HMAC), spent once (a row per spent nonce)."""

    def __init__(self, registry: Registry, *, secret: bytes, ttl: int = NONCE_TTL) -> None:
        """``secret`` is the instance secret the nonce key is derived from."""
        self.registry, self.ttl = registry, ttl
        self._key = hmac.new(secret, b"badgesmith/oid4vci-c-nonce/v1", hashlib.sha256).digest()

    def issue(self, now: datetime) -> str:
        """A fresh nonce, valid for ``ttl`` seconds from ``now``."""
        body = f"{int(now.timestamp()) + self.ttl:x}.{secrets.token_urlsafe(16)}"
        return f"{body}.{self._mac(body)}"

    def _mac(self, body: str) -> str:
        return b64url_encode(hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest()[:18])

    def expiry(self, nonce: Any, now: datetime) -> datetime:
        """When ``nonce`` expires; ``invalid_nonce`` unless it is ours and not yet expired."""
        if not isinstance(nonce, str) or not nonce:
            raise _invalid_nonce("The proof has no nonce: ask the nonce endpoint for a c_nonce and sign it.")
        body, _, mac = nonce.rpartition(".")
        if len(nonce) > 100 or not body.isascii() or not hmac.compare_digest(mac, self._mac(body)):
            raise _invalid_nonce("The proof's nonce was not issued by this credential issuer; "
                                 "ask the nonce endpoint for a fresh c_nonce.")
        expires = int(body.split(".", 1)[0], 16)
        if now.timestamp() >= expires:
            raise _invalid_nonce("The proof's nonce has expired; ask the nonce endpoint for a fresh c_nonce.")
        return datetime.fromtimestamp(expires, tz=now.tzinfo)

    def spend(self, nonce: Any, now: datetime) -> None:
        """Mark ``nonce`` used; ``invalid_nonce`` when it is not ours, has expired or was used before."""
        expires = self.expiry(nonce, now)
        digest = hashlib.sha256(nonce.encode("ascii")).hexdigest()
        try:
            with self.registry.session() as s:
                s.execute(delete(Oid4vciNonceRow).where(Oid4vciNonceRow.expires_at < now))
                if s.get(Oid4vciNonceRow, digest) is not None:
                    raise _invalid_nonce("The proof's nonce was used before; ask the nonce endpoint for a "
                                         "fresh c_nonce.")
                s.add(Oid4vciNonceRow(nonce_hash=digest, expires_at=expires))
        except Conflict as exc:  # another worker spent it between our read and our write
            raise _invalid_nonce("The proof's nonce was used before; ask the nonce endpoint for a "
                                 "fresh c_nonce.") from exc


def check_proof(jwt: Any, *, audience: str, now: datetime, nonces: Nonces) -> str:
    """The holder DID that ``jwt``, a wallet's ``openid4vci-proof+jwt``, proves possession for.

    Raises ``InputError`` whose ``oauth_error`` is ``invalid_proof`` or ``invalid_nonce``.
    """
    if not isinstance(jwt, str) or not jwt:
        raise _invalid_proof("The proof must be a compact JWT (a string).")
    try:
        header, payload, signing_input, signature = decode_jwt(jwt, max_bytes=MAX_PROOF_BYTES)
    except BadgesmithError as exc:
        raise _invalid_proof(exc.message, exc.code) from exc
    if header.get("typ") != PROOF_TYPE:
        raise _invalid_proof(f"The proof's typ is {str(header.get('typ'))[:40]!r}, not {PROOF_TYPE!r}.")
    alg = header.get("alg")
    if alg not in PROOF_ALGORITHMS:
        raise _invalid_proof(f"The proof's alg {str(alg)[:20]!r} is not accepted; sign with "
                             f"{' or '.join(PROOF_ALGORITHMS)}.", Code.JWT_ALG_REFUSED)
    if "crit" in header:
        raise _invalid_proof("The proof lists critical header parameters (crit) this issuer does not know.")
    key, holder = _proof_key(header)
    if alg not in algorithms_for(key):
        raise _invalid_proof(f"The proof says alg {alg}, but its key is for {algorithms_for(key)[0]}.",
                             Code.JWT_ALG_REFUSED)
    if not key.verify(signature, signing_input):
        raise _invalid_proof("The proof's signature does not match its key: it was signed with another key, "
                             "or changed after signing.", Code.PROOF_INVALID)
    _check_audience(payload.get("aud"), audience)
    _check_issued_at(payload.get("iat"), now)
    nonces.spend(payload.get("nonce"), now)
    return holder


def _proof_key(header: dict[str, Any]) -> tuple[JwsPublicKey, str]:
    kid, jwk = header.get("kid"), header.get("jwk")
    if "x5c" in header or "trust_chain" in header:
        raise _invalid_proof("The proof names its key by a certificate chain; name it by a did:key kid "
                             "or an inline jwk.")
    if kid is not None and jwk is not None:
        raise _invalid_proof("The proof names its key twice (kid and jwk); name it once.")
    if isinstance(jwk, dict):
        key = _public_key(lambda: public_key_from_jwk(jwk))
        if not isinstance(key, PublicKey) and not (isinstance(key, EcPublicKey) and key.curve == "P-256"):
            raise _invalid_proof("The proof's jwk must be an Ed25519 or P-256 key.")
        return key, key.did_key
    if isinstance(kid, str) and kid:
        did, _, fragment = kid.partition("#")
        if did.startswith("did:key:"):
            key = _public_key(lambda: parse_did_key(did))
            if fragment and fragment != did[len("did:key:"):]:
                raise _invalid_proof("The proof's kid names a key the did:key does not hold.")
            return key, did
        if did.startswith("did:jwk:"):
            key = _public_key(lambda: public_key_from_jwk(_did_jwk(did)))
            if fragment not in ("", "0"):
                raise _invalid_proof("A did:jwk has one key, #0; the proof's kid names another.")
            return key, did
        raise _invalid_proof(f"The proof's kid {kid[:60]!r} is not a did:key or did:jwk DID URL; use one of "
                             "those or an inline jwk.")
    raise _invalid_proof("The proof names no key: put a did:key kid or a jwk in its header.")


def _public_key(read: Any) -> JwsPublicKey:
    try:
        return read()
    except BadgesmithError as exc:
        raise _invalid_proof(f"The proof's key cannot be read: {exc.message}", Code.KEY_INVALID) from exc


def _did_jwk(did: str) -> Any:
    try:
        return json.loads(b64url_decode(did[len("did:jwk:"):]).decode("utf-8"))
    except (BadgesmithError, UnicodeDecodeError, ValueError) as exc:
        raise _invalid_proof("The proof's did:jwk does not hold a JSON Web Key.", Code.DID_INVALID) from exc


def _check_audience(aud: Any, audience: str) -> None:
    wanted = audience.rstrip("/")
    values = aud if isinstance(aud, list) else [aud]
    if not any(isinstance(value, str) and value.rstrip("/") == wanted for value in values):
        raise _invalid_proof(f"The proof's aud ({str(aud)[:80]}) is not this credential issuer ({audience}).")


def _check_issued_at(iat: Any, now: datetime) -> None:
    # Bounded by comparison, which never overflows: 1e400 reads as an infinite float and -10**400 as an int
    # no float holds, and the age arithmetic below survives neither.
    if not isinstance(iat, int | float) or isinstance(iat, bool) or not -MAX_IAT < iat < MAX_IAT:
        raise _invalid_proof("The proof has no iat (the time it was signed, in seconds since 1970).")
    moment = now.timestamp()
    if iat < moment - MAX_PROOF_AGE:
        raise _invalid_proof(f"The proof was signed {int(moment - iat)} seconds ago; sign a fresh one "
                             f"(at most {MAX_PROOF_AGE} seconds old).")
    if iat > moment + FUTURE_SKEW:
        raise _invalid_proof("The proof's iat is in the future; check the wallet's clock.")


__all__ = ["FUTURE_SKEW", "MAX_PROOF_AGE", "NONCE_TTL", "Nonces", "PROOF_ALGORITHMS", "PROOF_TYPE",
           "check_proof", "refusal"]
