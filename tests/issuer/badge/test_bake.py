"""issuer.badge.bake: bake -> unbake round trips, byte-for-byte preservation, re-baking."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image

from errors import Code, InputError
from issuer.badge.bake import bake_png, bake_svg
from verifier.sources import Limits, extract
from verifier.unbake import SVG_NAMESPACE, is_credential_chunk, iter_chunks, parse_itxt, unbake_png, unbake_svg

LIMITS = Limits()
REAL = Path(__file__).resolve().parents[4] / "shared" / "real-world" / "credentials" / "1edtech-validator"
CREDENTIAL = {"@context": ["https://www.w3.org/ns/credentials/v2"], "name": "Zoë & <Co> ]]> badge",
              "credits": 1.5}
JWT = "eyJhbGciOiJFZERTQSJ9.eyJ2YyI6e319.c2lnbmF0dXJl"


def _image(mode: str = "RGBA", fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    image = Image.new(mode, (40, 30), (200, 30, 60, 255) if mode == "RGBA" else 128)
    image.info["Software"] = "x"
    image.save(out, format=fmt)
    return out.getvalue()


def _chunks(data: bytes):
    return list(iter_chunks(data, limits=LIMITS))


def test_bake_png_round_trips_json_and_jwt():
    text = json.dumps(CREDENTIAL, ensure_ascii=False)
    assert unbake_png(bake_png(_image(), text), limits=LIMITS) == text
    assert extract(bake_png(_image(), JWT), limits=LIMITS).jwt == JWT


def test_bake_png_puts_an_uncompressed_itxt_right_after_ihdr():
    chunks = _chunks(bake_png(_image(), JWT))
    assert [c.type for c in chunks[:2]] == ["IHDR", "iTXt"]
    field = parse_itxt(chunks[1].data, limits=LIMITS)
    assert (field.keyword, field.compressed, field.language, field.translated_keyword, field.text) == (
        "openbadgecredential", False, "", "", JWT)


def test_bake_png_copies_every_other_chunk_byte_for_byte():
    original = (REAL / "ed-baked-json-png.png").read_bytes()
    baked = bake_png(original, JWT)
    def others(data):
        return [data[c.start:c.end] for c in _chunks(data) if not is_credential_chunk(c)]
    assert others(baked) == others(original)
    assert len(baked) - len(original) == 12 + len(b"openbadgecredential\0\0\0\0\0") + len(JWT) - (
        12 + 1389)


def test_bake_png_rebaking_replaces_the_credential():
    once = bake_png(_image(), "first.jwt.value")
    twice = bake_png(once, JWT)
    assert sum(is_credential_chunk(c) for c in _chunks(twice)) == 1
    assert unbake_png(twice, limits=LIMITS) == JWT
    assert bake_png(twice, "first.jwt.value") == once


def test_bake_png_real_third_party_image_is_rebaked():
    original = (REAL / "ed-baked-jwt-png.png").read_bytes()
    assert unbake_png(bake_png(original, JWT), limits=LIMITS) == JWT


@pytest.mark.parametrize("mode", ["RGBA", "L", "P", "1"])
def test_bake_png_pillow_still_decodes_the_image(mode):
    original = _image(mode)
    baked = bake_png(original, json.dumps(CREDENTIAL))
    with Image.open(io.BytesIO(baked)) as image:
        image.load()
        with Image.open(io.BytesIO(original)) as before:
            assert image.tobytes() == before.tobytes()
        assert image.text["openbadgecredential"] == json.dumps(CREDENTIAL)


def test_bake_png_refuses_a_broken_image_and_empty_text():
    with pytest.raises(InputError) as info:
        bake_png(_image()[:-20], JWT)
    assert info.value.code is Code.PNG_MALFORMED
    with pytest.raises(InputError) as info:
        bake_png(_image(fmt="GIF"), JWT)
    assert info.value.code is Code.PNG_MALFORMED
    with pytest.raises(InputError):
        bake_png(_image(), "  ")


SVG = b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">\n  <circle r="4"/>\n</svg>\n'


def test_bake_svg_round_trips_a_dict_with_cdata_terminator():
    baked = bake_svg(SVG, CREDENTIAL)
    assert json.loads(unbake_svg(baked, limits=LIMITS)) == CREDENTIAL
    assert extract(baked, limits=LIMITS).credential == CREDENTIAL


def test_bake_svg_json_text_round_trips_exactly():
    text = json.dumps(CREDENTIAL, ensure_ascii=False)
    assert unbake_svg(bake_svg(SVG, text), limits=LIMITS) == text


def test_bake_svg_jwt_goes_in_the_verify_attribute():
    baked = bake_svg(SVG, JWT)
    assert f'<openbadges:credential verify="{JWT}"/>'.encode() in baked
    assert extract(baked, limits=LIMITS).jwt == JWT


def test_bake_svg_is_first_child_with_namespace_on_root_and_rest_untouched():
    baked = bake_svg(SVG, JWT)
    root = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"'
    head = root + f' xmlns:openbadges="{SVG_NAMESPACE}">'.encode()
    assert baked.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n' + head + b"<openbadges:credential")
    assert baked.endswith(b'/>\n  <circle r="4"/>\n</svg>\n')


def test_bake_svg_rebaking_replaces_and_keeps_one_declaration():
    once = bake_svg(SVG, CREDENTIAL)
    twice = bake_svg(once, JWT)
    assert twice.count(b"<openbadges:credential") == 1
    assert twice.count(b"xmlns:openbadges") == 1
    assert unbake_svg(twice, limits=LIMITS) == JWT
    assert bake_svg(twice, CREDENTIAL) == once


def test_bake_svg_self_closing_root():
    baked = bake_svg(b'<svg xmlns="http://www.w3.org/2000/svg"/>', JWT)
    assert baked == (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="'
                     + SVG_NAMESPACE.encode() + b'"><openbadges:credential verify="' + JWT.encode()
                     + b'"/></svg>')
    assert unbake_svg(baked, limits=LIMITS) == JWT


def test_bake_svg_real_third_party_image_is_rebaked():
    original = (REAL / "ed-baked-json-svg.svg").read_bytes()
    baked = bake_svg(original, JWT)
    assert unbake_svg(baked, limits=LIMITS) == JWT
    assert baked.count(b"xmlns:openbadges") == 1


def test_bake_svg_refuses_hostile_and_unbakeable_svgs():
    with pytest.raises(InputError) as info:
        bake_svg(b'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg>&x;</svg>', JWT)
    assert info.value.code is Code.SVG_FORBIDDEN
    with pytest.raises(InputError) as info:
        bake_svg(b'<svg xmlns:openbadges="http://openbadges.org"/>', JWT)
    assert info.value.code is Code.SVG_MALFORMED
    with pytest.raises(InputError) as info:
        bake_svg('<?xml version="1.0" encoding="UTF-16"?><svg/>'.encode("utf-16"), JWT)
    assert info.value.code is Code.SVG_MALFORMED
    with pytest.raises(InputError):
        bake_svg(SVG, "not a credential")


def test_bake_svg_escapes_characters_xml_cannot_carry():
    credential = {"name": "bell\x07 and \ufffe"}
    assert extract(bake_svg(SVG, credential), limits=LIMITS).credential == credential
