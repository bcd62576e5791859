"""The bad-input corpus: hostile files, generated here rather than committed as binaries.

Every file must fail with a ``BadgesmithError`` carrying its own code, never
another exception, never a hang; and fuzzed input may only ever raise
``BadgesmithError``.
"""

from __future__ import annotations

import json
import os
import random
import struct
import time
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from errors import BadgesmithError, Code
from verifier.sources import Extracted, Limits, extract, read_source
from verifier.unbake import PNG_KEYWORD, PNG_SIGNATURE, SVG_NAMESPACE

LIMITS = Limits()
CREDENTIAL = json.dumps({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"]})


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png(*extra: bytes, width: int = 2, height: int = 2) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + b"".join(extra)
            + _chunk(b"IDAT", zlib.compress(b"\0\0\0" * 2)) + _chunk(b"IEND", b""))


def _itxt(text: str, compressed: bytes | None = None) -> bytes:
    if compressed is not None:
        return _chunk(b"iTXt", PNG_KEYWORD.encode() + b"\0\1\0\0\0" + compressed)
    return _chunk(b"iTXt", PNG_KEYWORD.encode() + b"\0\0\0\0\0" + text.encode())


VALID_PNG = _png(_chunk(b"tEXt", b"Software\0test"), _itxt(CREDENTIAL))
SVG_HEAD = f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="{SVG_NAMESPACE}">'
ONE_SVG_CREDENTIAL = f"<openbadges:credential><![CDATA[{CREDENTIAL}]]></openbadges:credential>"
VALID_SVG = f"{SVG_HEAD}{ONE_SVG_CREDENTIAL}<circle r='4'/></svg>".encode()


def _bad_crc() -> bytes:
    data = bytearray(VALID_PNG)
    data[len(PNG_SIGNATURE) + 8 + 13] ^= 0xFF  # IHDR's CRC
    return bytes(data)


def _billion_laughs() -> bytes:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10))
    return f'<?xml version="1.0"?><!DOCTYPE svg [{entities}]><svg>&lol9;</svg>'.encode()


CORPUS = {
    "truncated.png": (lambda: VALID_PNG[:-30], Code.PNG_MALFORMED),
    "png-bomb-ihdr.png": (lambda: _png(width=100_000, height=100_000), Code.PNG_TOO_LARGE),
    "png-zlib-bomb.png": (lambda: _png(_itxt("", compressed=zlib.compress(b"\0" * (64 << 20), 9))),
                          Code.INPUT_TOO_LARGE),
    "two-credentials.png": (lambda: _png(_itxt(CREDENTIAL), _itxt(CREDENTIAL)), Code.MULTIPLE_CREDENTIALS),
    "bad-crc.png": (_bad_crc, Code.PNG_MALFORMED),
    "no-credential.png": (lambda: _png(), Code.NO_CREDENTIAL),
    "billion-laughs.svg": (_billion_laughs, Code.SVG_FORBIDDEN),
    "xxe.svg": (lambda: b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                b"<svg>&xxe;</svg>", Code.SVG_FORBIDDEN),
    "external-dtd.svg": (lambda: b'<?xml version="1.0"?><!DOCTYPE svg SYSTEM "http://127.0.0.1:9/evil.dtd">'
                         + VALID_SVG, Code.SVG_FORBIDDEN),
    "parameter-entity.svg": (lambda: b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY % ext SYSTEM '
                             b'"http://127.0.0.1:9/x.dtd"> %ext;]>' + VALID_SVG, Code.SVG_FORBIDDEN),
    "two-credentials.svg": (lambda: f"{SVG_HEAD}{ONE_SVG_CREDENTIAL}{ONE_SVG_CREDENTIAL}</svg>".encode(),
                            Code.MULTIPLE_CREDENTIALS),
    "unclosed.svg": (lambda: VALID_SVG[:-6], Code.SVG_MALFORMED),
    "deep.json": (lambda: b"[" * 10_000 + b"]" * 10_000, Code.JSON_TOO_DEEP),
    "deep-object.json": (lambda: b'{"a":' * 10_000, Code.JSON_TOO_DEEP),
    "huge.json": (lambda: b'{"a": "' + b"x" * (20 << 20) + b'"}', Code.INPUT_TOO_LARGE),
    "empty-parts.jwt": (lambda: b"..", Code.JWT_MALFORMED),
    "random.bin": (lambda: random.Random(7).randbytes(4096), Code.CONTAINER_UNKNOWN),
    "empty": (lambda: b"", Code.CONTAINER_UNKNOWN),
    "array.json": (lambda: b"[1, 2]", Code.JSON_NOT_OBJECT),
    "nan.json": (lambda: b'{"a": NaN}', Code.JSON_MALFORMED),
    "duplicate-keys.json": (lambda: b'{"id": 1, "id": 2}', Code.JSON_MALFORMED),
    "latin1.json": (lambda: b'{"name": "Zo\xeb"}', Code.JSON_MALFORMED),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Write every hostile file once; return name -> path."""
    folder = tmp_path_factory.mktemp("corpus")
    paths = {}
    for name, (build, _) in CORPUS.items():
        paths[name] = folder / name
        paths[name].write_bytes(build())
    return paths


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_file_fails_with_its_code_quickly(corpus, name):
    start = time.perf_counter()
    with pytest.raises(BadgesmithError) as info:
        extract(read_source(corpus[name], limits=LIMITS), limits=LIMITS)
    assert info.value.code is CORPUS[name][1], info.value.message
    assert time.perf_counter() - start < 1.0


def test_corpus_huge_file_is_refused_without_reading_it_all(corpus):
    size = os.path.getsize(corpus["huge.json"])
    with pytest.raises(BadgesmithError) as info:
        read_source(corpus["huge.json"], limits=LIMITS)
    assert info.value.code is Code.INPUT_TOO_LARGE and size > 20 << 20


def test_corpus_valid_files_are_read():
    assert extract(VALID_PNG, limits=LIMITS).credential["type"] == ["VerifiableCredential"]
    assert extract(VALID_SVG, limits=LIMITS).credential["type"] == ["VerifiableCredential"]


def _only_badgesmith_errors(data: bytes) -> None:
    try:
        result = extract(data, limits=LIMITS)
    except BadgesmithError:
        return
    assert isinstance(result, Extracted)
    assert (result.credential is not None) != (result.jwt is not None)


FUZZ = settings(max_examples=300, deadline=1000, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=2048))
def test_fuzz_random_bytes_raise_only_badgesmith_errors(data):
    _only_badgesmith_errors(data)


@FUZZ
@given(st.sampled_from([b"\x89PNG\r\n\x1a\n", b"<svg ", b"<?xml ", b"{", b"[", b"eyJ."]), st.binary(max_size=512))
def test_fuzz_container_prefixes_raise_only_badgesmith_errors(prefix, tail):
    _only_badgesmith_errors(prefix + tail)


_mutations = st.lists(st.tuples(st.sampled_from(["flip", "cut", "insert", "delete"]),
                                st.integers(min_value=0), st.binary(min_size=1, max_size=8)),
                      min_size=1, max_size=6)


def _mutate(data: bytes, steps) -> bytes:
    buffer = bytearray(data)
    for kind, where, payload in steps:
        at = where % (len(buffer) + 1)
        if kind == "flip" and at < len(buffer):
            buffer[at] ^= payload[0] or 1
        elif kind == "cut":
            del buffer[at:]
        elif kind == "insert":
            buffer[at:at] = payload
        elif kind == "delete":
            del buffer[at:at + len(payload)]
    return bytes(buffer)


@FUZZ
@given(_mutations)
def test_fuzz_mutated_png_raises_only_badgesmith_errors(steps):
    _only_badgesmith_errors(_mutate(VALID_PNG, steps))


@FUZZ
@given(_mutations)
def test_fuzz_mutated_svg_raises_only_badgesmith_errors(steps):
    _only_badgesmith_errors(_mutate(VALID_SVG, steps))


@FUZZ
@given(_mutations)
def test_fuzz_mutated_json_raises_only_badgesmith_errors(steps):
    _only_badgesmith_errors(_mutate(CREDENTIAL.encode(), steps))


@FUZZ
@given(st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(),
                    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=30))
def test_fuzz_json_values_raise_only_badgesmith_errors(value):
    _only_badgesmith_errors(json.dumps(value).encode())
