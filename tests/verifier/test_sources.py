"""verifier.sources: capped reading, sniffing, strict JSON and the one extract entry point."""

from __future__ import annotations

import io
import json
import time

import pytest

from errors import Code, InputError, InputTooLarge
from verifier.sources import Extracted, Limits, extract, parse_json, read_source, sniff

LIMITS = Limits()


class _Endless(io.RawIOBase):
    """A stdin that never ends and counts what was read from it."""

    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        size = min(len(buffer), 1000)  # short reads, like a pipe
        buffer[:size] = b"{" * size
        self.served += size
        return size


def test_read_source_reads_a_file(tmp_path):
    path = tmp_path / "c.json"
    path.write_bytes(b'{"a": 1}')
    assert read_source(path, limits=LIMITS) == b'{"a": 1}'
    assert read_source(str(path), limits=LIMITS) == b'{"a": 1}'


def test_read_source_dash_reads_stdin():
    assert read_source("-", limits=LIMITS, stdin=io.BytesIO(b"abc")) == b"abc"


def test_read_source_over_the_cap_stops_reading_at_one_byte_more():
    stdin = _Endless()
    with pytest.raises(InputTooLarge) as info:
        read_source("-", limits=Limits(max_bytes=10_000), stdin=stdin)
    assert info.value.code is Code.INPUT_TOO_LARGE
    assert stdin.served == 10_001


def test_read_source_exactly_at_the_cap_is_accepted(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"x" * 100)
    assert len(read_source(path, limits=Limits(max_bytes=100))) == 100


@pytest.mark.parametrize("name", ["missing.json", "."])
def test_read_source_unreadable_path_is_input_unreadable(tmp_path, name):
    with pytest.raises(InputError) as info:
        read_source(tmp_path / name, limits=LIMITS)
    assert info.value.code is Code.INPUT_UNREADABLE


@pytest.mark.parametrize("data, container", [
    (b"\x89PNG\r\n\x1a\n...", "png"),
    (b'  {"a": 1}', "json"),
    (b"\xef\xbb\xbf[1]", "json"),
    (b"<?xml version='1.0'?><svg/>", "svg"),
    (b"\n<svg xmlns='http://www.w3.org/2000/svg'/>", "svg"),
    (b"<!DOCTYPE svg PUBLIC '-//W3C//DTD SVG 1.1//EN' 'x'><svg/>", "svg"),
    (b"eyJhbGciOiJFZERTQSJ9.eyJ9.c2ln\n", "jwt"),
])
def test_sniff_recognises_containers(data, container):
    assert sniff(data) == container


@pytest.mark.parametrize("data", [b"", b"   \n", b"hello", b"GIF89a", b"\x00\x01", b"a.b", b"<html/>"])
def test_sniff_anything_else_is_container_unknown(data):
    with pytest.raises(InputError) as info:
        sniff(data)
    assert info.value.code is Code.CONTAINER_UNKNOWN


def test_parse_json_returns_the_object():
    assert parse_json(b'{"name": "Zo\xc3\xab", "credits": 1.5}', limits=LIMITS) == {"name": "Zoë", "credits": 1.5}
    assert parse_json('{"a": []}', limits=LIMITS) == {"a": []}


def test_parse_json_brackets_inside_strings_do_not_count_as_depth():
    assert parse_json(json.dumps({"a": "[" * 1000 + '\\"{'}), limits=LIMITS)


def test_parse_json_an_unterminated_string_runs_to_the_end_so_its_brackets_do_not_count():
    # The depth scan once needed the closing quote: an unterminated string made it retry from every
    # later quote (quadratic: a megabyte took minutes) and counted the brackets inside as nesting.
    with pytest.raises(InputError) as info:
        parse_json('{"a": "' + "[" * 100, limits=LIMITS)
    assert info.value.code is Code.JSON_MALFORMED
    with pytest.raises(InputError) as info:
        parse_json('{"a": "' + 'x\\"' * 1_000_000, limits=LIMITS)
    assert info.value.code is Code.JSON_MALFORMED


@pytest.mark.parametrize("depth, ok", [(64, True), (65, False)])
def test_parse_json_depth_limit_is_exact(depth, ok):
    text = '{"a": ' * (depth - 1) + "{}" + "}" * (depth - 1)
    if ok:
        assert parse_json(text, limits=LIMITS)
    else:
        with pytest.raises(InputTooLarge) as info:
            parse_json(text, limits=LIMITS)
        assert info.value.code is Code.JSON_TOO_DEEP


@pytest.mark.parametrize("depth, ok", [(64, True), (65, False)])
def test_parse_json_depth_counts_nesting_not_brackets_in_strings(depth, ok):
    # Text with no more opening brackets than the limit skips the scan; brackets in strings send it to
    # the scan, which must still count only nesting.
    text = '{"s": "' + "[{" * 200 + '", "a": ' * 1 + '{"a": ' * (depth - 2) + "{}" + "}" * (depth - 2) + "}"
    if ok:
        assert parse_json(text, limits=LIMITS)["s"].startswith("[{")
    else:
        with pytest.raises(InputTooLarge) as info:
            parse_json(text, limits=LIMITS)
        assert info.value.code is Code.JSON_TOO_DEEP


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_parse_json_10000_deep_is_json_too_deep_quickly(opener):
    start = time.perf_counter()
    with pytest.raises(InputTooLarge) as info:
        parse_json(opener * 10_000, limits=LIMITS)
    assert info.value.code is Code.JSON_TOO_DEEP
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("text, line, column", [
    ('{"a": 1,}', 1, 9),
    ('{\n  "a": tru\n}', 2, 8),
    ('{"a": 1} x', 1, 10),
])
def test_parse_json_malformed_has_line_and_column(text, line, column):
    with pytest.raises(InputError) as info:
        parse_json(text, limits=LIMITS)
    assert info.value.code is Code.JSON_MALFORMED
    assert (info.value.details["line"], info.value.details["column"]) == (line, column)


def test_parse_json_invalid_utf8_is_malformed_with_position():
    with pytest.raises(InputError) as info:
        parse_json(b'{\n "a": "\xff"}', limits=LIMITS)
    assert info.value.code is Code.JSON_MALFORMED
    assert info.value.details == {"line": 2, "column": 8}


@pytest.mark.parametrize("text", ['{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}'])
def test_parse_json_nan_and_infinity_are_refused(text):
    with pytest.raises(InputError) as info:
        parse_json(text, limits=LIMITS)
    assert info.value.code is Code.JSON_MALFORMED


def test_parse_json_duplicate_keys_are_refused():
    with pytest.raises(InputError) as info:
        parse_json('{"id": "a", "x": {"id": 1, "id": 2}}', limits=LIMITS)
    assert info.value.code is Code.JSON_MALFORMED and info.value.details["key"] == "id"


def test_parse_json_huge_integer_is_malformed_not_value_error():
    with pytest.raises(InputError) as info:
        parse_json('{"a": ' + "9" * 5000 + "}", limits=LIMITS)
    assert info.value.code is Code.JSON_MALFORMED


@pytest.mark.parametrize("text", ["[]", "1", '"s"', "null"])
def test_parse_json_non_object_is_json_not_object(text):
    with pytest.raises(InputError) as info:
        parse_json(text, limits=LIMITS)
    assert info.value.code is Code.JSON_NOT_OBJECT


def test_parse_json_over_the_size_cap_is_input_too_large():
    with pytest.raises(InputTooLarge) as info:
        parse_json('{"a": "' + "x" * 200 + '"}', limits=Limits(max_bytes=100))
    assert info.value.code is Code.INPUT_TOO_LARGE


def test_extract_json():
    extracted = extract(b'{"type": ["VerifiableCredential"]}', limits=LIMITS)
    assert extracted == Extracted("json", '{"type": ["VerifiableCredential"]}', "json",
                                  credential={"type": ["VerifiableCredential"]})


def test_extract_jwt_strips_whitespace():
    extracted = extract(b"  aGVhZA.cGF5bG9hZA.c2ln\n", limits=LIMITS)
    assert (extracted.container, extracted.kind, extracted.jwt, extracted.credential) == (
        "jwt", "jwt", "aGVhZA.cGF5bG9hZA.c2ln", None)


@pytest.mark.parametrize("data", [b"..", b"a..c", b".b.c", b"a..", b".b."])
def test_extract_jwt_with_an_empty_header_or_payload_is_jwt_malformed(data):
    with pytest.raises(InputError) as info:
        extract(data, limits=LIMITS)
    assert info.value.code is Code.JWT_MALFORMED


def test_extract_jwt_with_an_empty_signature_is_read_so_the_proof_check_can_call_it_unsigned():
    extracted = extract(b"aGVhZA.cGF5bG9hZA.\n", limits=LIMITS)
    assert (extracted.container, extracted.jwt) == ("jwt", "aGVhZA.cGF5bG9hZA.")


def test_extract_over_the_cap_is_input_too_large():
    with pytest.raises(InputTooLarge):
        extract(b"{" + b" " * 200 + b"}", limits=Limits(max_bytes=100))


def test_extract_baked_svg_with_jwt_and_json():
    ns = "https://purl.imsglobal.org/ob/v3p0"
    jwt_svg = f'<svg xmlns:openbadges="{ns}"><openbadges:credential verify="a.b.c"/></svg>'
    assert extract(jwt_svg.encode(), limits=LIMITS).jwt == "a.b.c"
    json_svg = f'<svg xmlns:openbadges="{ns}"><openbadges:credential><![CDATA[ {{"a": 1}} ]]></openbadges:credential></svg>'
    extracted = extract(json_svg.encode(), limits=LIMITS)
    assert (extracted.container, extracted.kind, extracted.credential) == ("svg", "json", {"a": 1})


def test_extract_baked_text_that_is_neither_json_nor_jwt_is_json_malformed():
    ns = "https://purl.imsglobal.org/ob/v3p0"
    svg = f'<svg xmlns:openbadges="{ns}"><openbadges:credential>hello</openbadges:credential></svg>'
    with pytest.raises(InputError) as info:
        extract(svg.encode(), limits=LIMITS)
    assert info.value.code is Code.JSON_MALFORMED
