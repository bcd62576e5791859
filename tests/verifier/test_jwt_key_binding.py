"""A VC-JWT that carries its key inline (``jwk``) is the issuer's when the issuer published that key.

For a did:web issuer, its DID document must list the key for assertionMethod; ``KEY_UNBOUND``
is only for keys nothing published confirms, and its message says what was looked at.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from keys.did import did_web_document
from keys.ed25519 import KeyPair
from keys.jwk import EcPublicKey
from keys.multikey import b64url_encode
from schemas.loader import offline_loader
from verifier.fetch import DictFetch
from verifier.pipeline import VerifyOptions, verify_bytes

NOW = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)
DID = "did:web:badges.example.org"
DID_URL = "https://badges.example.org/.well-known/did.json"


@pytest.fixture(scope="module")
def key():
    return KeyPair.from_seed(b"\x0b" * 32)


def _credential(issuer: str) -> dict:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:6d1c1f3e-0b7a-4d57-8c2e-9a0b1c2d3e4f",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Lakeshore Library Association"},
        "validFrom": "2026-11-01T00:00:00Z", "name": "Storytime Basics",
        "credentialSubject": {"type": ["AchievementSubject"], "id": "did:example:ana",
                              "achievement": {"id": "https://badges.example.org/achievements/a",
                                              "type": ["Achievement"], "name": "Storytime Basics",
                                              "description": "A course.", "criteria": {"narrative": "Attend."}}},
    }


def _token(credential: dict, header: dict, sign) -> bytes:
    payload = {**credential, "iss": credential["issuer"]["id"], "jti": credential["id"],
               "sub": credential["credentialSubject"]["id"],
               "nbf": int(datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp())}
    signing_input = ".".join(b64url_encode(json.dumps(part).encode()) for part in (header, payload))
    return f"{signing_input}.{b64url_encode(sign(signing_input.encode()))}".encode()


def _eddsa(key: KeyPair, issuer: str = DID) -> bytes:
    header = {"alg": "EdDSA", "typ": "JWT", "jwk": key.public_key.to_jwk()}
    return _token(_credential(issuer), header, key.sign)


def _verify(token: bytes, documents: dict, **options):
    return verify_bytes(token, loader=offline_loader(), fetch=DictFetch(documents), now=NOW,
                        options=VerifyOptions(**options))


def test_inline_jwk_listed_in_the_did_web_document_verifies(key):
    report = _verify(_eddsa(key), {DID_URL: json.dumps(did_web_document(DID, [("key-1", key.public_key)]))})
    proof = report.check("proof")
    assert proof.outcome == "passed" and proof.code == "PROOF_OK", proof.message
    assert report.verified


def test_inline_jwk_after_rotation_is_found_among_the_listed_keys(key):
    newer = KeyPair.from_seed(b"\x0c" * 32)
    document = did_web_document(DID, [("key-2", newer.public_key), ("key-1", key.public_key)])
    assert _verify(_eddsa(key), {DID_URL: json.dumps(document)}).verified


def test_inline_jwk_the_did_document_does_not_list_is_unbound_and_says_so(key):
    other = KeyPair.from_seed(b"\x0d" * 32)
    document = json.dumps(did_web_document(DID, [("key-1", other.public_key)]))
    proof = _verify(_eddsa(key), {DID_URL: document}).check("proof")
    assert proof.code == "KEY_UNBOUND" and proof.outcome == "failed"
    assert f"the DID document of {DID} does not list that key for assertionMethod" in proof.message
    lenient = _verify(_eddsa(key), {DID_URL: document}, accept_unbound_keys=True)
    assert lenient.check("proof").outcome == "warning" and lenient.verified


def test_inline_jwk_listed_only_for_authentication_is_unbound(key):
    document = did_web_document(DID, [("key-1", key.public_key)])
    document["authentication"] = document.pop("assertionMethod")
    proof = _verify(_eddsa(key), {DID_URL: json.dumps(document)}).check("proof")
    assert proof.code == "KEY_UNBOUND"


def test_inline_es256_jwk_listed_as_a_json_web_key_verifies():
    private = ec.generate_private_key(ec.SECP256R1())
    numbers = private.public_key().public_numbers()
    jwk = EcPublicKey(x=numbers.x, y=numbers.y).to_jwk()
    document = {"@context": ["https://www.w3.org/ns/did/v1"], "id": DID,
                "verificationMethod": [{"id": f"{DID}#es256", "type": "JsonWebKey", "controller": DID,
                                        "publicKeyJwk": jwk}],
                "assertionMethod": [f"{DID}#es256"]}

    def sign(data: bytes) -> bytes:
        r, s = decode_dss_signature(private.sign(data, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    token = _token(_credential(DID), {"alg": "ES256", "typ": "JWT", "jwk": jwk}, sign)
    report = _verify(token, {DID_URL: json.dumps(document)})
    assert report.check("proof").code == "PROOF_OK" and report.verified


def test_inline_jwk_of_an_https_issuer_is_unbound_with_a_true_sentence(key):
    proof = _verify(_eddsa(key, issuer="https://badges.example.org/issuer"), {}).check("proof")
    assert proof.code == "KEY_UNBOUND"
    assert "is not a DID that publishes keys" in proof.message


def test_inline_jwk_whose_did_document_cannot_be_fetched_does_not_verify(key):
    report = _verify(_eddsa(key), {})
    assert not report.verified and report.check("proof").outcome == "failed"
