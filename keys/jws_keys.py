"""Private keys for the VC-JWT algorithms other than EdDSA: RS256 (RSA-2048) and ES256 (P-256).

OB 3.0 §8.2 names RS256 as the VC-JWT minimum and 1EdTech's validator accepts
RS256 and ES256 only, so an instance may hold one of these beside its Ed25519
key and sign VC-JWTs with it. They sign JWTs only: Data Integrity proofs stay
Ed25519 (``keys.ed25519.KeyPair``).

Like ``KeyPair`` they never show their secret (``repr`` names the type and the
public key's start, pickling is refused) and leave it only through
``to_pem``. ``sign`` returns what JWS puts in the signature part: PKCS#1 v1.5
for RS256, raw ``r‖s`` (RFC 7518 §3.4) for ES256. ``load_signing_key`` reads a
PEM of any of the three types.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NoReturn, Union

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from errors import Code, InputError
from keys.ed25519 import KeyPair
from keys.jwk import EcPublicKey, RsaPublicKey

RSA_BITS = 2048
JWT_ALGORITHMS = ("EdDSA", "RS256", "ES256")


def _invalid(message: str) -> InputError:
    return InputError(Code.KEY_INVALID, message)


class _PrivateKey:
    """What both key types share: the PEM export (on purpose only) and never being pickled."""

    __slots__ = ()
    _private: Any

    def to_pem(self, passphrase: str | bytes | None = None) -> bytes:
        """PKCS#8 PEM of the private key (encrypted with ``passphrase``). Secret material."""
        password = passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase
        encryption = (serialization.NoEncryption() if not password
                      else serialization.BestAvailableEncryption(password))
        return self._private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           encryption)

    def __reduce__(self) -> NoReturn:
        # Pickles end up in caches, queues and core dumps.
        raise TypeError("Signing keys are not pickled; save them with keys.keystore.save_key.")


@dataclass(frozen=True, slots=True, eq=False)
class RsaKeyPair(_PrivateKey):
    """An RSA private key (at least 2048 bits) that signs RS256 VC-JWTs."""

    _private: rsa.RSAPrivateKey = field(repr=False)
    alg = "RS256"

    def __post_init__(self) -> None:
        if not isinstance(self._private, rsa.RSAPrivateKey):
            raise _invalid("An RsaKeyPair needs an RSA private key.")
        self.public_key  # checks the size (RsaPublicKey refuses < 2048 bits)

    @classmethod
    def generate(cls, bits: int = RSA_BITS) -> RsaKeyPair:
        """A new RSA key (public exponent 65537)."""
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=bits))

    @property
    def public_key(self) -> RsaPublicKey:
        numbers = self._private.public_key().public_numbers()
        return RsaPublicKey(n=numbers.n, e=numbers.e)

    def sign(self, data: bytes) -> bytes:
        """The RS256 signature of ``data`` (RSASSA-PKCS1-v1_5 with SHA-256)."""
        return self._private.sign(bytes(data), padding.PKCS1v15(), hashes.SHA256())

    def __repr__(self) -> str:
        return f"RsaKeyPair({self.public_key!r})"

    __str__ = __repr__


@dataclass(frozen=True, slots=True, eq=False)
class EcKeyPair(_PrivateKey):
    """A P-256 private key that signs ES256 VC-JWTs."""

    _private: ec.EllipticCurvePrivateKey = field(repr=False)
    alg = "ES256"

    def __post_init__(self) -> None:
        if not isinstance(self._private, ec.EllipticCurvePrivateKey) or self._private.curve.name != "secp256r1":
            raise _invalid("An EcKeyPair needs a P-256 private key (ES256).")

    @classmethod
    def generate(cls) -> EcKeyPair:
        """A new P-256 key."""
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @property
    def public_key(self) -> EcPublicKey:
        numbers = self._private.public_key().public_numbers()
        return EcPublicKey(x=numbers.x, y=numbers.y, curve="P-256")

    @property
    def did_key(self) -> str:
        """The did:key of the public key (``did:key:zDna…``)."""
        return self.public_key.did_key

    def sign(self, data: bytes) -> bytes:
        """The ES256 signature of ``data``: raw ``r‖s``, 64 bytes (not DER)."""
        r, s = decode_dss_signature(self._private.sign(bytes(data), ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def __repr__(self) -> str:
        return f"EcKeyPair({self.public_key.to_multikey()!r})"

    __str__ = __repr__


SigningKey = Union[KeyPair, RsaKeyPair, EcKeyPair]


def generate_signing_key(alg: str) -> SigningKey:
    """A new key for the JWS algorithm ``alg``: Ed25519 (EdDSA), RSA-2048 (RS256) or P-256 (ES256)."""
    if alg == "EdDSA":
        return KeyPair.generate()
    if alg == "RS256":
        return RsaKeyPair.generate()
    if alg == "ES256":
        return EcKeyPair.generate()
    raise InputError(Code.USAGE, f"Unknown JWT algorithm {str(alg)[:20]!r}; use one of {', '.join(JWT_ALGORITHMS)}.")


def jwt_algorithm(key: SigningKey) -> str:
    """The JWS ``alg`` that ``key`` signs with."""
    return "EdDSA" if isinstance(key, KeyPair) else key.alg


def load_signing_key(data: bytes, passphrase: str | bytes | None = None) -> SigningKey:
    """The key in a PKCS#8 PEM: Ed25519, RSA (≥ 2048 bits) or P-256; ``KEY_INVALID``/``KEY_LOCKED`` else."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, (bytes, bytearray)):
        raise _invalid("The key must be PEM text.")
    password = passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase
    try:
        private = serialization.load_pem_private_key(bytes(data), password=password or None)
    except (TypeError, ValueError, UnsupportedAlgorithm):
        # KeyPair.from_pem words every passphrase and format failure; reuse it for the message.
        return KeyPair.from_pem(bytes(data), passphrase)
    if isinstance(private, Ed25519PrivateKey):
        return KeyPair(private)
    if isinstance(private, rsa.RSAPrivateKey):
        return RsaKeyPair(private)
    if isinstance(private, ec.EllipticCurvePrivateKey) and private.curve.name == "secp256r1":
        return EcKeyPair(private)
    raise _invalid(f"The key is {type(private).__name__.removeprefix('_')}; Badgesmith signs with Ed25519, "
                   "RSA (RS256) or P-256 (ES256) keys.")


__all__ = ["EcKeyPair", "JWT_ALGORITHMS", "RSA_BITS", "RsaKeyPair", "SigningKey", "generate_signing_key",
           "jwt_algorithm", "load_signing_key"]
