"""The Bitstring Status List codec: published vectors, round trips, bad input."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest

from errors import Code, InputError, InputTooLarge
from verifier.status import MIN_LIST_SIZE, bit_is_set, decode_status_list, encode_status_list, set_bit

SHARED = Path(__file__).resolve().parents[3] / "shared"
TESTLIST = SHARED / "spec/examples/1edtech-validator-ob30/bit-string-list/testlist.json"


@pytest.fixture(scope="module")
def testlist_encoded() -> str:
    if not TESTLIST.exists():
        pytest.skip(f"reference vector not found at {TESTLIST}")
    return json.loads(TESTLIST.read_text())["credentialSubject"]["encodedList"]


def test_decode_1edtech_testlist_has_only_index_23_set(testlist_encoded):
    bits = decode_status_list(testlist_encoded)
    assert len(bits) * 8 == MIN_LIST_SIZE == 131_072
    assert [i for i in range(len(bits) * 8) if bit_is_set(bits, i)] == [23]


def test_encode_1edtech_testlist_round_trips_byte_for_byte(testlist_encoded):
    assert encode_status_list(decode_status_list(testlist_encoded)) == testlist_encoded


def test_encode_is_multibase_base64url_without_padding_over_gzip():
    bits = set_bit(bytes(MIN_LIST_SIZE // 8), 5, True)
    encoded = encode_status_list(bits)
    assert encoded.startswith("u") and "=" not in encoded and "+" not in encoded and "/" not in encoded
    raw = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    assert gzip.decompress(raw) == bits


def test_encode_is_deterministic():
    bits = bytes(range(256)) * 64
    assert encode_status_list(bits) == encode_status_list(bits)


@pytest.mark.parametrize("index", [0, 7, 8, 23, 131_071])
def test_bit_order_index_zero_is_most_significant_bit_of_byte_zero(index):
    bits = set_bit(bytes(MIN_LIST_SIZE // 8), index, True)
    assert bits[index // 8] == 0x80 >> (index % 8)
    assert bit_is_set(bits, index)
    assert sum(bit_is_set(bits, i) for i in range(index - 1 if index else 0, min(index + 2, MIN_LIST_SIZE))) == 1
    assert set_bit(bits, index, False) == bytes(MIN_LIST_SIZE // 8)


def test_decode_accepts_legacy_statuslist2021_without_prefix_and_with_padding():
    bits = set_bit(bytes(16_384), 42, True)
    legacy = base64.urlsafe_b64encode(gzip.compress(bits)).decode()  # padded, no "u"
    assert decode_status_list(legacy) == bits
    assert decode_status_list(legacy.rstrip("=")) == bits


def test_decode_decompression_bomb_is_refused():
    bomb = encode_status_list(bytes(4 * 1024 * 1024))  # ~4 KiB encoded, 4 MiB decoded
    with pytest.raises(InputTooLarge) as raised:
        decode_status_list(bomb, max_bytes=1024 * 1024)
    assert raised.value.code is Code.INPUT_TOO_LARGE


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "u",
        "u!!!not base64!!!",
        "u" + base64.urlsafe_b64encode(b"plain text, not gzip").decode().rstrip("="),
        encode_status_list(bytes(16_384))[:-10],  # truncated stream
        "u" + base64.urlsafe_b64encode(gzip.compress(bytes(16)) + b"trailing").decode(),
        "u" + base64.urlsafe_b64encode(gzip.compress(b"")).decode(),
    ],
    ids=["empty", "prefix-only", "not-base64", "not-gzip", "truncated", "trailing-data", "empty-list"],
)
def test_decode_garbage_is_status_list_invalid(garbage):
    with pytest.raises(InputError) as raised:
        decode_status_list(garbage)
    assert raised.value.code is Code.STATUS_LIST_INVALID


def test_decode_non_string_is_status_list_invalid():
    with pytest.raises(InputError) as raised:
        decode_status_list(None)  # type: ignore[arg-type]
    assert raised.value.code is Code.STATUS_LIST_INVALID


@pytest.mark.parametrize("index", [-1, 131_072, True, "3"])
def test_bit_is_set_outside_the_list_is_status_entry_invalid(index):
    with pytest.raises(InputError) as raised:
        bit_is_set(bytes(16_384), index)
    assert raised.value.code is Code.STATUS_ENTRY_INVALID


def test_remembered_lists_are_per_value_and_refusals_are_never_remembered():
    """decode_status_list remembers recent small lists: each value still decodes to its own bits."""
    plain = bytes(MIN_LIST_SIZE // 8)
    revoked = set_bit(plain, 7, True)
    for _ in range(3):
        assert decode_status_list(encode_status_list(plain)) == plain
        assert decode_status_list(encode_status_list(revoked)) == revoked
    with pytest.raises(InputError):
        decode_status_list("u!!not base64")
    with pytest.raises(InputError):
        decode_status_list("u!!not base64")
