"""keys.vc_jwt: OB 3.0 VC-JWT signing and strict verification with real keys."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from errors import Code, CredentialError, InputError, InputTooLarge, UpstreamError
from keys.did import VerificationMethod, did_key_verification_method, did_web_document, resolve_verification_method
from keys.ed25519 import KeyPair
from keys.jwk import EcPublicKey, RsaPublicKey
from keys.multikey import b64url_decode, b64url_encode
from keys.vc_jwt import decode_jwt, extract_credential, sign_jwt, verify_jwt

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "spec" / "examples"
SPEC_JWTS = sorted((EXAMPLES / "ob-v3p0-spec" / "signed-2024-04-03").glob("*.vc-jwt.jwt"))
VALIDATOR = EXAMPLES / "1edtech-validator-ob30"
DID = "did:web:badges.example.org"
DID_URL = "https://badges.example.org/.well-known/did.json"


def _offline(url: str) -> bytes:
    raise UpstreamError(Code.OFFLINE, f"Offline: {url} was not fetched.")


def resolve_offline(kid: str) -> VerificationMethod:
    return resolve_verification_method(kid, fetch=_offline)


@pytest.fixture
def key() -> KeyPair:
    return KeyPair.from_seed(bytes(range(32)))


@pytest.fixture
def credential(key) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:2f8a8a5c-4b7e-4a0c-9d3e-0c1f2e3d4c5b",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": key.did_key, "type": ["Profile"], "name": "Continuing Education Office"},
        "validFrom": "2025-03-01T09:00:00Z",
        "validUntil": "2027-03-01T09:00:00Z",
        "name": "Cataloguing Basics — 1.5 CEU",
        "credentialSubject": {"id": "did:example:learner", "type": ["AchievementSubject"],
                              "achievement": {"id": "https://badges.example.org/a/1", "type": ["Achievement"],
                                              "name": "Cataloguing Basics"}},
    }


def _jws(header: dict[str, Any], payload: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    """A compact JWS built by hand, for tokens sign_jwt would never make."""
    segments = [b64url_encode(json.dumps(part).encode()) for part in (header, payload)]
    signing_input = ".".join(segments).encode()
    return ".".join(segments + [b64url_encode(sign(signing_input))])


def _payload(credential: dict[str, Any], **claims: Any) -> dict[str, Any]:
    base = {"iss": credential["issuer"]["id"], "jti": credential["id"],
            "sub": credential["credentialSubject"]["id"], "nbf": 1740819600, "exp": 1803891600}
    base.update(claims)
    return {**credential, **{k: v for k, v in base.items() if v is not None}}


# -- signing -------------------------------------------------------------------------

def test_sign_jwt_header_and_claims_follow_ob_8_2(key, credential):
    vm = did_key_verification_method(key.public_key)
    header, payload, _, signature = decode_jwt(sign_jwt(credential, key, verification_method=vm))
    assert header == {"alg": "EdDSA", "kid": vm, "typ": "JWT"}
    assert payload == {**credential, "iss": key.did_key, "jti": credential["id"],
                       "sub": "did:example:learner", "nbf": 1740819600, "exp": 1803891600}
    assert len(signature) == 64


def test_sign_jwt_is_deterministic_and_adds_iat_from_now(key, credential):
    vm = did_key_verification_method(key.public_key)
    assert sign_jwt(credential, key, verification_method=vm) == sign_jwt(credential, key, verification_method=vm)
    now = datetime(2025, 3, 1, 9, 0, 5, tzinfo=timezone.utc)
    _, payload, _, _ = decode_jwt(sign_jwt(credential, key, verification_method=vm, now=now))
    assert payload["iat"] == 1740819605


def test_signed_jwt_verifies_and_returns_the_credential_without_claims(key, credential):
    token = sign_jwt(credential, key, verification_method=did_key_verification_method(key.public_key))
    result = verify_jwt(token, resolve=resolve_offline)
    assert result.credential == credential
    assert result.key == key.public_key
    assert result.verification_method.controller == key.did_key
    assert not result.inline_key and result.warnings == () and result.missing_claims == ()


def test_sign_jwt_omits_exp_and_sub_when_the_credential_has_neither(key, credential):
    del credential["validUntil"], credential["credentialSubject"]["id"]
    token = sign_jwt(credential, key, verification_method=did_key_verification_method(key.public_key))
    _, payload, _, _ = decode_jwt(token)
    assert "exp" not in payload and "sub" not in payload
    assert verify_jwt(token, resolve=resolve_offline).missing_claims == ()


@pytest.mark.parametrize("change, code", [
    (lambda c: c.pop("validFrom"), Code.DATE_INVALID),
    (lambda c: c.update(validFrom="2025-03-01T09:00:00"), Code.DATE_INVALID),
    (lambda c: c.update(validFrom="yesterday"), Code.DATE_INVALID),
    (lambda c: c.pop("id"), Code.SCHEMA_INVALID),
    (lambda c: c.update(issuer={"name": "no id"}), Code.SCHEMA_INVALID),
])
def test_sign_jwt_refuses_credentials_missing_required_claims(key, credential, change, code):
    change(credential)
    with pytest.raises(InputError) as caught:
        sign_jwt(credential, key, verification_method=did_key_verification_method(key.public_key))
    assert caught.value.code is code


def test_sign_jwt_refuses_a_did_key_method_of_another_key(key, credential):
    other = did_key_verification_method(KeyPair.generate().public_key)
    with pytest.raises(InputError) as caught:
        sign_jwt(credential, key, verification_method=other)
    assert caught.value.code is Code.KEY_INVALID


# -- strict decoding ----------------------------------------------------------------

def _segment(value: Any) -> str:
    return b64url_encode(value if isinstance(value, bytes) else json.dumps(value).encode())


GOOD_HEADER, GOOD_PAYLOAD = _segment({"alg": "EdDSA"}), _segment({"iss": "x"})


H, P = GOOD_HEADER, GOOD_PAYLOAD


@pytest.mark.parametrize("token", [
    "..",
    "",
    H + "." + P,
    H + "." + P + ".AA.AA.AA",
    H + "=." + P + ".AA",
    H + "." + P + ".AA==",
    H + "." + P + ".A+/A",
    H + " ." + P + ".AA",
    _segment(b"not json") + "." + P + ".AA",
    _segment([1, 2]) + "." + P + ".AA",
    H + "." + _segment(b'"a string"') + ".AA",
    _segment(b'{"alg":"EdDSA","alg":"none"}') + "." + P + ".AA",
    H + "." + _segment(b'{"nbf":NaN}') + ".AA",
    H + "." + _segment(b"\xff\xfe") + ".AA",
    H + "." + _segment(b"[" * 50_000) + ".AA",
    H + "." + P + ".AA\u00e9",
])
def test_decode_jwt_rejects_malformed_tokens(token):
    with pytest.raises(CredentialError) as caught:
        decode_jwt(token)
    assert caught.value.code is Code.JWT_MALFORMED


def test_decode_jwt_rejects_a_huge_token_before_parsing():
    token = f"{GOOD_HEADER}.{'A' * (3 * 1024 * 1024)}.AA"
    with pytest.raises(InputTooLarge) as caught:
        decode_jwt(token)
    assert caught.value.code is Code.INPUT_TOO_LARGE
    with pytest.raises(InputTooLarge):
        verify_jwt(token.encode(), resolve=resolve_offline)


def test_decode_jwt_accepts_bytes_and_a_trailing_newline(key, credential):
    token = sign_jwt(credential, key, verification_method=did_key_verification_method(key.public_key))
    assert decode_jwt((token + "\n").encode()) == decode_jwt(token)


# -- algorithms --------------------------------------------------------------------

def test_alg_none_with_an_empty_signature_is_unsigned(key, credential):
    token = f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment(_payload(credential))}."
    with pytest.raises(CredentialError) as caught:
        verify_jwt(token, resolve=resolve_offline)
    assert caught.value.code is Code.JWT_UNSIGNED and "unsigned" in caught.value.message


def test_an_empty_signature_is_unsigned_whatever_alg_says(key, credential):
    header = {"alg": "EdDSA", "kid": did_key_verification_method(key.public_key)}
    token = f"{_segment(header)}.{_segment(_payload(credential))}."
    with pytest.raises(CredentialError) as caught:
        verify_jwt(token, resolve=resolve_offline)
    assert caught.value.code is Code.JWT_UNSIGNED


def test_alg_none_with_a_signature_is_refused(key, credential):
    header = {"alg": "none", "kid": did_key_verification_method(key.public_key)}
    with pytest.raises(CredentialError) as caught:
        verify_jwt(_jws(header, _payload(credential), key.sign), resolve=resolve_offline)
    assert caught.value.code is Code.JWT_ALG_REFUSED


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_hmac_signed_with_the_public_key_as_secret_is_refused(key, credential, alg):
    # The classic key-confusion forgery: anyone can compute this MAC.
    secret = key.public_key.raw
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    header = {"alg": alg, "kid": did_key_verification_method(key.public_key)}
    token = _jws(header, _payload(credential), lambda data: hmac.new(secret, data, digest).digest())
    with pytest.raises(CredentialError) as caught:
        verify_jwt(token, resolve=resolve_offline)
    assert caught.value.code is Code.JWT_ALG_REFUSED


@pytest.mark.parametrize("alg", ["RS512", "PS256", "ES384", "ES256K", "eddsa", ""])
def test_algorithms_outside_the_allow_list_are_refused(key, credential, alg):
    header = {"alg": alg, "kid": did_key_verification_method(key.public_key)}
    token = _jws(header, _payload(credential), key.sign)
    with pytest.raises(CredentialError) as caught:
        verify_jwt(token, resolve=resolve_offline)
    assert caught.value.code in (Code.JWT_ALG_REFUSED, Code.JWT_MALFORMED)


def test_alg_that_does_not_fit_the_key_is_refused(key, credential):
    header = {"alg": "RS256", "kid": did_key_verification_method(key.public_key)}
    with pytest.raises(CredentialError) as caught:
        verify_jwt(_jws(header, _payload(credential), key.sign), resolve=resolve_offline)
    assert caught.value.code is Code.JWT_ALG_REFUSED


def test_alg_ed25519_is_accepted_as_eddsa(key, credential):
    header = {"alg": "Ed25519", "kid": did_key_verification_method(key.public_key)}
    assert verify_jwt(_jws(header, _payload(credential), key.sign), resolve=resolve_offline).key == key.public_key


# -- signatures and keys -------------------------------------------------------------

def test_tampered_payload_fails_the_signature(key, credential):
    header, _, payload = sign_jwt(credential, key, verification_method=did_key_verification_method(key.public_key)).partition(".")
    body, _, signature = payload.partition(".")
    claims = json.loads(b64url_decode(body))
    claims["name"] = "Advanced Cataloguing — 10 CEU"
    with pytest.raises(CredentialError) as caught:
        verify_jwt(f"{header}.{_segment(claims)}.{signature}", resolve=resolve_offline)
    assert caught.value.code is Code.PROOF_INVALID


def test_wrong_kid_fails_the_signature(key, credential):
    other = KeyPair.generate()
    token = _jws({"alg": "EdDSA", "kid": did_key_verification_method(other.public_key)},
                 _payload(credential), key.sign)
    with pytest.raises(CredentialError) as caught:
        verify_jwt(token, resolve=resolve_offline)
    assert caught.value.code is Code.PROOF_INVALID


def test_kid_unknown_to_the_did_document_is_unresolvable(key, credential):
    document = did_web_document(DID, [("key-1", key.public_key)])
    documents = {DID_URL: json.dumps(document).encode()}
    credential["issuer"]["id"] = DID
    token = sign_jwt(credential, key, verification_method=f"{DID}#key-9")
    with pytest.raises(CredentialError) as caught:
        verify_jwt(token, resolve=lambda kid: resolve_verification_method(kid, fetch=documents.__getitem__))
    assert caught.value.code is Code.KEY_UNRESOLVABLE


def test_relative_kid_is_read_against_the_did_issuer(key, credential):
    documents = {DID_URL: json.dumps(did_web_document(DID, [("key-1", key.public_key)])).encode()}
    credential["issuer"]["id"] = DID
    token = sign_jwt(credential, key, verification_method="#key-1")
    result = verify_jwt(token, resolve=lambda kid: resolve_verification_method(kid, fetch=documents.__getitem__))
    assert result.verification_method.id == f"{DID}#key-1"


def test_no_kid_with_a_did_key_issuer_uses_the_dids_key_with_a_warning(key, credential):
    token = _jws({"alg": "EdDSA"}, _payload(credential), key.sign)
    result = verify_jwt(token, resolve=resolve_offline)
    assert result.key == key.public_key and result.warnings


def _rsa_token(credential: dict[str, Any], header: dict[str, Any]) -> tuple[str, rsa.RSAPrivateKey]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sign = lambda data: private.sign(data, padding.PKCS1v15(), hashes.SHA256())  # noqa: E731
    return _jws({"alg": "RS256", **header}, _payload(credential), sign), private


def _rsa_jwk(private: rsa.RSAPrivateKey) -> dict[str, str]:
    numbers = private.public_key().public_numbers()
    return RsaPublicKey(n=numbers.n, e=numbers.e).to_jwk()


def test_rs256_token_verifies_through_a_did_web_json_web_key(credential):
    credential["issuer"]["id"] = DID
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    sign = lambda data: private.sign(data, padding.PKCS1v15(), hashes.SHA256())  # noqa: E731
    token = _jws({"alg": "RS256", "kid": f"{DID}#rsa"}, _payload(credential, iss=DID), sign)
    document = {"id": DID, "verificationMethod": [{"id": f"{DID}#rsa", "type": "JsonWebKey2020",
                                                   "controller": DID, "publicKeyJwk": _rsa_jwk(private)}],
                "assertionMethod": [f"{DID}#rsa"]}
    documents = {DID_URL: json.dumps(document).encode()}
    result = verify_jwt(token, resolve=lambda kid: resolve_verification_method(kid, fetch=documents.__getitem__))
    assert isinstance(result.key, RsaPublicKey) and not result.inline_key
    assert result.credential == credential


def _es256(private: ec.EllipticCurvePrivateKey, der: bool = False) -> Callable[[bytes], bytes]:
    def sign(data: bytes) -> bytes:
        signature = private.sign(data, ec.ECDSA(hashes.SHA256()))
        if der:
            return signature
        r, s = decode_dss_signature(signature)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return sign


def test_es256_token_with_raw_r_s_signature_verifies_inline(credential):
    credential["issuer"]["id"] = "https://issuer.example"
    private = ec.generate_private_key(ec.SECP256R1())
    numbers = private.public_key().public_numbers()
    jwk = EcPublicKey(x=numbers.x, y=numbers.y).to_jwk()
    token = _jws({"alg": "ES256", "jwk": jwk}, _payload(credential, iss="https://issuer.example"), _es256(private))
    result = verify_jwt(token, resolve=resolve_offline)
    assert result.inline_key and result.verification_method is None
    assert isinstance(result.key, EcPublicKey)


def test_es256_token_with_a_der_signature_is_invalid(credential):
    credential["issuer"]["id"] = "https://issuer.example"
    private = ec.generate_private_key(ec.SECP256R1())
    numbers = private.public_key().public_numbers()
    jwk = EcPublicKey(x=numbers.x, y=numbers.y).to_jwk()
    token = _jws({"alg": "ES256", "jwk": jwk}, _payload(credential, iss="https://issuer.example"),
                 _es256(private, der=True))
    with pytest.raises(CredentialError) as caught:
        verify_jwt(token, resolve=resolve_offline)
    assert caught.value.code is Code.PROOF_INVALID


def test_inline_jwk_of_a_did_key_issuer_must_be_the_dids_key(key, credential):
    good = _jws({"alg": "EdDSA", "jwk": key.public_key.to_jwk()}, _payload(credential), key.sign)
    assert verify_jwt(good, resolve=resolve_offline).inline_key
    other = KeyPair.generate()
    bad = _jws({"alg": "EdDSA", "jwk": other.public_key.to_jwk()}, _payload(credential), other.sign)
    with pytest.raises(CredentialError) as caught:
        verify_jwt(bad, resolve=resolve_offline)
    assert caught.value.code is Code.KEY_NOT_ISSUERS


def test_inline_jwk_with_private_part_is_refused(key, credential):
    token = _jws({"alg": "EdDSA", "jwk": key.to_private_jwk()}, _payload(credential), key.sign)
    with pytest.raises(InputError) as caught:
        verify_jwt(token, resolve=resolve_offline)
    assert caught.value.code is Code.KEY_INVALID


def test_kid_and_jwk_naming_different_keys_is_malformed(key, credential):
    other = KeyPair.generate()
    header = {"alg": "EdDSA", "kid": did_key_verification_method(key.public_key), "jwk": other.public_key.to_jwk()}
    with pytest.raises(CredentialError) as caught:
        verify_jwt(_jws(header, _payload(credential), key.sign), resolve=resolve_offline)
    assert caught.value.code is Code.JWT_MALFORMED


@pytest.mark.parametrize("extra, ok", [
    ({"typ": "vc+jwt"}, True), ({"typ": "application/vc+ld+jwt"}, True), ({"typ": "at+jwt"}, False),
    ({"crit": ["b64"], "b64": False}, False), ({"kid": 7}, False),
])
def test_header_type_and_critical_extensions(key, credential, extra, ok):
    header = {"alg": "EdDSA", "kid": did_key_verification_method(key.public_key), **extra}
    token = _jws(header, _payload(credential), key.sign)
    if ok:
        verify_jwt(token, resolve=resolve_offline)
        return
    with pytest.raises(CredentialError) as caught:
        verify_jwt(token, resolve=resolve_offline)
    assert caught.value.code is Code.JWT_MALFORMED


# -- claims ---------------------------------------------------------------------------

@pytest.mark.parametrize("claims", [
    {"iss": "did:key:z6MkSomeoneElse"}, {"jti": "urn:uuid:other"}, {"sub": "did:example:other"},
    {"nbf": 1740819600 + 3600}, {"exp": 1803891600 - 86400},
])
def test_claims_that_disagree_with_the_credential_are_a_mismatch(key, credential, claims):
    token = _jws({"alg": "EdDSA", "kid": did_key_verification_method(key.public_key)},
                 _payload(credential, **claims), key.sign)
    with pytest.raises(CredentialError) as caught:
        verify_jwt(token, resolve=resolve_offline)
    assert caught.value.code is Code.JWT_CLAIMS_MISMATCH


def test_missing_required_claims_are_reported_not_raised(key, credential):
    token = _jws({"alg": "EdDSA", "kid": did_key_verification_method(key.public_key)},
                 _payload(credential, nbf=None, exp=None, sub=None), key.sign)
    result = verify_jwt(token, resolve=resolve_offline)
    assert result.missing_claims == ("sub", "nbf", "exp")


def test_exp_without_valid_until_becomes_valid_until(key, credential):
    del credential["validUntil"]
    token = _jws({"alg": "EdDSA", "kid": did_key_verification_method(key.public_key)},
                 _payload(credential), key.sign)
    result = verify_jwt(token, resolve=resolve_offline)
    assert result.credential["validUntil"] == "2027-03-01T09:00:00Z"
    assert any("validUntil" in warning for warning in result.warnings)


def test_nbf_matches_valid_from_with_milliseconds(key, credential):
    credential["validFrom"] = "2025-03-01T09:00:00.250Z"
    token = sign_jwt(credential, key, verification_method=did_key_verification_method(key.public_key))
    assert decode_jwt(token).payload["nbf"] == 1740819600
    verify_jwt(token, resolve=resolve_offline)


def test_vc_1_1_claim_form_is_accepted_with_a_warning(key, credential):
    vc = {"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiableCredential"],
          "credentialSubject": {"name": "x"}}
    payload = {"vc": vc, "iss": key.did_key, "jti": "urn:uuid:1", "sub": "did:example:learner",
               "nbf": 1262304000}
    token = _jws({"alg": "EdDSA", "kid": did_key_verification_method(key.public_key)}, payload, key.sign)
    result = verify_jwt(token, resolve=resolve_offline)
    assert result.credential == {**vc, "id": "urn:uuid:1", "issuer": key.did_key,
                                 "issuanceDate": "2010-01-01T00:00:00Z",
                                 "credentialSubject": {"id": "did:example:learner", "name": "x"}}
    assert any("vc claim" in warning for warning in result.warnings)


def test_extract_credential_drops_registered_claims(credential):
    credential_out, warnings = extract_credential(_payload(credential, iat=1, aud="x"))
    assert credential_out == credential and warnings == []


# -- published tokens ----------------------------------------------------------------

@pytest.mark.parametrize("path", SPEC_JWTS, ids=lambda p: p.name)
def test_spec_rs256_jwts_verify_with_their_inline_key_and_lack_nbf(path):
    result = verify_jwt(path.read_text("utf-8"), resolve=resolve_offline)
    assert result.header["alg"] == "RS256"
    assert result.inline_key and result.verification_method is None
    assert isinstance(result.key, RsaPublicKey)
    assert "nbf" in result.missing_claims
    assert result.credential["id"] == result.payload["jti"]


def test_spec_jwts_are_present():
    assert len(SPEC_JWTS) == 8


def test_1edtech_simple_jwt_names_no_key():
    with pytest.raises(CredentialError) as caught:
        verify_jwt((VALIDATOR / "simple.jwt").read_text("utf-8"), resolve=resolve_offline)
    assert caught.value.code is Code.KEY_UNRESOLVABLE


def test_1edtech_velocity_jwt_uses_an_unsupported_did_method():
    with pytest.raises(CredentialError) as caught:
        verify_jwt((VALIDATOR / "velocity.jwt").read_text("utf-8"), resolve=resolve_offline)
    assert caught.value.code is Code.DID_METHOD_UNSUPPORTED
    assert "did:velocity" in str(caught.value)
