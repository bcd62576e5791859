"""keys.jws_keys and VC-JWT signing with RS256 (RSA-2048) and ES256 (P-256) keys.

Each token verifies in our verifier (keys.vc_jwt.verify_jwt) and independently in pyca/cryptography
directly (the JWS signing input, the raw r‖s ES256 signature); a did:key cannot name an RSA key.
"""

from __future__ import annotations

import pickle

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from errors import Code, InputError
from keys.did import VerificationMethod, did_key_verification_method, did_web_document
from keys.ed25519 import KeyPair
from keys.jws_keys import EcKeyPair, RsaKeyPair, generate_signing_key, jwt_algorithm, load_signing_key
from keys.multikey import b64url_decode
from keys.vc_jwt import decode_jwt, sign_jwt, verify_jwt

DID = "did:web:badges.lakeshore.example"
CREDENTIAL = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "id": "urn:uuid:9a1c1e84-6a44-4f57-9b8f-0c1ad1c6b0f1",
    "type": ["VerifiableCredential"],
    "issuer": {"id": DID},
    "validFrom": "2026-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:ana"},
}


@pytest.fixture(scope="module")
def rsa_key() -> RsaKeyPair:
    return RsaKeyPair.generate()


@pytest.fixture(scope="module")
def ec_key() -> EcKeyPair:
    return EcKeyPair.generate()


def _resolver(key, vm_id):
    def resolve(kid):
        assert kid == vm_id
        return VerificationMethod(id=vm_id, controller=DID, public_key=key.public_key, type="JsonWebKey",
                                  purposes=frozenset({"assertionMethod"}))
    return resolve


@pytest.mark.parametrize("name", ["rsa_key", "ec_key"])
def test_rs256_and_es256_tokens_verify_with_the_key_the_did_web_document_publishes(name, request):
    key = request.getfixturevalue(name)
    vm_id = f"{DID}#{key.alg.lower()}-1"
    token = sign_jwt(CREDENTIAL, key, verification_method=vm_id)
    header = decode_jwt(token).header
    assert header == {"alg": key.alg, "kid": vm_id, "typ": "JWT"}
    result = verify_jwt(token, resolve=_resolver(key, vm_id))
    assert result.credential == CREDENTIAL and result.key == key.public_key


def test_rs256_signature_is_pkcs1_v15_sha256_over_the_signing_input(rsa_key):
    token = sign_jwt(CREDENTIAL, rsa_key, verification_method=f"{DID}#rs256-1")
    head, body, signature = token.split(".")
    public = load_pem_public_key(_public_pem(rsa_key))
    public.verify(b64url_decode(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    assert rsa_key.public_key.n.bit_length() == 2048


def test_es256_signature_is_raw_r_s_not_der(ec_key):
    token = sign_jwt(CREDENTIAL, ec_key, verification_method=f"{DID}#es256-1")
    head, body, signature = token.split(".")
    raw = b64url_decode(signature)
    assert len(raw) == 64
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    load_pem_public_key(_public_pem(ec_key)).verify(der, f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))


def test_a_changed_payload_fails_for_rs256_and_es256(rsa_key, ec_key):
    for key in (rsa_key, ec_key):
        vm_id = f"{DID}#k"
        head, body, signature = sign_jwt(CREDENTIAL, key, verification_method=vm_id).split(".")
        other = sign_jwt({**CREDENTIAL, "id": "urn:uuid:00000000-0000-4000-8000-000000000000"}, key,
                         verification_method=vm_id).split(".")[1]
        with pytest.raises(Exception) as caught:
            verify_jwt(f"{head}.{other}.{signature}", resolve=_resolver(key, vm_id))
        assert caught.value.code is Code.PROOF_INVALID


def test_es256_may_use_a_p256_did_key(ec_key):
    did = ec_key.did_key
    credential = {**CREDENTIAL, "issuer": {"id": did}}
    token = sign_jwt(credential, ec_key, verification_method=did_key_verification_method(ec_key.public_key))
    assert decode_jwt(token).header["kid"].startswith("did:key:zDna")


def test_a_did_key_cannot_name_an_rsa_key(rsa_key):
    with pytest.raises(InputError) as caught:
        sign_jwt(CREDENTIAL, rsa_key, verification_method="did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")
    assert caught.value.code is Code.KEY_INVALID and "did:key cannot carry an RSA key" in caught.value.message


def test_a_did_key_of_another_p256_key_is_refused(ec_key):
    other = EcKeyPair.generate()
    with pytest.raises(InputError) as caught:
        sign_jwt(CREDENTIAL, ec_key, verification_method=did_key_verification_method(other.public_key))
    assert caught.value.code is Code.KEY_INVALID


@pytest.mark.parametrize("alg", ["EdDSA", "RS256", "ES256"])
def test_pem_round_trip_with_and_without_a_passphrase(alg):
    key = generate_signing_key(alg)
    assert jwt_algorithm(key) == alg
    for passphrase in (None, "correct horse"):
        again = load_signing_key(key.to_pem(passphrase), passphrase)
        assert again.public_key == key.public_key


def test_a_locked_key_without_its_passphrase_is_key_locked(ec_key):
    with pytest.raises(InputError) as caught:
        load_signing_key(ec_key.to_pem("secret"))
    assert caught.value.code is Code.KEY_LOCKED


def test_a_p384_key_is_refused_for_jwt_signing():
    from cryptography.hazmat.primitives import serialization
    pem = ec.generate_private_key(ec.SECP384R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with pytest.raises(InputError) as caught:
        load_signing_key(pem)
    assert caught.value.code is Code.KEY_INVALID


def test_signing_keys_never_show_or_pickle_their_secret(rsa_key, ec_key):
    for key in (rsa_key, ec_key):
        assert "PRIVATE" not in repr(key) and "_private" not in repr(key)
        with pytest.raises(TypeError):
            pickle.dumps(key)


def test_the_did_web_document_publishes_rsa_and_p256_keys_as_json_web_keys(rsa_key, ec_key):
    ed = KeyPair.generate()
    document = did_web_document(DID, [("key-1", ed.public_key), ("rs256-1", rsa_key.public_key),
                                      ("es256-1", ec_key.public_key)])
    methods = {m["id"].split("#")[1]: m for m in document["verificationMethod"]}
    assert methods["key-1"]["type"] == "Multikey"
    assert methods["rs256-1"] == {"id": f"{DID}#rs256-1", "type": "JsonWebKey", "controller": DID,
                                  "publicKeyJwk": rsa_key.public_key.to_jwk()}
    assert methods["es256-1"]["publicKeyJwk"]["crv"] == "P-256"
    assert document["assertionMethod"] == [f"{DID}#key-1", f"{DID}#rs256-1", f"{DID}#es256-1"]
    assert "https://w3id.org/security/jwk/v1" in document["@context"]
    assert "https://w3id.org/security/jwk/v1" not in did_web_document(DID, [("key-1", ed.public_key)])["@context"]


def _public_pem(key) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    return key._private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
