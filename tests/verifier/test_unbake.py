"""verifier.unbake: the baking format, read from hostile PNG and SVG bytes."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import pytest

from errors import Code, InputError, InputTooLarge
from verifier.sources import Limits
from verifier.unbake import (
    PNG_KEYWORD,
    PNG_SIGNATURE,
    SVG_NAMESPACE,
    iter_chunks,
    parse_itxt,
    scan_svg,
    unbake_png,
    unbake_svg,
)

LIMITS = Limits()
REAL = Path(__file__).resolve().parents[3] / "shared" / "real-world" / "credentials" / "1edtech-validator"
CREDENTIAL = json.dumps({"@context": ["https://www.w3.org/ns/credentials/v2"], "name": "Zoë's badge"})


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(*extra: bytes, width: int = 1, height: int = 1) -> bytes:
    """A 1-bit grayscale PNG with ``extra`` chunks between IHDR and IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00\x00" * min(height, 4))  # never decoded when the size is refused
    return PNG_SIGNATURE + chunk(b"IHDR", ihdr) + b"".join(extra) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def itxt(text: str, keyword: str = PNG_KEYWORD, compressed: bool = False) -> bytes:
    payload = zlib.compress(text.encode()) if compressed else text.encode()
    return chunk(b"iTXt", keyword.encode() + b"\0" + bytes([compressed, 0]) + b"en\0\0" + payload)


def test_constants_are_the_ob3_baking_format():
    assert PNG_KEYWORD == "openbadgecredential"
    assert SVG_NAMESPACE == "https://purl.imsglobal.org/ob/v3p0"


def test_iter_chunks_gives_types_and_raw_spans():
    data = png(chunk(b"tEXt", b"Software\0x"))
    chunks = list(iter_chunks(data, limits=LIMITS))
    assert [c.type for c in chunks] == ["IHDR", "tEXt", "IDAT", "IEND"]
    assert b"".join(data[c.start:c.end] for c in chunks) == data[len(PNG_SIGNATURE):]


def test_unbake_png_reads_the_credential_among_other_text_chunks():
    data = png(chunk(b"tEXt", b"Comment\0hello"), itxt("other", keyword="Title"), itxt(CREDENTIAL),
               chunk(b"tEXt", b"Author\0me"))
    assert unbake_png(data, limits=LIMITS) == CREDENTIAL


def test_unbake_png_reads_a_compressed_itxt():
    assert unbake_png(png(itxt(CREDENTIAL, compressed=True)), limits=LIMITS) == CREDENTIAL


def test_unbake_png_zlib_bomb_is_input_too_large():
    bomb = zlib.compress(b" " * (12 * 1024 * 1024), 9)  # 12 KiB that inflate to 12 MiB
    body = PNG_KEYWORD.encode() + b"\0\1\0\0\0" + bomb
    with pytest.raises(InputTooLarge) as info:
        unbake_png(png(chunk(b"iTXt", body)), limits=LIMITS)
    assert info.value.code is Code.INPUT_TOO_LARGE


def test_unbake_png_without_credential_is_no_credential():
    with pytest.raises(InputError) as info:
        unbake_png(png(itxt("x", keyword="Title")), limits=LIMITS)
    assert info.value.code is Code.NO_CREDENTIAL


def test_unbake_png_ob2_badge_is_named_as_such():
    with pytest.raises(InputError) as info:
        unbake_png(png(itxt('{"a": 1}', keyword="openbadges")), limits=LIMITS)
    assert info.value.code is Code.NO_CREDENTIAL and info.value.details["legacy"] == "ob2"


def test_unbake_png_with_two_credentials_is_rejected():
    with pytest.raises(InputError) as info:
        unbake_png(png(itxt(CREDENTIAL), itxt(CREDENTIAL)), limits=LIMITS)
    assert info.value.code is Code.MULTIPLE_CREDENTIALS


@pytest.mark.parametrize("width, height", [(100_000, 100_000), (20_000, 1), (1, 2**31 - 1)])
def test_iter_chunks_huge_ihdr_is_png_too_large_before_decoding(width, height):
    with pytest.raises(InputTooLarge) as info:
        list(iter_chunks(png(width=width, height=height), limits=LIMITS))
    assert info.value.code is Code.PNG_TOO_LARGE


def test_iter_chunks_chunk_over_the_cap_is_png_too_large():
    data = png(chunk(b"tEXt", b"a\0" + b"x" * 2000))
    with pytest.raises(InputTooLarge) as info:
        list(iter_chunks(data, limits=Limits(max_png_chunk_bytes=1000)))
    assert info.value.code is Code.PNG_TOO_LARGE


@pytest.mark.parametrize("mangle", [
    pytest.param(lambda d: d[:-5], id="truncated"),
    pytest.param(lambda d: d[:40], id="cut-in-chunk"),
    pytest.param(lambda d: d[:8], id="signature-only"),
    pytest.param(lambda d: d[:20] + bytes([d[20] ^ 1]) + d[21:], id="bad-crc"),
    pytest.param(lambda d: d[:12] + b"IDAT" + d[16:], id="ihdr-not-first"),
    pytest.param(lambda d: d[:8] + b"\xff\xff\xff\xff" + d[12:], id="huge-length"),
    pytest.param(lambda d: d[:12] + b"I1HR" + d[16:], id="bad-type"),
])
def test_iter_chunks_broken_file_is_png_malformed(mangle):
    with pytest.raises(InputError) as info:
        list(iter_chunks(mangle(png(itxt(CREDENTIAL))), limits=LIMITS))
    assert info.value.code is Code.PNG_MALFORMED


@pytest.mark.parametrize("body", [
    b"no-null-at-all", b"openbadgecredential\0", b"openbadgecredential\0\2\0\0\0x",
    b"openbadgecredential\0\1\0\0\0not zlib", b"openbadgecredential\0\0\0\0\0\xff\xfe",
    b"openbadgecredential\0\0\0en",
])
def test_parse_itxt_malformed_is_png_malformed(body):
    with pytest.raises(InputError) as info:
        parse_itxt(body, limits=LIMITS)
    assert info.value.code is Code.PNG_MALFORMED


SVG_OPEN = ('<svg xmlns="http://www.w3.org/2000/svg" '
            f'xmlns:openbadges="{SVG_NAMESPACE}" viewBox="0 0 10 10">')


def test_unbake_svg_reads_json_in_cdata_with_whitespace():
    svg = f"{SVG_OPEN}\n  <openbadges:credential>\n  <![CDATA[\n  {CREDENTIAL}\n  ]]>\n  </openbadges:credential><g/></svg>"
    assert unbake_svg(svg.encode(), limits=LIMITS) == CREDENTIAL


def test_unbake_svg_reads_the_verify_attribute():
    svg = f'{SVG_OPEN}<openbadges:credential verify="aaa.bbb.ccc"/></svg>'
    assert unbake_svg(svg.encode(), limits=LIMITS) == "aaa.bbb.ccc"


def test_unbake_svg_matches_the_namespace_not_the_prefix():
    svg = f'<svg xmlns="http://www.w3.org/2000/svg"><ob:credential xmlns:ob="{SVG_NAMESPACE}" verify="a.b.c"/></svg>'
    assert unbake_svg(svg.encode(), limits=LIMITS) == "a.b.c"
    other = '<svg xmlns:openbadges="http://example.com/ns"><openbadges:credential verify="a.b.c"/></svg>'
    with pytest.raises(InputError) as info:
        unbake_svg(other.encode(), limits=LIMITS)
    assert info.value.code is Code.NO_CREDENTIAL


def test_unbake_svg_ob2_assertion_is_named_as_such():
    svg = '<svg xmlns:openbadges="http://openbadges.org"><openbadges:assertion verify="x"/></svg>'
    with pytest.raises(InputError) as info:
        unbake_svg(svg.encode(), limits=LIMITS)
    assert info.value.code is Code.NO_CREDENTIAL and info.value.details["legacy"] == "ob2"


def test_unbake_svg_with_attribute_and_content_is_ambiguous():
    svg = f'{SVG_OPEN}<openbadges:credential verify="a.b.c">{{"x": 1}}</openbadges:credential></svg>'
    with pytest.raises(InputError) as info:
        unbake_svg(svg.encode(), limits=LIMITS)
    assert info.value.code is Code.MULTIPLE_CREDENTIALS


def test_unbake_svg_with_two_credentials_is_rejected():
    one = f"<openbadges:credential><![CDATA[{CREDENTIAL}]]></openbadges:credential>"
    with pytest.raises(InputError) as info:
        unbake_svg(f"{SVG_OPEN}{one}<g>{one}</g></svg>".encode(), limits=LIMITS)
    assert info.value.code is Code.MULTIPLE_CREDENTIALS


@pytest.mark.parametrize("svg", [
    '<!DOCTYPE svg [<!ENTITY a "x">]><svg>&a;</svg>',
    '<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg>&x;</svg>',
    '<!DOCTYPE svg [<!ENTITY % p SYSTEM "http://127.0.0.1/x.dtd"> %p;]><svg/>',
    '<!DOCTYPE svg SYSTEM "http://127.0.0.1/evil.dtd"><svg/>',
    '<!DOCTYPE svg PUBLIC "-//EVIL//X" "file:///etc/passwd"><svg/>',
    '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg>&nbsp;</svg>',
    '<!DOCTYPE svg [<!NOTATION n SYSTEM "x">]><svg/>',
])
def test_scan_svg_entities_and_foreign_dtds_are_forbidden(svg):
    with pytest.raises(InputError) as info:
        scan_svg(svg.encode(), limits=LIMITS)
    assert info.value.code is Code.SVG_FORBIDDEN


def test_scan_svg_w3c_doctype_is_tolerated_and_never_fetched():
    svg = ('<?xml version="1.0"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
           '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg/>')
    assert scan_svg(svg.encode(), limits=LIMITS).root_start > 0


@pytest.mark.parametrize("svg", ["<svg>", "<svg></g>", "<html/>", "<?xml version='1.0' encoding='x-nope'?><svg/>",
                                 "<svg a='1' a='2'/>"])
def test_scan_svg_not_well_formed_is_svg_malformed(svg):
    with pytest.raises(InputError) as info:
        scan_svg(svg.encode(), limits=LIMITS)
    assert info.value.code is Code.SVG_MALFORMED


def test_scan_svg_too_many_elements_is_input_too_large():
    svg = "<svg>" + "<g/>" * 200 + "</svg>"
    with pytest.raises(InputTooLarge):
        scan_svg(svg.encode(), limits=Limits(max_svg_elements=100))


def test_scan_svg_locates_root_tag_and_credential_spans():
    svg = f'{SVG_OPEN}<openbadges:credential verify="a.b.c"/><g/><openbadges:credential>x</openbadges:credential></svg>'
    data = svg.encode()
    scan = scan_svg(data, limits=LIMITS)
    assert data[scan.root_start:scan.root_end] == SVG_OPEN.encode()
    assert scan.root_prefixes["openbadges"] == SVG_NAMESPACE
    spans = [data[c.start:c.end] for c in scan.credentials]
    assert spans == [b'<openbadges:credential verify="a.b.c"/>', b"<openbadges:credential>x</openbadges:credential>"]


@pytest.mark.parametrize("name", ["ed-baked-json-png.png", "ed-baked-jwt-png.png", "ed-baked-jwt-v1-png.png"])
def test_unbake_png_real_1edtech_images_hold_one_credential(name):
    text = unbake_png((REAL / name).read_bytes(), limits=LIMITS)
    if "json" in name:
        assert json.loads(text)["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    else:
        assert text.count(".") == 2 and text.startswith("eyJ")


def test_unbake_svg_real_1edtech_image_holds_one_credential():
    text = unbake_svg((REAL / "ed-baked-json-svg.svg").read_bytes(), limits=LIMITS)
    assert json.loads(text)["name"] == "Teamwork Badge"
