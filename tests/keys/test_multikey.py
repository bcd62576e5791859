"""keys.multikey: multibase/multicodec and base64url, byte for byte against the W3C vector."""

from __future__ import annotations

import json
from pathlib import Path

import base58
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from errors import Code, InputError
from keys.ed25519 import KeyPair
from keys.multikey import (
    b64url_decode,
    b64url_encode,
    decode_multibase,
    decode_multikey,
    decode_private_multikey,
    encode_multibase,
    encode_multikey,
    encode_private_multikey,
    is_multikey,
)

SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec"
W3C_KEYPAIR = SPEC / "examples" / "w3c-vc-di-eddsa" / "keyPair.json"
IMPL_KEYPAIR = SPEC / "examples" / "ob-v3p0-impl-guide-vector" / "keypair.json"


@pytest.fixture(scope="module")
def w3c_keypair() -> dict[str, str]:
    return json.loads(W3C_KEYPAIR.read_text("utf-8"))


def test_w3c_vector_public_key_derives_from_private_seed(w3c_keypair):
    seed = decode_private_multikey(w3c_keypair["privateKeyMultibase"])
    derived = KeyPair.from_seed(seed).public_key
    assert encode_multikey(derived.raw) == w3c_keypair["publicKeyMultibase"]
    assert encode_private_multikey(seed) == w3c_keypair["privateKeyMultibase"]


def test_w3c_vector_prefixes_are_the_ed25519_multicodecs(w3c_keypair):
    public = decode_multibase(w3c_keypair["publicKeyMultibase"])
    private = decode_multibase(w3c_keypair["privateKeyMultibase"])
    assert public[:2] == b"\xed\x01" and len(public) == 34
    assert private[:2] == b"\x80\x26" and len(private) == 34
    assert w3c_keypair["publicKeyMultibase"].startswith("z6Mk")
    assert w3c_keypair["privateKeyMultibase"].startswith("z3u2")


def test_impl_guide_vector_multikey_matches_its_hex_key():
    vector = json.loads(IMPL_KEYPAIR.read_text("utf-8"))
    raw = bytes.fromhex(vector["publicKeyHex"])
    assert encode_multikey(raw) == vector["publicKeyMultibase"]
    assert decode_multikey(vector["publicKeyMultibase"]) == raw


@pytest.mark.parametrize("data", [b"\x00", b"\x00\x00\x01", bytes(range(256))])
def test_multibase_round_trips_including_leading_zero_bytes(data):
    assert decode_multibase(encode_multibase(data)) == data


@pytest.mark.parametrize("value", ["", "z", "u6Mk", "f00", "z0OIl", "z6Mk é", 42, None])
def test_decode_multibase_refuses_other_bases_and_bad_characters(value):
    with pytest.raises(InputError) as caught:
        decode_multibase(value)
    assert caught.value.code is Code.INPUT_UNREADABLE


def test_decode_multikey_refuses_a_private_key_in_the_public_slot(w3c_keypair):
    with pytest.raises(InputError) as caught:
        decode_multikey(w3c_keypair["privateKeyMultibase"])
    assert caught.value.code is Code.KEY_INVALID
    assert w3c_keypair["privateKeyMultibase"] not in str(caught.value)


@pytest.mark.parametrize("payload", [b"\xed\x01" + bytes(31), b"\xed\x01" + bytes(33), b"\x12\x00" + bytes(32)])
def test_decode_multikey_refuses_wrong_length_or_codec(payload):
    value = encode_multibase(payload)
    assert not is_multikey(value)
    with pytest.raises(InputError) as caught:
        decode_multikey(value)
    assert caught.value.code is Code.KEY_INVALID


def test_encode_multikey_refuses_wrong_length():
    with pytest.raises(InputError):
        encode_multikey(bytes(31))


@pytest.mark.parametrize("data", [b"", b"f", b"fo", b"foo", b"\xff\xfe\xfd\xfc"])
def test_b64url_round_trips_without_padding(data):
    encoded = b64url_encode(data)
    assert "=" not in encoded
    assert b64url_decode(encoded) == data


def test_b64url_uses_the_url_safe_alphabet():
    assert b64url_encode(b"\xfb\xff") == "-_8"


@pytest.mark.parametrize("value", ["Zm9v=", "Zm9vYg==", "+/8", "Zm9 v", "Zm9v\n", "A", "Zh", "é"])
def test_b64url_decode_refuses_padding_other_alphabets_and_non_canonical_forms(value):
    # "Zh" decodes to b"f" only if the unused bits are ignored: a second spelling of "Zg".
    with pytest.raises(InputError) as caught:
        b64url_decode(value)
    assert caught.value.code is Code.INPUT_UNREADABLE


def test_a_megabyte_of_base58_is_refused_unread():
    # base58 decoding is quadratic: a megabyte-long proofValue would take minutes to decode.
    from keys.multikey import MAX_BASE58_CHARS, decode_multibase

    with pytest.raises(InputError, match="longer than the 1024 characters"):
        decode_multibase("z" + "2" * 1_000_000)
    assert len(decode_multibase("z" + "2" * (MAX_BASE58_CHARS - 1))) > 700  # long but possible: decoded


BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@settings(max_examples=500, deadline=None)
@given(zeros=st.integers(0, 5), data=st.binary(max_size=120))
def test_base58_encoding_is_the_base58_packages_byte_for_byte(zeros, data):
    # multibase base58btc is hand-written for speed; the base58 package is the reference.
    raw = bytes(zeros) + data
    text = encode_multibase(raw)
    assert text == "z" + base58.b58encode(raw).decode("ascii")
    if raw:  # "z" alone is not a multibase value
        assert decode_multibase(text) == raw


@settings(max_examples=500, deadline=None)
@given(ones=st.integers(0, 5), text=st.text(BASE58_ALPHABET, min_size=0, max_size=300))
def test_base58_decoding_is_the_base58_packages_byte_for_byte(ones, text):
    value = "1" * ones + text
    if not value:
        return
    assert decode_multibase("z" + value) == base58.b58decode(value)


@settings(max_examples=200, deadline=None)
@given(text=st.text(BASE58_ALPHABET, min_size=1, max_size=40), position=st.integers(0, 40),
       stray=st.sampled_from(list("0OIl+/= \n_-") + ["\u0663", "\uff11", "\u00e9", "\x00"]))
def test_base58_with_a_character_outside_the_alphabet_is_refused_cleanly(text, position, stray):
    value = text[:position] + stray + text[position:]
    with pytest.raises(InputError) as caught:
        decode_multibase("z" + value)
    assert caught.value.code is Code.INPUT_UNREADABLE
    assert "not valid base58btc" in caught.value.message
    if not stray.isspace():  # the reference strips trailing whitespace; Badgesmith never did
        with pytest.raises(ValueError):
            base58.b58decode(value)
