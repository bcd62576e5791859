"""issuer.badge.recipient: normalised e-mail, salted IdentityObject, registry lookup key."""

import hashlib
import hmac

import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st
from jsonschema import Draft201909Validator

from errors import Code, InputError
from issuer.badge.recipient import hash_identity, identity_object, lookup_key, new_salt, normalise_email
from verifier.recipient import matches_identity, normalise_email as normal_form

STRICT_SCHEMA = (Path(__file__).resolve().parents[4]
                 / "shared/spec/schemas/ob-v3p0/json/ob_v3p0_achievementcredential_schema.json")


@pytest.mark.parametrize("text, expected", [
    ("  Ana.Lima@Example.ORG \n", "ana.lima@example.org"),
    ("o'brien+ce@library.lakeshore.example", "o'brien+ce@library.lakeshore.example"),
    ("José@bibliothèque.example", "josé@bibliothèque.example"),
])
def test_normalise_email_strips_and_lowercases(text, expected):
    assert normalise_email(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "ana", "ana@", "@example.org", "ana@example", "ana@@example.org",
                                  "ana lima@example.org", "ana@exa mple.org", "ana@-example.org",
                                  "ana..lima@example.org", ".ana@example.org", "ana@example.123",
                                  "<ana@example.org>", "ana@example_org.com", "a" * 250 + "@example.org"])
def test_normalise_email_rejects_unusable_addresses(text):
    with pytest.raises(InputError) as caught:
        normalise_email(text)
    assert caught.value.code is Code.RECIPIENT_INVALID


def test_hash_identity_appends_the_salt_to_the_normalised_address():
    assert hash_identity(" A@Example.com", "Kosher") == (
        "sha256$" + hashlib.sha256(b"a@example.comKosher").hexdigest())


def test_identity_object_is_schema_valid_and_matched_by_the_verifier():
    salt = new_salt()
    identity = identity_object("Ana@Example.org", salt=salt)
    assert identity == {"type": "IdentityObject", "identityHash": hash_identity("ana@example.org", salt),
                        "identityType": "emailAddress", "hashed": True, "salt": salt}
    assert matches_identity(identity, "ana@example.org")
    assert matches_identity(identity, "ANA@example.org")
    assert not matches_identity(identity, "bo@example.org")


def test_identity_object_passes_the_strict_identity_object_definition():
    schema = json.loads(STRICT_SCHEMA.read_text("utf-8"))
    validator = Draft201909Validator({"$defs": schema["$defs"], "$ref": "#/$defs/IdentityObject"})
    assert list(validator.iter_errors(identity_object("ana@example.org", salt="s"))) == []
    assert list(validator.iter_errors({**identity_object("ana@example.org", salt="s"), "extra": 1}))


def test_new_salt_is_random_hex_of_16_bytes():
    salts = {new_salt() for _ in range(20)}
    assert len(salts) == 20
    assert all(len(s) == 32 and bytes.fromhex(s) for s in salts)


def test_lookup_key_is_an_hmac_of_the_normalised_address():
    secret = bytes(range(32))
    assert lookup_key(" Ana@Example.org", secret) == hmac.new(secret, b"ana@example.org", hashlib.sha256).hexdigest()
    assert lookup_key("ana@example.org", secret) != lookup_key("ana@example.org", bytes(32))


def test_lookup_key_refuses_a_short_secret():
    with pytest.raises(Exception) as caught:
        lookup_key("ana@example.org", b"short")
    assert caught.value.code is Code.CONFIG_INVALID



@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=30),
       st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=30))
def test_an_ascii_address_is_refused_for_control_characters_exactly_as_by_their_unicode_category(local, domain):
    """The ASCII fast path (one regex search) agrees with the category rule every other address goes through."""
    text = f"{local}@{domain}.org"
    has_control = any(unicodedata.category(c) in ("Cc", "Cf") for c in normal_form(text))
    try:
        normalise_email(text)
    except InputError as error:
        assert ("control or invisible" in error.message) == has_control
    else:
        assert not has_control
