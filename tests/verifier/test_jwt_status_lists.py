"""Status lists published as VC-JWTs (Bitstring Status List §3.1; openbadgeslib publishes them so).

A list delivered as a compact JWS is verified like any VC-JWT credential — the issuer's key,
nbf/exp, the algorithm — and then read under the same rules as a JSON list: the credential's own
issuer, current, the purpose the entry names, and the list the entry names (its id).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from keys import eddsa_rdfc_2022
from keys.ed25519 import KeyPair
from keys.multikey import b64url_encode
from keys.vc_jwt import sign_jwt
from schemas.loader import offline_loader
from verifier.fetch import DictFetch
from verifier.pipeline import verify_bytes
from verifier.status import MIN_LIST_SIZE, encode_status_list, set_bit

NOW = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)
LIST = "https://badges.example.org/status/3f9c2a7d1e"
INDEX = 4711


@pytest.fixture(scope="module")
def key():
    return KeyPair.from_seed(b"\x07" * 32)


def _vm(key):
    return f"{key.public_key.did_key}#{key.public_key.to_multikey()}"


def _credential(key, *, purpose="revocation"):
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:1f0e6c2a-5b7d-4c8e-9a1b-2c3d4e5f6a7b",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": key.public_key.did_key, "type": ["Profile"], "name": "Lakeshore Library Association"},
        "validFrom": "2026-11-01T00:00:00Z", "name": "Storytime Basics",
        "credentialSubject": {"type": ["AchievementSubject"], "id": "did:example:ana",
                              "achievement": {"id": "https://badges.example.org/achievements/a",
                                              "type": ["Achievement"], "name": "Storytime Basics",
                                              "description": "A course.", "criteria": {"narrative": "Attend."}}},
        "credentialStatus": {"id": f"{LIST}#{INDEX}", "type": "BitstringStatusListEntry",
                             "statusPurpose": purpose, "statusListIndex": str(INDEX),
                             "statusListCredential": LIST},
    }
    signed = eddsa_rdfc_2022.sign(credential, key, verification_method=_vm(key), loader=offline_loader(),
                                  created=NOW - timedelta(days=1))
    return json.dumps(signed).encode()


def _list(key, *, list_id=LIST, purpose="revocation", revoked=False, issuer=None, **dates):
    bits = bytes(MIN_LIST_SIZE // 8)
    if revoked:
        bits = set_bit(bits, INDEX, True)
    status_list = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": list_id, "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer or key.public_key.did_key,
        "validFrom": dates.get("valid_from", "2026-11-20T00:00:00Z"),
        "credentialSubject": {"id": f"{list_id}#list", "type": "BitstringStatusList",
                              "statusPurpose": purpose, "encodedList": encode_status_list(bits)},
    }
    if "valid_until" in dates:
        status_list["validUntil"] = dates["valid_until"]
    return status_list


def _jwt(status_list, key, **options):
    return sign_jwt(status_list, key, verification_method=_vm(key), typ=options.pop("typ", "vc+jwt")).encode()


def _verify(credential, documents):
    return verify_bytes(credential, loader=offline_loader(), fetch=DictFetch(documents), now=NOW)


def test_jwt_status_list_with_the_bit_clear_establishes_status(key):
    report = _verify(_credential(key), {LIST: _jwt(_list(key), key)})
    assert report.check("status").outcome == "passed", report.check("status").message
    assert report.check("status").code == "STATUS_OK" and report.verified


@pytest.mark.parametrize("typ", ["vc+jwt", "JWT", "application/vc+jwt"])
def test_jwt_status_list_with_the_bit_set_is_revoked(key, typ):
    report = _verify(_credential(key), {LIST: _jwt(_list(key, revoked=True), key, typ=typ)})
    assert report.check("status").code == "REVOKED" and not report.verified


def test_jwt_suspension_list_is_read_for_its_purpose(key):
    data = _credential(key, purpose="suspension")
    assert _verify(data, {LIST: _jwt(_list(key, purpose="suspension", revoked=True), key)}) \
        .check("status").code == "SUSPENDED"
    wrong = _verify(data, {LIST: _jwt(_list(key, purpose="revocation"), key)}).check("status")
    assert wrong.code == "STATUS_LIST_INVALID" and "not suspension" in wrong.message


def test_jwt_status_list_signed_by_another_key_cannot_speak_for_the_issuer(key):
    stranger = KeyPair.from_seed(b"\x08" * 32)
    forged = _verify(_credential(key), {LIST: _jwt(_list(stranger, issuer=key.public_key.did_key), stranger)})
    assert forged.check("status").code == "STATUS_LIST_INVALID" and not forged.verified
    theirs = _verify(_credential(key), {LIST: _jwt(_list(stranger), stranger)}).check("status")
    assert theirs.code == "STATUS_LIST_INVALID" and "not by the credential's issuer" in theirs.message


def test_jwt_status_list_changed_after_signing_does_not_verify(key):
    header, payload, signature = _jwt(_list(key), key).decode().split(".")
    claims = json.loads(_b64decode(payload))
    claims["credentialSubject"]["encodedList"] = encode_status_list(bytes(MIN_LIST_SIZE // 8 + 1))
    token = ".".join([header, b64url_encode(json.dumps(claims).encode()), signature]).encode()
    status = _verify(_credential(key), {LIST: token}).check("status")
    assert status.code == "STATUS_LIST_INVALID" and "does not verify" in status.message


def test_unsigned_jwt_status_list_cannot_establish_status(key):
    header, payload, _ = _jwt(_list(key), key).decode().split(".")
    status = _verify(_credential(key), {LIST: f"{header}.{payload}.".encode()}).check("status")
    assert status.code == "STATUS_LIST_INVALID" and "unsigned" in status.message


def test_expired_jwt_status_list_is_not_current(key):
    expired = _list(key, valid_until="2026-11-22T00:00:00Z")
    status = _verify(_credential(key), {LIST: _jwt(expired, key)}).check("status")
    assert status.code == "STATUS_LIST_INVALID" and "not current" in status.message


def test_jwt_exp_claim_alone_still_expires_the_list(key):
    """``exp`` without ``validUntil`` (VC-JOSE issuers write only the claim) still bounds the list."""
    status_list = _list(key)
    payload = {**status_list, "iss": status_list["issuer"], "jti": LIST,
               "nbf": int(datetime(2026, 11, 20, tzinfo=timezone.utc).timestamp()),
               "exp": int(datetime(2026, 11, 22, tzinfo=timezone.utc).timestamp())}
    status = _verify(_credential(key), {LIST: _sign_raw(payload, key)}).check("status")
    assert status.code == "STATUS_LIST_INVALID" and "not current" in status.message


def test_jwt_status_list_without_nbf_is_read_by_its_validfrom(key):
    payload = {**_list(key), "iss": key.public_key.did_key, "jti": LIST}
    report = _verify(_credential(key), {LIST: _sign_raw(payload, key)})
    assert report.check("status").code == "STATUS_OK"


def test_jwt_status_list_that_says_it_is_another_list_cannot_vouch(key):
    other = "https://badges.example.org/status/0a1b2c3d4e"
    status = _verify(_credential(key), {LIST: _jwt(_list(key, list_id=other), key)}).check("status")
    assert status.code == "STATUS_LIST_INVALID" and other in status.message
    revoked = _verify(_credential(key), {LIST: _jwt(_list(key, list_id=other, revoked=True), key)})
    assert revoked.check("status").code == "REVOKED"  # a set bit is still reported


def test_jwt_status_list_copy_under_its_own_name_verifies_with_a_warning(key):
    mirrored = "https://mirror.example.net/status/3f9c2a7d1e"
    data = _credential(key).replace(LIST.encode(), mirrored.encode())
    # re-sign: the entry names the mirror
    credential = json.loads(data)
    credential.pop("proof")
    signed = eddsa_rdfc_2022.sign(credential, key, verification_method=_vm(key), loader=offline_loader(),
                                  created=NOW - timedelta(days=1))
    status = _verify(json.dumps(signed).encode(), {mirrored: _jwt(_list(key), key)}).check("status")
    assert status.outcome == "warning" and "is a copy of" in status.message


def test_jwt_that_is_not_a_status_list_cannot_establish_status(key):
    not_a_list = {**_list(key), "type": ["VerifiableCredential"]}
    status = _verify(_credential(key), {LIST: _jwt(not_a_list, key)}).check("status")
    assert status.code == "STATUS_LIST_INVALID" and "is not a BitstringStatusListCredential" in status.message


def _b64decode(segment: str) -> bytes:
    import base64
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _sign_raw(payload: dict, key: KeyPair) -> bytes:
    header = {"alg": "EdDSA", "kid": _vm(key), "typ": "vc+jwt"}
    signing_input = ".".join(b64url_encode(json.dumps(part).encode()) for part in (header, payload))
    return f"{signing_input}.{b64url_encode(key.sign(signing_input.encode()))}".encode()
