"""Ed25519 key pairs and public keys: Badgesmith's signing keys.

``KeyPair`` wraps cryptography's ``Ed25519PrivateKey`` and never shows its
secret: ``repr``/``str`` print only the public Multikey, pickling is refused,
and error messages never quote the input they failed on. Secret material
leaves a ``KeyPair`` only through the explicitly named exports ``to_pem``,
``to_private_multibase`` and ``to_private_jwk``.

``PublicKey`` is a small value (the raw 32 bytes) with its Multikey, JWK and
did:key spellings.

Signing and verifying themselves go through libsodium (PyNaCl), twice as fast
as OpenSSL's Ed25519 here; cryptography keeps every key format. Ed25519
signatures are deterministic (RFC 8032), so the signatures are the same bytes
either way. libsodium's verification is the stricter one: it also refuses a
public key or signature ``R`` of small order and non-canonical point
encodings, which only degenerate keys produce (a small-order key's
signatures can be forged without its private key), so such a signature is
simply not valid.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any, NoReturn

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nacl.bindings import crypto_sign, crypto_sign_open, crypto_sign_seed_keypair
from nacl.exceptions import BadSignatureError

from errors import Code, InputError
from keys.multikey import (
    b64url_decode,
    b64url_encode,
    decode_multikey,
    decode_private_multikey,
    encode_multikey,
    encode_private_multikey,
)

_SIGNATURE_BYTES = 64


def _invalid(message: str) -> InputError:
    return InputError(Code.KEY_INVALID, message)


@dataclass(frozen=True, slots=True)
class PublicKey:
    """An Ed25519 public key: 32 raw bytes."""

    raw: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.raw, bytes) or len(self.raw) != 32:
            raise _invalid("An Ed25519 public key has exactly 32 bytes.")

    @classmethod
    def from_multikey(cls, value: str) -> PublicKey:
        """The key in a Multikey ``publicKeyMultibase`` (``z6Mk…``)."""
        return cls(decode_multikey(value))

    @classmethod
    def from_jwk(cls, jwk: dict[str, Any]) -> PublicKey:
        """The key in an OKP/Ed25519 JWK (RFC 8037); a JWK carrying ``d`` is refused."""
        if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            raise _invalid("The JWK is not an Ed25519 key (kty OKP, crv Ed25519).")
        if "d" in jwk:
            # A public slot that holds a private key means the secret was published.
            raise _invalid("The JWK contains a private key (d); publish only the public part.")
        return cls(_jwk_bytes(jwk, "x"))

    def to_multikey(self) -> str:
        """The Multikey ``publicKeyMultibase``: ``z`` + base58btc(0xed01 + key)."""
        return encode_multikey(self.raw)

    def to_jwk(self) -> dict[str, str]:
        """The public JWK: ``{"kty": "OKP", "crv": "Ed25519", "x": …}``."""
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(self.raw)}

    @property
    def did_key(self) -> str:
        """The did:key DID of this key (``did:key:z6Mk…``)."""
        return "did:key:" + self.to_multikey()

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True when ``signature`` is this key's Ed25519 signature of ``data``."""
        if not isinstance(signature, (bytes, bytearray)) or len(signature) != _SIGNATURE_BYTES:
            return False
        try:
            # libsodium's combined "signed message" form: the 64-byte signature, then the data.
            crypto_sign_open(bytes(signature) + bytes(data), self.raw)
        except BadSignatureError:
            return False
        return True

    def __repr__(self) -> str:
        return f"PublicKey({self.to_multikey()!r})"


@dataclass(frozen=True, slots=True, eq=False)
class KeyPair:
    """An Ed25519 signing key. Build it with ``generate`` or a ``from_*`` method."""

    _private: Ed25519PrivateKey = field(repr=False)
    public_key: PublicKey = field(init=False)
    # libsodium's 64-byte secret key (seed || public key), derived once: what ``sign`` uses.
    _sodium: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self._private, Ed25519PrivateKey):
            raise _invalid("A KeyPair needs an Ed25519 private key.")
        raw = self._private.public_key().public_bytes(serialization.Encoding.Raw,
                                                      serialization.PublicFormat.Raw)
        sodium_public, sodium_secret = crypto_sign_seed_keypair(self._seed())
        if sodium_public != raw:  # two libraries disagreeing on a key would sign with the wrong one
            raise _invalid("The Ed25519 key could not be loaded consistently.")
        object.__setattr__(self, "public_key", PublicKey(raw))
        object.__setattr__(self, "_sodium", sodium_secret)

    # -- building ---------------------------------------------------------------

    @classmethod
    def generate(cls) -> KeyPair:
        """A new random key (the operating system's CSPRNG, through cryptography)."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> KeyPair:
        """The key with this 32-byte private seed (RFC 8032 private key)."""
        if not isinstance(seed, (bytes, bytearray)) or len(seed) != 32:
            raise _invalid("An Ed25519 private seed has exactly 32 bytes.")
        return cls(Ed25519PrivateKey.from_private_bytes(bytes(seed)))

    @classmethod
    def from_pem(cls, data: bytes, passphrase: str | bytes | None = None) -> KeyPair:
        """The key in a PKCS#8 PEM, decrypted with ``passphrase`` when it is encrypted.

        Raises ``InputError`` with ``KEY_LOCKED`` (encrypted and the passphrase is
        missing or wrong) or ``KEY_INVALID`` (not a PEM private key, or not Ed25519).
        """
        if isinstance(data, str):
            data = data.encode("utf-8")
        if not isinstance(data, (bytes, bytearray)):
            raise _invalid("The key must be PEM text.")
        password = _password(passphrase)
        encrypted = b"ENCRYPTED" in bytes(data)
        try:
            private = serialization.load_pem_private_key(bytes(data), password=password)
        except TypeError as exc:
            # cryptography signals a passphrase mismatch with TypeError, in both directions.
            if encrypted:
                _locked("The key is encrypted; give its passphrase.", exc)
            raise _invalid("The key is not encrypted, but a passphrase was given; leave the "
                           "passphrase out or save the key again with it.") from exc
        except (ValueError, UnsupportedAlgorithm) as exc:
            if encrypted and password is not None:
                _locked("The passphrase does not unlock the key.", exc)
            raise _invalid("The data is not a PEM private key.") from exc
        if not isinstance(private, Ed25519PrivateKey):
            raise _invalid(f"The key is {type(private).__name__.removeprefix('_')}, not Ed25519; "
                           "Badgesmith signs with Ed25519 keys only.")
        return cls(private)

    @classmethod
    def from_jwk(cls, jwk: dict[str, Any]) -> KeyPair:
        """The key in a private OKP/Ed25519 JWK (``d`` = seed); ``x``, if given, must match."""
        if not isinstance(jwk, dict) or jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            raise _invalid("The JWK is not an Ed25519 key (kty OKP, crv Ed25519).")
        if "d" not in jwk:
            raise _invalid("The JWK has no private part (d); it holds only a public key.")
        pair = cls.from_seed(_jwk_bytes(jwk, "d"))
        if "x" in jwk and PublicKey.from_jwk({k: v for k, v in jwk.items() if k != "d"}) != pair.public_key:
            raise _invalid("The JWK's public part (x) does not belong to its private part (d).")
        return pair

    @classmethod
    def from_multibase(cls, private: str, public: str | None = None) -> KeyPair:
        """The key in a ``z3u2…`` private Multikey; ``public`` (``z6Mk…``), if given, must match."""
        pair = cls.from_seed(decode_private_multikey(private))
        if public is not None and PublicKey.from_multikey(public) != pair.public_key:
            raise _invalid("The public key does not belong to the private key.")
        return pair

    # -- using ------------------------------------------------------------------

    def sign(self, data: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``data`` (deterministic, RFC 8032)."""
        return crypto_sign(bytes(data), self._sodium)[:_SIGNATURE_BYTES]

    @property
    def did_key(self) -> str:
        """The did:key DID of the public key."""
        return self.public_key.did_key

    # -- exporting secret material (on purpose only) -----------------------------

    def to_pem(self, passphrase: str | bytes | None = None) -> bytes:
        """PKCS#8 PEM of the private key; encrypted (best available) with ``passphrase``."""
        password = _password(passphrase)
        encryption = (serialization.NoEncryption() if password is None
                      else serialization.BestAvailableEncryption(password))
        return self._private.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8, encryption)

    def to_private_multibase(self) -> str:
        """The ``z3u2…`` private Multikey (multicodec 0x8026 + seed). Secret material."""
        return encode_private_multikey(self._seed())

    def to_private_jwk(self) -> dict[str, str]:
        """The private OKP JWK (with ``d``). Secret material."""
        return {**self.public_key.to_jwk(), "d": b64url_encode(self._seed())}

    def _seed(self) -> bytes:
        return self._private.private_bytes(serialization.Encoding.Raw,
                                           serialization.PrivateFormat.Raw,
                                           serialization.NoEncryption())

    # -- never leak -----------------------------------------------------------

    def __repr__(self) -> str:
        return f"KeyPair(public_key={self.public_key.to_multikey()!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KeyPair):
            return NotImplemented
        return hmac.compare_digest(self._seed(), other._seed())

    def __hash__(self) -> int:
        return hash(self.public_key)

    def __reduce__(self) -> NoReturn:
        # Pickles end up in caches, queues and core dumps; a key is saved only
        # through the keystore, on purpose.
        raise TypeError("A KeyPair cannot be pickled; save it with keys.keystore.save_key.")

    def __copy__(self) -> KeyPair:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> KeyPair:
        return self


def _password(passphrase: str | bytes | None) -> bytes | None:
    if passphrase is None:
        return None
    password = passphrase.encode("utf-8") if isinstance(passphrase, str) else bytes(passphrase)
    if not password:
        raise _invalid("The passphrase is empty; give a passphrase or none at all.")
    return password


def _locked(message: str, exc: Exception) -> NoReturn:
    raise InputError(Code.KEY_LOCKED, message) from exc


def _jwk_bytes(jwk: dict[str, Any], member: str) -> bytes:
    try:
        data = b64url_decode(jwk.get(member))  # type: ignore[arg-type]
    except InputError as exc:
        raise _invalid(f"The JWK member {member} is not unpadded base64url.") from exc
    if len(data) != 32:
        raise _invalid(f"The JWK member {member} must hold 32 bytes for Ed25519.")
    return data


__all__ = ["KeyPair", "PublicKey"]
