"""Public JWKs of every type a VC-JWT may be verified with (RFC 7517/7518/8037).

Badgesmith signs only with Ed25519, but verifies VC-JWTs signed with RS256 and
ES256 too (OB 3.0 §8.2 names RS256 as the interoperable minimum). Each key type
is a small value that knows the one JWS algorithm it verifies, so a token can
never have its key read under a different algorithm (alg confusion):

======================  ==================  =====================
JWK                     value               JWS ``alg``
======================  ==================  =====================
OKP / Ed25519           ``PublicKey``       EdDSA (and "Ed25519")
RSA (≥ 2048 bits)       ``RsaPublicKey``    RS256
EC / P-256              ``EcPublicKey``     ES256
======================  ==================  =====================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from errors import Code, InputError
from keys.ed25519 import PublicKey
from keys.multikey import b64url_decode, b64url_encode, b64url_uint

MIN_RSA_BITS = 2048
MAX_RSA_BITS = 16384  # bounds the work one verification can cost
_P256_COORDINATE_BYTES = 32


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


@dataclass(frozen=True, slots=True)
class EcPublicKey:
    """A P-256 public key (affine ``x``, ``y``); verifies ES256 only."""

    x: int
    y: int
    algorithms = ("ES256",)

    def __post_init__(self) -> None:
        try:  # rejects points that are not on the curve
            ec.EllipticCurvePublicNumbers(self.x, self.y, ec.SECP256R1()).public_key()
        except ValueError as exc:
            raise _invalid("The EC key is not a point on P-256.") from exc

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True when ``signature`` (JWS form: raw r‖s, 64 bytes) is an ES256 signature of ``data``."""
        # JWS carries r and s as two fixed-size big-endian integers (RFC 7518 §3.4);
        # cryptography wants DER, and a DER signature inside a JWS is invalid.
        if len(signature) != 2 * _P256_COORDINATE_BYTES:
            return False
        r = int.from_bytes(signature[:_P256_COORDINATE_BYTES], "big")
        s = int.from_bytes(signature[_P256_COORDINATE_BYTES:], "big")
        key = ec.EllipticCurvePublicNumbers(self.x, self.y, ec.SECP256R1()).public_key()
        try:
            key.verify(encode_dss_signature(r, s), bytes(data), ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            return False
        return True

    def to_jwk(self) -> dict[str, str]:
        """The public JWK (``kty`` EC, ``crv`` P-256)."""
        size = _P256_COORDINATE_BYTES
        return {"kty": "EC", "crv": "P-256",
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
            if jwk.get("crv") != "P-256":
                raise _invalid(f"The EC curve {str(jwk.get('crv'))[:20]!r} is not supported; "
                               "only P-256 (ES256) is.")
            x, y = (_coordinate(jwk.get(member)) for member in ("x", "y"))
            return EcPublicKey(x=x, y=y)
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


def _coordinate(value: Any) -> int:
    data = b64url_decode(value)
    if len(data) != _P256_COORDINATE_BYTES:
        raise _invalid("A P-256 coordinate has exactly 32 bytes.")
    return int.from_bytes(data, "big")


def _uint(value: int) -> str:
    return b64url_encode(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


__all__ = ["EcPublicKey", "JwsPublicKey", "RsaPublicKey", "algorithms_for", "public_key_from_jwk"]
