"""Public keys of every type a VC-JWT or Data Integrity proof may be verified with (RFC 7517/7518/8037).

Badgesmith signs only with Ed25519, but verifies VC-JWTs signed with RS256 and
ES256 too (OB 3.0 §8.2 names RS256 as the interoperable minimum), and ECDSA
Data Integrity proofs over P-256 and P-384. Each key type is a small value
that knows the one JWS algorithm it verifies, so a token can never have its
key read under a different algorithm (alg confusion):

======================  ==================  =====================  =====================
JWK                     value               JWS ``alg``            Multikey
======================  ==================  =====================  =====================
OKP / Ed25519           ``PublicKey``       EdDSA (and "Ed25519")  ``z6Mk…``
RSA (≥ 2048 bits)       ``RsaPublicKey``    RS256                  —
EC / P-256              ``EcPublicKey``     ES256                  ``zDna…``
EC / P-384              ``EcPublicKey``     ES384 (not accepted)   ``z82L…``
======================  ==================  =====================  =====================

An ``EcPublicKey`` hashes with its curve's hash (SHA-256 for P-256, SHA-384
for P-384), as both JWS and vc-di-ecdsa do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from errors import Code, InputError
from keys.ed25519 import PublicKey
from keys.multikey import b64url_decode, b64url_encode, b64url_uint, decode_ec_multikey, encode_ec_multikey

MIN_RSA_BITS = 2048
MAX_RSA_BITS = 16384  # bounds the work one verification can cost


def _invalid(message: str) -> InputError:
    return InputError(Code.KEY_INVALID, message)


@dataclass(frozen=True, slots=True)
class RsaPublicKey:
    """An RSA public key (modulus ``n``, exponent ``e``); verifies RS256 only."""

    n: int
    e: int
    algorithms = ("RS256",)

    def __post_init__(self) -> None:
        if not MIN_RSA_BITS <= self.n.bit_length() <= MAX_RSA_BITS:
            raise _invalid(f"The RSA key has {self.n.bit_length()} bits; Badgesmith accepts "
                           f"{MIN_RSA_BITS} to {MAX_RSA_BITS}.")
        if self.e < 3 or self.e % 2 == 0:
            raise _invalid("The RSA key's public exponent is not valid.")

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True when ``signature`` is an RS256 (PKCS#1 v1.5, SHA-256) signature of ``data``."""
        key = rsa.RSAPublicNumbers(self.e, self.n).public_key()
        try:
            key.verify(bytes(signature), bytes(data), padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_jwk(self) -> dict[str, str]:
        """The public JWK (``kty`` RSA)."""
        return {"kty": "RSA", "n": _uint(self.n), "e": _uint(self.e)}

    def __repr__(self) -> str:
        return f"RsaPublicKey({self.n.bit_length()} bits, n={_uint(self.n)[:16]}…)"


# curve -> (cryptography curve, hash, coordinate bytes, JWS alg)
_CURVES: dict[str, tuple[Any, Any, int, str]] = {
    "P-256": (ec.SECP256R1, hashes.SHA256, 32, "ES256"),
    "P-384": (ec.SECP384R1, hashes.SHA384, 48, "ES384"),
}


@dataclass(frozen=True, slots=True)
class EcPublicKey:
    """A P-256 or P-384 public key (affine ``x``, ``y``); verifies ES256 (P-256) or ECDSA proofs."""

    x: int
    y: int
    curve: str = "P-256"

    def __post_init__(self) -> None:
        if self.curve not in _CURVES:
            raise _invalid(f"The EC curve {str(self.curve)[:20]!r} is not supported (P-256 or P-384).")
        try:  # rejects points that are not on the curve
            self._key()
        except ValueError as exc:
            raise _invalid(f"The EC key is not a point on {self.curve}.") from exc

    @classmethod
    def from_multikey(cls, value: str) -> EcPublicKey:
        """The key in a ``zDna…`` (P-256) or ``z82L…`` (P-384) Multikey value (``KEY_INVALID`` else)."""
        curve, point = decode_ec_multikey(value)
        try:
            numbers = ec.EllipticCurvePublicKey.from_encoded_point(_CURVES[curve][0](), point).public_numbers()
        except ValueError as exc:
            raise _invalid(f"The {curve} Multikey is not a point on the curve.") from exc
        return cls(x=numbers.x, y=numbers.y, curve=curve)

    @property
    def algorithms(self) -> tuple[str, ...]:
        return (_CURVES[self.curve][3],)

    @property
    def signature_bytes(self) -> int:
        """The length of a raw ``r‖s`` signature (IEEE P1363) on this curve."""
        return 2 * _CURVES[self.curve][2]

    def _key(self) -> ec.EllipticCurvePublicKey:
        return ec.EllipticCurvePublicNumbers(self.x, self.y, _CURVES[self.curve][0]()).public_key()

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True when ``signature`` (raw r‖s, as JWS and vc-di-ecdsa write it) signs ``data``
        with ECDSA and the curve's hash."""
        # JWS and Data Integrity carry r and s as two fixed-size big-endian integers (RFC 7518 §3.4);
        # cryptography wants DER, and a DER signature in their place is invalid.
        size = _CURVES[self.curve][2]
        if len(signature) != 2 * size:
            return False
        r = int.from_bytes(signature[:size], "big")
        s = int.from_bytes(signature[size:], "big")
        try:
            self._key().verify(encode_dss_signature(r, s), bytes(data), ec.ECDSA(_CURVES[self.curve][1]()))
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_multikey(self) -> str:
        """The Multikey ``publicKeyMultibase`` (compressed point)."""
        point = self._key().public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
        return encode_ec_multikey(self.curve, point)

    @property
    def did_key(self) -> str:
        """The ``did:key`` of this key."""
        return "did:key:" + self.to_multikey()

    def to_jwk(self) -> dict[str, str]:
        """The public JWK (``kty`` EC)."""
        size = _CURVES[self.curve][2]
        return {"kty": "EC", "crv": self.curve,
                "x": b64url_encode(self.x.to_bytes(size, "big")),
                "y": b64url_encode(self.y.to_bytes(size, "big"))}


JwsPublicKey = Union[PublicKey, RsaPublicKey, EcPublicKey]


def public_key_from_jwk(jwk: Any) -> JwsPublicKey:
    """The public key in ``jwk`` (OKP Ed25519, RSA or EC P-256); ``KEY_INVALID`` otherwise.

    A JWK that carries private members (``d``, ``p``, ``q``…) is refused: it
    means the secret key was published.
    """
    if not isinstance(jwk, dict):
        raise _invalid("The JWK is not a JSON object.")
    if any(member in jwk for member in ("d", "p", "q", "dp", "dq", "qi", "k")):
        raise _invalid("The JWK contains private or secret key material; publish only the public part.")
    kty = jwk.get("kty")
    if kty == "OKP":
        return PublicKey.from_jwk(jwk)
    try:
        if kty == "RSA":
            return RsaPublicKey(n=b64url_uint(jwk.get("n")), e=b64url_uint(jwk.get("e")))
        if kty == "EC":
            curve = jwk.get("crv")
            if curve not in _CURVES:
                raise _invalid(f"The EC curve {str(curve)[:20]!r} is not supported; "
                               "only P-256 (ES256) and P-384 are.")
            x, y = (_coordinate(jwk.get(member), curve) for member in ("x", "y"))
            return EcPublicKey(x=x, y=y, curve=curve)
    except InputError as exc:
        if exc.code is Code.KEY_INVALID:
            raise
        raise _invalid(f"The {kty} JWK is malformed: {exc.message}") from exc
    raise _invalid(f"The JWK key type {str(kty)[:20]!r} is not supported (OKP, RSA or EC).")


def algorithms_for(key: JwsPublicKey) -> tuple[str, ...]:
    """The JWS ``alg`` values ``key`` may verify."""
    if isinstance(key, PublicKey):
        return ("EdDSA", "Ed25519")
    return key.algorithms


def public_key_from_multikey(value: Any) -> PublicKey | EcPublicKey:
    """The key in a Multikey ``publicKeyMultibase``: Ed25519 (``z6Mk…``), P-256 (``zDna…``) or P-384 (``z82L…``)."""
    if isinstance(value, str) and value.startswith(("zDn", "z82")):
        return EcPublicKey.from_multikey(value)
    return PublicKey.from_multikey(value)


def _coordinate(value: Any, curve: str) -> int:
    data = b64url_decode(value)
    size = _CURVES[curve][2]
    if len(data) != size:
        raise _invalid(f"A {curve} coordinate has exactly {size} bytes.")
    return int.from_bytes(data, "big")


def _uint(value: int) -> str:
    return b64url_encode(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


__all__ = ["EcPublicKey", "JwsPublicKey", "RsaPublicKey", "algorithms_for", "public_key_from_jwk",
           "public_key_from_multikey"]
