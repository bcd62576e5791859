"""Bake a signed credential into a badge image: bytes in, bytes out.

The format (keyword, namespace, chunk walker, SVG scanner) belongs to
``verifier.unbake``; this module only writes it. Baking never re-encodes an
image: a PNG keeps every other chunk byte for byte, an SVG every byte
outside the credential element and the one namespace declaration. Baking
an image that already holds a credential replaces it (OB 3.0 §5.3 leaves
"replace or refuse" to us; replacing lets a renewed credential be re-baked).
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from typing import Any, Callable

from errors import Code, InputError
from verifier.sources import Limits
from verifier.unbake import (
    PNG_KEYWORD,
    PNG_SIGNATURE,
    SVG_NAMESPACE,
    SVG_PREFIX,
    is_credential_chunk,
    iter_chunks,
    scan_svg,
)

_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_DEFAULT_LIMITS = Limits()
# Characters XML 1.0 cannot carry even in CDATA (controls are escaped by json.dumps).
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def bake_png(image: bytes, credential_text: str, *, limits: Limits = _DEFAULT_LIMITS) -> bytes:
    """Return ``image`` with ``credential_text`` baked in an ``openbadgecredential`` iTXt chunk.

    The chunk is uncompressed, with empty language and translated keyword
    (OB 3.0 §5.3.1), and goes right after IHDR; every other chunk is copied
    byte for byte and any earlier credential chunk is dropped. The image
    must be a sound PNG (``PNG_MALFORMED`` / ``PNG_TOO_LARGE`` otherwise).
    """
    return png_baker(image, limits=limits)(credential_text)


def png_baker(image: bytes, *, limits: Limits = _DEFAULT_LIMITS) -> Callable[[str], bytes]:
    """``bake_png`` for many credentials into one ``image``: its chunks are read once (a roster's art)."""
    before, after = [PNG_SIGNATURE], []  # iter_chunks checks that IHDR comes first
    for chunk in iter_chunks(image, limits=limits):
        if not is_credential_chunk(chunk):
            (before if chunk.type == "IHDR" else after).append(image[chunk.start : chunk.end])
    head, tail = b"".join(before), b"".join(after)

    def bake(credential_text: str) -> bytes:
        if not isinstance(credential_text, str) or not credential_text.strip():
            raise InputError(Code.NO_CREDENTIAL, "There is no credential text to bake.")
        body = (PNG_KEYWORD.encode("latin-1") + b"\0" + b"\0\0" + b"\0" + b"\0"
                + credential_text.encode("utf-8"))
        return b"".join((head, _png_chunk(b"iTXt", body), tail))

    return bake


def _png_chunk(chunk_type: bytes, body: bytes) -> bytes:
    return (struct.pack(">I", len(body)) + chunk_type + body
            + struct.pack(">I", zlib.crc32(body, zlib.crc32(chunk_type))))


def bake_svg(svg: bytes, credential: dict[str, Any] | str, *,
             limits: Limits = _DEFAULT_LIMITS) -> bytes:
    """Return ``svg`` with the credential in an ``<openbadges:credential>`` first child.

    A dict (or a JSON object string) goes in as CDATA; a compact JWS goes in
    the ``verify`` attribute of an empty element. ``xmlns:openbadges`` is
    declared on the root ``<svg>`` if it is not already. Existing credential
    elements are removed. The SVG must be UTF-8 (or plain ASCII) and pass
    the same safety checks as when reading (``SVG_*`` codes).
    """
    _credential_element(credential)  # a bad credential is named before a bad image
    return svg_baker(svg, limits=limits)(credential)


def svg_baker(svg: bytes, *, limits: Limits = _DEFAULT_LIMITS) -> Callable[[dict[str, Any] | str], bytes]:
    """``bake_svg`` for many credentials into one ``svg``: it is scanned and checked once (a roster's art)."""
    scan = scan_svg(svg, limits=limits)
    if not _is_utf8(svg):
        raise InputError(Code.SVG_MALFORMED, "Only UTF-8 SVG images can be baked; re-save the "
                         "image as UTF-8.")
    bound = scan.root_prefixes.get(SVG_PREFIX)
    if bound not in (None, SVG_NAMESPACE):
        raise InputError(Code.SVG_MALFORMED, f"The SVG already binds the prefix {SVG_PREFIX!r} "
                         f"to {bound}; remove that Open Badges 2.0 markup before baking.",
                         namespace=bound)
    declaration = b"" if bound else f' xmlns:{SVG_PREFIX}="{SVG_NAMESPACE}"'.encode("ascii")
    # Cut the old credential elements, then rebuild the root start tag: edits
    # go from the end backwards so earlier offsets stay valid.
    body = svg
    for start, end in reversed(_outermost((c.start, c.end) for c in scan.credentials)):
        body = body[:start] + body[end:]
    tag_close = scan.root_end - (2 if scan.root_self_closing else 1)
    head = body[:tag_close] + declaration + b">"
    if scan.root_self_closing:
        name = body[scan.root_start + 1 : scan.root_end].split(None, 1)[0].rstrip(b"/>")
        tail = b"</" + name + b">" + body[scan.root_end :]
    else:
        tail = body[scan.root_end :]

    def bake(credential: dict[str, Any] | str) -> bytes:
        return head + _credential_element(credential).encode("utf-8") + tail

    return bake


def _outermost(spans) -> list[tuple[int, int]]:
    # A credential element nested in another goes with its parent.
    kept: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if not kept or start >= kept[-1][1]:
            kept.append((start, end))
    return kept


def _credential_element(credential: dict[str, Any] | str) -> str:
    tag = f"{SVG_PREFIX}:credential"
    if isinstance(credential, dict):
        text = json.dumps(credential, ensure_ascii=False, indent=2)
        if _NOT_XML_CHAR.search(text):  # \u escapes keep the same JSON value in plain ASCII
            text = json.dumps(credential, indent=2)
    elif isinstance(credential, str) and _JWS.fullmatch(credential.strip()):
        # base64url and dots need no attribute escaping
        return f'<{tag} verify="{credential.strip()}"/>'
    elif isinstance(credential, str) and credential.lstrip().startswith("{"):
        text = credential.strip()
        if _NOT_XML_CHAR.search(text):
            raise InputError(Code.SVG_MALFORMED, "The credential JSON holds characters an SVG "
                             "cannot carry; pass it as a dict instead.")
    else:
        raise InputError(Code.NO_CREDENTIAL, "The credential to bake must be a JSON object or "
                         "a compact JWS.")
    # "]]>" would end the CDATA section early: split it across two sections,
    # which XML parsers join back into the very same text.
    return f"<{tag}><![CDATA[{text.replace(']]>', ']]]]><![CDATA[>')}]]></{tag}>"


def _is_utf8(svg: bytes) -> bool:
    # Offsets from the scan are byte offsets and the element is written as
    # UTF-8, so the document's own encoding must be UTF-8 too.
    match = re.match(rb"\s*<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']+)", svg)
    declared = match.group(1).lower().replace(b"_", b"-") if match else b"utf-8"
    return declared in (b"utf-8", b"utf8", b"us-ascii", b"ascii") and not svg.startswith(
        (b"\xff\xfe", b"\xfe\xff"))


__all__ = ["bake_png", "bake_svg", "png_baker", "svg_baker"]
