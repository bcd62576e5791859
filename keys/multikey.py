"""The byte encodings keys and signatures travel in: multibase, multicodec, base64url.

One owner for each encoding (STYLE "one owner per format"):

- **multibase base58btc**: ``z`` + base58 (Bitcoin alphabet). Used for
  ``proofValue`` and ``publicKeyMultibase`` (W3C Controlled Identifiers §2.4,
  vc-di-eddsa §2.1.1).
- **multicodec** prefixes for Ed25519 keys: ``0xed 0x01`` before a 32-byte
  public key (always ``z6Mk…``), ``0x80 0x26`` before a 32-byte private seed
  (always ``z3u2…``); for ECDSA public keys (vc-di-ecdsa §2.1.1) ``0x80 0x24``
  (p256-pub) before a 33-byte SEC1 compressed P-256 point (``zDna…``) and
  ``0x81 0x24`` (p384-pub) before a 49-byte compressed P-384 point (``z82L…``).
- **base64url without padding** (RFC 7515 §2, RFC 7517): JWK members and the
  three JWS segments. Decoding is strict: no ``=``, no ``+``/``/``, no
  whitespace, and the encoding must be canonical (unused trailing bits zero),
  so one byte string has exactly one accepted spelling.

Decoding failures raise ``InputError(INPUT_UNREADABLE)``; callers that know
the context (a key, a proof, a JWT) re-raise with their own code.
"""

from __future__ import annotations

import base64
import binascii
import re

from errors import Code, InputError

MULTIBASE_BASE58BTC = "z"
ED25519_PUB = b"\xed\x01"
ED25519_PRIV = b"\x80\x26"
ED25519_KEY_BYTES = 32
P256_PUB = b"\x80\x24"
P384_PUB = b"\x81\x24"
# curve name -> (multicodec prefix, length of its SEC1 compressed point)
EC_MULTICODECS = {"P-256": (P256_PUB, 33), "P-384": (P384_PUB, 49)}

_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_B58 = re.compile(r"[1-9A-HJ-NP-Za-km-z]+")
# Keys and signatures are under 100 characters; base58 decoding takes time quadratic in the length,
# so a hostile megabyte-long "proofValue" would take minutes: refuse anything this long unread.
MAX_BASE58_CHARS = 1024

# base58btc by hand, byte-identical to the ``base58`` package (tests/keys/test_multikey.py holds it
# to that) at three times its speed: every proof is encoded or decoded once. The big number moves
# four base-58 digits at a time: 58**4 is below 2**30, one CPython digit, which divides and
# multiplies by its fast path; the four digits go through a table of all 58**2 digit pairs.
_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_PAIRS = [high + low for high in _ALPHABET for low in _ALPHABET]
_FOUR_DIGITS = 58 ** 4
_DIGIT_OF = bytes(_ALPHABET.find(chr(byte)) % 256 for byte in range(256))  # (non-digits: 255, never read)


def _base58_encode(data: bytes) -> str:
    significant = data.lstrip(b"\0")
    number = int.from_bytes(significant, "big")
    groups = []
    while number:
        number, group = divmod(number, _FOUR_DIGITS)
        high, low = divmod(group, 58 * 58)
        groups.append(_PAIRS[low])
        groups.append(_PAIRS[high])
    # Each leading zero byte is one "1"; the top group's own leading zeros are not written.
    return "1" * (len(data) - len(significant)) + "".join(reversed(groups)).lstrip("1")


def _base58_decode(text: str) -> bytes:
    """The bytes of base58btc ``text``, which must hold only alphabet characters."""
    significant = text.lstrip("1")
    digits = significant.encode("ascii").translate(_DIGIT_OF)
    head = len(digits) % 4
    number = 0
    for digit in digits[:head]:
        number = number * 58 + digit
    rest = iter(digits[head:])
    for a, b, c, d in zip(rest, rest, rest, rest):
        number = number * _FOUR_DIGITS + (((a * 58 + b) * 58 + c) * 58 + d)
    return b"\0" * (len(text) - len(significant)) + number.to_bytes((number.bit_length() + 7) // 8, "big")


def encode_multibase(data: bytes) -> str:
    """``z`` + base58btc(``data``)."""
    return MULTIBASE_BASE58BTC + _base58_encode(bytes(data))


def decode_multibase(value: str) -> bytes:
    """The bytes of a ``z`` (base58btc) multibase string; other bases are refused."""
    if not isinstance(value, str) or len(value) < 2:
        raise InputError(Code.INPUT_UNREADABLE, "The value is not a multibase string.")
    if value[0] != MULTIBASE_BASE58BTC:
        raise InputError(Code.INPUT_UNREADABLE,
                         "The value is not base58btc multibase (it must start with 'z').")
    if len(value) > MAX_BASE58_CHARS:
        raise InputError(Code.INPUT_UNREADABLE, f"The value is longer than the {MAX_BASE58_CHARS} characters a "
                         "key or signature needs.")
    # The regex keeps non-ASCII digits and stray characters away from the decoder.
    if not _B58.fullmatch(value[1:]):
        raise InputError(Code.INPUT_UNREADABLE, "The value is not valid base58btc.")
    return _base58_decode(value[1:])


def encode_multikey(public_key: bytes) -> str:
    """The Multikey ``publicKeyMultibase`` of a raw 32-byte Ed25519 public key (``z6Mk…``)."""
    return encode_multibase(ED25519_PUB + _check_length(public_key, "public key"))


def decode_multikey(value: str) -> bytes:
    """The raw 32-byte Ed25519 public key in a ``z6Mk…`` Multikey value (``KEY_INVALID`` else)."""
    return _decode_prefixed(value, ED25519_PUB, "an Ed25519 public key (z6Mk…)")


def decode_ec_multikey(value: str) -> tuple[str, bytes]:
    """The curve (``"P-256"``/``"P-384"``) and SEC1 compressed point of an ECDSA Multikey value."""
    try:
        data = decode_multibase(value)
    except InputError as exc:
        raise InputError(Code.KEY_INVALID, f"The key is not a P-256 or P-384 Multikey: {exc.message}") from exc
    for curve, (prefix, size) in EC_MULTICODECS.items():
        if data.startswith(prefix):
            point = data[len(prefix):]
            if len(point) != size or point[0] not in (2, 3):
                raise InputError(Code.KEY_INVALID, f"The {curve} Multikey is not a {size}-byte compressed point.")
            return curve, point
    raise InputError(Code.KEY_INVALID, "The key is not a P-256 or P-384 Multikey: wrong multicodec prefix.")


def encode_ec_multikey(curve: str, point: bytes) -> str:
    """The Multikey ``publicKeyMultibase`` of a SEC1 compressed P-256/P-384 point (``zDna…``/``z82L…``)."""
    prefix, size = EC_MULTICODECS[curve]
    if len(point) != size:
        raise InputError(Code.KEY_INVALID, f"A compressed {curve} point has exactly {size} bytes.")
    return encode_multibase(prefix + bytes(point))


def encode_private_multikey(seed: bytes) -> str:
    """The multibase form of a 32-byte Ed25519 private seed (``z3u2…``). Secret material."""
    return encode_multibase(ED25519_PRIV + _check_length(seed, "private key"))


def decode_private_multikey(value: str) -> bytes:
    """The 32-byte seed in a ``z3u2…`` private Multikey value (``KEY_INVALID`` else)."""
    return _decode_prefixed(value, ED25519_PRIV, "an Ed25519 private key (z3u2…)")


def is_multikey(value: object) -> bool:
    """True when ``value`` is a well-formed Ed25519 Multikey public key string."""
    try:
        decode_multikey(value)  # type: ignore[arg-type]
    except InputError:
        return False
    return True


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(bytes(data)).rstrip(b"=").decode("ascii")


def b64url_decode(value: str) -> bytes:
    """Strict unpadded base64url: the one canonical spelling of some bytes, nothing else."""
    if not isinstance(value, str) or not _B64URL.fullmatch(value) or len(value) % 4 == 1:
        raise InputError(Code.INPUT_UNREADABLE, "The value is not unpadded base64url.")
    try:
        data = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InputError(Code.INPUT_UNREADABLE, "The value is not unpadded base64url.") from exc
    # Non-zero unused bits give a second spelling of the same bytes; refuse it so
    # that a token cannot be altered without changing what it decodes to.
    if b64url_encode(data) != value:
        raise InputError(Code.INPUT_UNREADABLE, "The value is not canonical base64url.")
    return data


def b64url_uint(value: str) -> int:
    """A JWK unsigned integer member (RSA ``n``/``e``, EC ``x``/``y``): big-endian base64url."""
    data = b64url_decode(value)
    if not data:
        raise InputError(Code.INPUT_UNREADABLE, "The JWK integer is empty.")
    return int.from_bytes(data, "big")


def _check_length(data: bytes, what: str) -> bytes:
    if not isinstance(data, (bytes, bytearray)) or len(data) != ED25519_KEY_BYTES:
        raise InputError(Code.KEY_INVALID, f"An Ed25519 {what} has exactly 32 bytes.")
    return bytes(data)


def _decode_prefixed(value: str, prefix: bytes, what: str) -> bytes:
    try:
        data = decode_multibase(value)
    except InputError as exc:
        raise InputError(Code.KEY_INVALID, f"The key is not {what}: {exc.message}") from exc
    if not data.startswith(prefix) or len(data) != len(prefix) + ED25519_KEY_BYTES:
        raise InputError(Code.KEY_INVALID, f"The key is not {what}: wrong multicodec prefix or length.")
    return data[len(prefix):]


__all__ = [
    "EC_MULTICODECS",
    "ED25519_PRIV",
    "ED25519_PUB",
    "MAX_BASE58_CHARS",
    "P256_PUB",
    "P384_PUB",
    "b64url_decode",
    "b64url_encode",
    "b64url_uint",
    "decode_ec_multikey",
    "decode_multibase",
    "decode_multikey",
    "decode_private_multikey",
    "encode_ec_multikey",
    "encode_multibase",
    "encode_multikey",
    "encode_private_multikey",
    "is_multikey",
]
