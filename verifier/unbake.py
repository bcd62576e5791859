"""Baked badges: find the one credential inside a PNG or SVG image.

This module OWNS the baking format (OB 3.0 §5.3). ``issuer.bake`` writes with
the constants and the PNG chunk walker defined here, so reader and writer
can never disagree:

- PNG: an ``iTXt`` chunk with keyword ``openbadgecredential`` whose text is
  the credential JSON or a compact JWS. We write it uncompressed; we also
  read a zlib-compressed one, with a cap on the inflated size.
- SVG: one ``<openbadges:credential>`` element in namespace
  ``https://purl.imsglobal.org/ob/v3p0``, holding the JSON as (CDATA) text
  or the JWS in a ``verify`` attribute.

Everything here reads hostile bytes: every length is checked before it is
used, no pixel is ever decoded, the XML parser never expands an entity or
fetches a DTD, and every failure is a ``BadgesmithError`` with a code.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator
from xml.parsers import expat

from errors import Code, InputError, InputTooLarge

if TYPE_CHECKING:  # sources imports this module; at runtime only the instance is used
    from verifier.sources import Limits

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_KEYWORD = "openbadgecredential"
SVG_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
SVG_PREFIX = "openbadges"
SVG_ELEMENT = "credential"
SVG_VERIFY_ATTRIBUTE = "verify"

# OB 2.0 baked images: recognised only to say so, never read as OB 3.0.
_OB2_PNG_KEYWORD = "openbadges"
_OB2_SVG_NAMESPACE = "http://openbadges.org"
_SVG_XMLNS = "http://www.w3.org/2000/svg"
# Illustrator and the 1EdTech samples carry the W3C SVG DOCTYPE. It is
# tolerated because expat never loads it; any other external DTD only serves
# an attack (XXE, out-of-band probing) and is refused.
_KNOWN_SVG_PUBLIC_IDS = ("-//W3C//DTD SVG ",)
_PNG_MAX_CHUNK_LENGTH = 2**31 - 1  # PNG spec §5.3
# A tag up to its ">", skipping quoted attribute values (which may hold ">").
_TAG = re.compile(rb"""(?:[^"'>]++|"[^"]*+"|'[^']*+')*+>""")


@dataclass(frozen=True, slots=True)
class Chunk:
    """One PNG chunk: its type, its data, and where its raw bytes sit in the file.

    ``data[start:end]`` of the file is the whole chunk (length, type, data,
    CRC), which lets ``issuer.bake`` copy chunks byte for byte.
    """

    type: str
    data: bytes
    start: int
    end: int


def iter_chunks(data: bytes, *, limits: Limits) -> Iterator[Chunk]:
    """Walk the chunks of a PNG file, checking its structure as it goes.

    Checks the signature, each length (against the file and
    ``limits.max_png_chunk_bytes``), type and CRC; that IHDR comes first and
    its width, height and pixel count are within limits (``PNG_TOO_LARGE``,
    before anything else is read); and that IEND ends the file. Bytes after
    IEND are ignored, as every decoder does. Raises ``PNG_MALFORMED`` for a
    broken or truncated file.
    """
    if not data.startswith(PNG_SIGNATURE):
        raise _png_malformed("The file does not start with the PNG signature.")
    offset, count, size = len(PNG_SIGNATURE), 0, len(data)
    while True:
        if offset + 12 > size:
            raise _png_malformed("The PNG file is truncated: it ends before its IEND chunk.",
                                 offset=offset)
        length, raw_type = struct.unpack_from(">I4s", data, offset)
        if length > _PNG_MAX_CHUNK_LENGTH or not raw_type.isalpha() or not raw_type.isascii():
            raise _png_malformed("The PNG file has a corrupt chunk header.", offset=offset)
        if length > limits.max_png_chunk_bytes:
            raise InputTooLarge(Code.PNG_TOO_LARGE, "A PNG chunk is larger than allowed.",
                                offset=offset, length=length, limit=limits.max_png_chunk_bytes)
        end = offset + 12 + length
        if end > size:
            raise _png_malformed("The PNG file is truncated in the middle of a chunk.",
                                 offset=offset)
        chunk_type = raw_type.decode("ascii")
        body = data[offset + 8 : end - 4]
        (crc,) = struct.unpack_from(">I", data, end - 4)
        if zlib.crc32(raw_type + body) != crc:
            raise _png_malformed(f"The PNG {chunk_type} chunk fails its CRC check: the file is "
                                 "damaged.", offset=offset)
        count += 1
        if count > limits.max_png_chunks:
            raise InputTooLarge(Code.PNG_TOO_LARGE, "The PNG file has too many chunks.",
                                limit=limits.max_png_chunks)
        if count == 1:
            _check_ihdr(chunk_type, body, limits)
        elif chunk_type == "IHDR":
            raise _png_malformed("The PNG file has a second IHDR chunk.", offset=offset)
        yield Chunk(chunk_type, body, offset, end)
        if chunk_type == "IEND":
            return
        offset = end


def _check_ihdr(chunk_type: str, body: bytes, limits: Limits) -> None:
    if chunk_type != "IHDR" or len(body) != 13:
        raise _png_malformed("The PNG file does not start with a valid IHDR chunk.")
    width, height = struct.unpack_from(">II", body)
    if not width or not height:
        raise _png_malformed("The PNG image has a zero width or height.")
    if max(width, height) > limits.max_png_side or width * height > limits.max_png_pixels:
        raise InputTooLarge(Code.PNG_TOO_LARGE,
                            f"The PNG image is {width}×{height} pixels, more than allowed; "
                            "use a smaller badge image.", width=width, height=height,
                            max_pixels=limits.max_png_pixels, max_side=limits.max_png_side)


@dataclass(frozen=True, slots=True)
class TextChunk:
    """The fields of an iTXt chunk (PNG spec §11.3.4.5)."""

    keyword: str
    compressed: bool
    language: str
    translated_keyword: str
    text: str


def parse_itxt(body: bytes, *, limits: Limits) -> TextChunk:
    """Split an iTXt chunk into its fields, inflating compressed text under a cap.

    A compressed text that would inflate past ``limits.max_bytes`` raises
    ``INPUT_TOO_LARGE`` (a zlib bomb stops there); anything unreadable raises
    ``PNG_MALFORMED``.
    """
    keyword, sep, rest = body.partition(b"\0")
    if not sep or not 1 <= len(keyword) <= 79 or len(rest) < 2:
        raise _png_malformed("A PNG iTXt chunk is malformed.")
    flag, method, rest = rest[0], rest[1], rest[2:]
    language, sep1, rest = rest.partition(b"\0")
    translated, sep2, raw_text = rest.partition(b"\0")
    if not (sep1 and sep2) or flag not in (0, 1) or (flag == 1 and method != 0):
        raise _png_malformed("A PNG iTXt chunk is malformed.")
    if flag == 1:
        raw_text = _inflate_capped(raw_text, limits.max_bytes)
    try:
        return TextChunk(keyword.decode("latin-1"), flag == 1, language.decode("ascii"),
                         translated.decode("utf-8"), raw_text.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise _png_malformed("A PNG iTXt chunk's text is not valid UTF-8.") from exc


def _inflate_capped(compressed: bytes, cap: int) -> bytes:
    # Ask zlib for at most cap + 1 bytes: a bomb never gets to allocate more.
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(compressed, cap + 1)
    except zlib.error as exc:
        raise _png_malformed("A compressed PNG iTXt chunk is not valid zlib data.") from exc
    if len(out) > cap:
        raise InputTooLarge(Code.INPUT_TOO_LARGE, "The compressed credential in the PNG "
                            "inflates to more than allowed.", limit=cap)
    if not inflater.eof:
        raise _png_malformed("A compressed PNG iTXt chunk is truncated.")
    return out


def is_credential_chunk(chunk: Chunk) -> bool:
    """True for an iTXt chunk whose keyword is ``openbadgecredential``."""
    return chunk.type == "iTXt" and chunk.data.startswith(PNG_KEYWORD.encode("ascii") + b"\0")


def unbake_png(data: bytes, *, limits: Limits) -> str:
    """Return the text of the one ``openbadgecredential`` iTXt chunk of a PNG.

    The chunk may sit anywhere among other text chunks. Raises
    ``NO_CREDENTIAL`` when there is none (an OB 2.0 ``openbadges`` chunk is
    named as such), ``MULTIPLE_CREDENTIALS`` when there are several (which
    one was meant is ambiguous), and the ``iter_chunks`` errors.
    """
    texts: list[str] = []
    legacy = False
    for chunk in iter_chunks(data, limits=limits):
        if is_credential_chunk(chunk):
            texts.append(parse_itxt(chunk.data, limits=limits).text)
        elif chunk.type in ("iTXt", "tEXt") and chunk.data.startswith(_OB2_PNG_KEYWORD.encode() + b"\0"):
            legacy = True
    return _exactly_one(texts, "PNG", legacy)


def _exactly_one(texts: list[str], container: str, legacy: bool) -> str:
    if len(texts) > 1:
        raise InputError(Code.MULTIPLE_CREDENTIALS, f"The {container} image holds "
                         f"{len(texts)} baked credentials; a badge image must hold exactly one.",
                         count=len(texts))
    if not texts:
        if legacy:
            raise InputError(Code.NO_CREDENTIAL, f"The {container} image is an Open Badges 2.0 "
                             "badge; it holds no Open Badges 3.0 credential.", legacy="ob2")
        raise InputError(Code.NO_CREDENTIAL, f"The {container} image holds no baked credential.")
    text = texts[0].strip()
    if not text:
        raise InputError(Code.NO_CREDENTIAL, f"The {container} image's baked credential is empty.")
    return text


@dataclass(slots=True)
class SvgCredential:
    """One ``<openbadges:credential>`` element and where its bytes sit."""

    start: int
    end: int = -1
    verify: str | None = None
    text: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SvgScan:
    """What ``scan_svg`` learnt about an SVG, for reading and for ``issuer.bake``.

    ``root_start``/``root_end`` bound the root ``<svg …>`` start tag (end is
    just after its ``>``); ``root_prefixes`` maps the prefixes declared on it
    to their namespaces.
    """

    root_start: int = -1
    root_end: int = -1
    root_self_closing: bool = False
    root_prefixes: dict[str, str] = field(default_factory=dict)
    credentials: list[SvgCredential] = field(default_factory=list)
    legacy: bool = False


def scan_svg(data: bytes, *, limits: Limits) -> SvgScan:
    """Parse an SVG with entities and DTDs refused and locate its credential elements.

    Raises ``SVG_FORBIDDEN`` for an entity declaration (billion laughs, XXE),
    an entity reference the parser would have to resolve, or an external DTD
    other than the W3C SVG one (never fetched either way); ``SVG_MALFORMED``
    for XML that is not well formed or whose root is not ``<svg>``; and
    ``INPUT_TOO_LARGE`` over ``limits.max_svg_bytes`` or
    ``limits.max_svg_elements``.
    """
    if len(data) > limits.max_svg_bytes:
        raise InputTooLarge(Code.INPUT_TOO_LARGE, "The SVG image is larger than allowed.",
                            size=len(data), limit=limits.max_svg_bytes)
    scan = SvgScan()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[SvgCredential | None] = []
    pending_prefixes: dict[str, str] = {}
    elements = 0

    def forbid(what: str) -> None:
        raise InputError(Code.SVG_FORBIDDEN, f"The SVG image contains {what}, which is refused "
                         "for safety; re-export it without a DOCTYPE or entities.")

    def doctype(name, system_id, public_id, has_internal_subset):
        if has_internal_subset:
            forbid("an internal DTD subset")
        if (system_id or public_id) and not (public_id or "").startswith(_KNOWN_SVG_PUBLIC_IDS):
            forbid("a reference to an external DTD")

    def namespace(prefix, uri):
        pending_prefixes[prefix or ""] = uri

    def start(name, attributes):
        nonlocal elements
        elements += 1
        if elements > limits.max_svg_elements:
            raise InputTooLarge(Code.INPUT_TOO_LARGE, "The SVG image has more elements than "
                                "allowed.", limit=limits.max_svg_elements)
        index = parser.CurrentByteIndex
        if scan.root_start < 0:
            if name not in (f"{_SVG_XMLNS} svg", "svg"):
                raise InputError(Code.SVG_MALFORMED, "The XML document is not an SVG image.")
            scan.root_start, scan.root_prefixes = index, dict(pending_prefixes)
            scan.root_end = _tag_end(data, index)
            scan.root_self_closing = data[scan.root_end - 2 : scan.root_end] == b"/>"
        pending_prefixes.clear()
        if name == f"{SVG_NAMESPACE} {SVG_ELEMENT}":
            found = SvgCredential(index, verify=attributes.get(SVG_VERIFY_ATTRIBUTE))
            tag_end = _tag_end(data, index)
            if data[tag_end - 2 : tag_end] == b"/>":
                # expat reports the end of an empty-element tag just after it
                found.end = tag_end
            scan.credentials.append(found)
            stack.append(found)
            return
        if name.startswith(f"{_OB2_SVG_NAMESPACE} "):
            scan.legacy = True
        stack.append(stack[-1] if stack else None)

    def end(name):
        found = stack.pop()
        if name == f"{SVG_NAMESPACE} {SVG_ELEMENT}" and found is not None and found.end < 0:
            found.end = _tag_end(data, parser.CurrentByteIndex)

    def text(content):
        if stack and stack[-1] is not None:
            stack[-1].text.append(content)

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = lambda *args: forbid("an entity declaration")
    parser.UnparsedEntityDeclHandler = lambda *args: forbid("an entity declaration")
    parser.NotationDeclHandler = lambda *args: forbid("a notation declaration")
    parser.ExternalEntityRefHandler = lambda *args: forbid("an external entity")
    parser.SkippedEntityHandler = lambda name, is_pe: forbid(f"a reference to entity {name!r}")
    parser.StartNamespaceDeclHandler = namespace
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        raise InputError(Code.SVG_MALFORMED, f"The SVG image is not well-formed XML: "
                         f"{expat.ErrorString(exc.code)}.", line=exc.lineno,
                         column=exc.offset + 1) from exc
    except InputError:
        raise
    except (ValueError, UnicodeError, LookupError) as exc:  # unknown or broken encodings
        raise InputError(Code.SVG_MALFORMED, "The SVG image's text encoding cannot be "
                         "read.") from exc
    return scan


def _tag_end(data: bytes, start: int) -> int:
    """The index just after the ``>`` closing the tag that starts at ``start``."""
    match = _TAG.match(data, start)
    if match is None:
        raise InputError(Code.SVG_MALFORMED, "The SVG image ends inside a tag.")
    return match.end()


def unbake_svg(data: bytes, *, limits: Limits) -> str:
    """Return the credential baked into an SVG: the ``verify`` JWS or the JSON text.

    Raises ``NO_CREDENTIAL``, ``MULTIPLE_CREDENTIALS`` (two elements, or one
    with both a ``verify`` attribute and content) and the ``scan_svg`` errors.
    """
    texts: list[str] = []
    scan = scan_svg(data, limits=limits)
    for found in scan.credentials:
        content = "".join(found.text).strip()
        if found.verify is not None and content:
            raise InputError(Code.MULTIPLE_CREDENTIALS, "The SVG credential element has both a "
                             "verify attribute and content; it must hold exactly one.")
        texts.append(found.verify if found.verify is not None else content)
    return _exactly_one(texts, "SVG", scan.legacy)


def _png_malformed(message: str, **details) -> InputError:
    return InputError(Code.PNG_MALFORMED, message, **details)


__all__ = [
    "PNG_KEYWORD",
    "PNG_SIGNATURE",
    "SVG_NAMESPACE",
    "SVG_PREFIX",
    "Chunk",
    "SvgCredential",
    "SvgScan",
    "TextChunk",
    "is_credential_chunk",
    "iter_chunks",
    "parse_itxt",
    "scan_svg",
    "unbake_png",
    "unbake_svg",
]
