"""Bitstring Status List: the codec (and, later, the status check).

The reader owns the format: ``issuer.status`` imports this codec to publish
lists, so the bit order and the encoding live in exactly one place.

W3C Bitstring Status List: the list is at least ``MIN_LIST_SIZE`` bits, index 0
is the most significant bit of the first byte, and ``encodedList`` is GZIP
(RFC 1952), then base64url without padding, with the multibase prefix ``u``.
Legacy StatusList2021 lists have no prefix and sometimes keep the padding;
they decode here too.
"""

from __future__ import annotations

import base64
import binascii
import struct
import zlib

from errors import Code, InputError, InputTooLarge

MIN_LIST_SIZE = 131_072
"""The smallest list the spec allows, in entries (16 KiB of bits): herd privacy."""

MAX_LIST_BYTES = 16 * 1024 * 1024
"""Default cap on a decompressed list (128 Mi entries); a bigger one is a bomb."""

_MULTIBASE_BASE64URL = "u"
# magic, deflate, no flags, mtime 0, no extra flags, OS 255 (unknown)
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"


def encode_status_list(bits: bytes) -> str:
    """Encode a bitstring as an ``encodedList`` value: ``u`` + base64url(gzip(bits)).

    The GZIP member is framed by hand (mtime 0, no extra flags, OS "unknown",
    as Node's zlib writes it) so the output is a pure function of the bits on
    every Python version: republishing an unchanged list gives identical JSON,
    and the 1EdTech test list round-trips byte for byte.
    """
    data = bytes(bits)
    deflater = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = deflater.compress(data) + deflater.flush()
    member = _GZIP_HEADER + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    return _MULTIBASE_BASE64URL + base64.urlsafe_b64encode(member).decode("ascii").rstrip("=")


def decode_status_list(encoded: str, *, max_bytes: int = MAX_LIST_BYTES) -> bytes:
    """Decode an ``encodedList`` value back to the raw bitstring.

    Accepts the multibase ``u`` prefix or none (StatusList2021), with or
    without ``=`` padding. Raises ``InputTooLarge`` (``INPUT_TOO_LARGE``) when
    the decompressed list would exceed ``max_bytes``, and ``InputError``
    (``STATUS_LIST_INVALID``) for anything that is not base64url-encoded GZIP.
    The last few small lists decoded are remembered (a server checks the same
    few lists for every credential it verifies; the bytes are immutable).
    """
    if not isinstance(encoded, str) or not encoded:
        raise _invalid("The status list's encodedList is missing or not a string.")
    key = (encoded, max_bytes)
    bits = _DECODED.get(key)
    if bits is None:
        bits = _decode(encoded, max_bytes)
        if len(encoded) <= _REMEMBER_ENCODED and len(bits) <= _REMEMBER_BITS:
            if len(_DECODED) >= _REMEMBER_LISTS:
                _DECODED.clear()
            _DECODED[key] = bits
    return bits


# decode_status_list's memory: at most 8 lists of at most 64 KiB encoded and 1 MiB decoded.
_DECODED: dict[tuple[str, int], bytes] = {}
_REMEMBER_LISTS, _REMEMBER_ENCODED, _REMEMBER_BITS = 8, 64 * 1024, 1024 * 1024


def _decode(encoded: str, max_bytes: int) -> bytes:
    text = encoded.strip()
    # A GZIP stream always starts with 1f 8b, i.e. "H4s" in base64: a leading
    # "u" can only be the multibase prefix, never part of a legacy value.
    if text.startswith(_MULTIBASE_BASE64URL):
        text = text[1:]
    text = text.rstrip("=")
    try:
        compressed = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _invalid("The status list's encodedList is not valid base64url.") from exc
    return _gunzip_capped(compressed, max_bytes)


def _gunzip_capped(compressed: bytes, max_bytes: int) -> bytes:
    # Decompress at most max_bytes + 1 so a tiny bomb never gets to allocate
    # gigabytes; zlib reports the rest as unconsumed input.
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        bits = inflater.decompress(compressed, max_bytes + 1)
    except zlib.error as exc:
        raise _invalid("The status list's encodedList is not GZIP-compressed data.") from exc
    if len(bits) > max_bytes:
        raise InputTooLarge(
            Code.INPUT_TOO_LARGE,
            f"The status list decompresses to more than {max_bytes} bytes; refusing to read it.",
            limit=max_bytes,
        )
    if not inflater.eof:
        raise _invalid("The status list's encodedList is truncated GZIP data.")
    if inflater.unused_data:
        raise _invalid("The status list's encodedList has data after the end of the GZIP stream.")
    if not bits:
        raise _invalid("The status list's encodedList decodes to an empty list.")
    return bits


def bit_is_set(bits: bytes, index: int) -> bool:
    """Whether entry ``index`` is 1; index 0 is the leftmost bit of byte 0."""
    byte, mask = _locate(bits, index)
    return bool(bits[byte] & mask)


def set_bit(bits: bytes, index: int, value: bool) -> bytes:
    """A copy of ``bits`` with entry ``index`` set to ``value`` (same bit order as ``bit_is_set``)."""
    byte, mask = _locate(bits, index)
    out = bytearray(bits)
    if value:
        out[byte] |= mask
    else:
        out[byte] &= ~mask & 0xFF
    return bytes(out)


def _locate(bits: bytes, index: int) -> tuple[int, int]:
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(bits) * 8:
        raise InputError(
            Code.STATUS_ENTRY_INVALID,
            f"Status list index {index!r} is outside the list of {len(bits) * 8} entries.",
            index=index if isinstance(index, int) else None,
        )
    return index // 8, 0x80 >> (index % 8)


def _invalid(message: str) -> InputError:
    return InputError(Code.STATUS_LIST_INVALID, message)


__all__ = [
    "MAX_LIST_BYTES",
    "MIN_LIST_SIZE",
    "bit_is_set",
    "decode_status_list",
    "encode_status_list",
    "set_bit",
]
