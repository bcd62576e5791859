"""Issuer-side status: BitstringStatusListEntry and the unsigned list credential."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from errors import Code, InputError
from issuer.badge.status import StatusEntry, build_status_list_credential, new_bitstring, status_entry
from verifier.status import MIN_LIST_SIZE, bit_is_set, decode_status_list, set_bit

LIST_URL = "https://badges.example.org/status/revocation/1"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_status_entry_has_the_bitstring_shape_with_a_string_index():
    assert status_entry(LIST_URL, 94567, "revocation") == {
        "id": f"{LIST_URL}#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": LIST_URL,
    }


def test_status_entry_value_object_renders_the_same_dict():
    assert StatusEntry(LIST_URL, 3, "suspension").to_dict() == status_entry(LIST_URL, 3, "suspension")


@pytest.mark.parametrize(("index", "purpose"), [(-1, "revocation"), (1, "refresh"), (True, "revocation")])
def test_status_entry_bad_values_are_status_entry_invalid(index, purpose):
    with pytest.raises(InputError) as raised:
        status_entry(LIST_URL, index, purpose)
    assert raised.value.code is Code.STATUS_ENTRY_INVALID


def test_build_status_list_credential_is_an_unsigned_w3c_list_credential():
    bits = set_bit(new_bitstring(), 23, True)
    issuer = {"id": "did:key:z6MkExample", "type": ["Profile"], "name": "Continuing Education"}
    credential = build_status_list_credential(LIST_URL, issuer, "revocation", bits,
                                              NOW.astimezone(timezone(timedelta(hours=2))))
    assert credential["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert credential["id"] == LIST_URL
    assert credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert credential["issuer"] == issuer
    assert credential["validFrom"] == "2026-03-01T12:00:00Z"
    assert "proof" not in credential and "validUntil" not in credential
    subject = credential["credentialSubject"]
    assert subject["id"] == f"{LIST_URL}#list"
    assert subject["type"] == "BitstringStatusList"
    assert subject["statusPurpose"] == "revocation"
    decoded = decode_status_list(subject["encodedList"])
    assert decoded == bits and bit_is_set(decoded, 23)


def test_build_status_list_credential_with_valid_until():
    credential = build_status_list_credential(LIST_URL, "did:key:z6MkExample", "suspension", new_bitstring(),
                                              NOW, valid_until=NOW + timedelta(days=1))
    assert credential["validUntil"] == "2026-03-02T12:00:00Z"
    assert credential["credentialSubject"]["statusPurpose"] == "suspension"


def test_build_status_list_credential_refuses_a_list_below_the_spec_minimum():
    with pytest.raises(InputError) as raised:
        build_status_list_credential(LIST_URL, "did:key:z6Mk", "revocation", bytes(1024), NOW)
    assert raised.value.code is Code.STATUS_LIST_INVALID


def test_build_status_list_credential_refuses_a_naive_date():
    with pytest.raises(InputError) as raised:
        build_status_list_credential(LIST_URL, "did:key:z6Mk", "revocation", new_bitstring(), datetime(2026, 1, 1))
    assert raised.value.code is Code.DATE_INVALID


def test_new_bitstring_is_empty_and_at_least_the_minimum():
    assert new_bitstring() == bytes(MIN_LIST_SIZE // 8)
    with pytest.raises(InputError):
        new_bitstring(MIN_LIST_SIZE - 8)
