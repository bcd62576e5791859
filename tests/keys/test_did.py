"""keys.did: did:key / did:web documents, did:web URLs, resolution through an injected fetch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from errors import BadgesmithError, Code, CredentialError, InputError, UpstreamError
from keys.did import (
    DID_CONTEXT,
    MULTIKEY_CONTEXT,
    VerificationMethod,
    did_key_document,
    did_key_verification_method,
    did_web_document,
    did_web_url,
    is_key_of_issuer,
    key_from_fragment,
    parse_did_key,
    require_key_of_issuer,
    resolve_verification_method,
)
from keys.ed25519 import KeyPair, PublicKey
from keys.jwk import EcPublicKey, RsaPublicKey
from keys.multikey import b64url_encode

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "spec" / "examples"
VALIDATOR = EXAMPLES / "1edtech-validator-ob30"
W3C_KEYPAIR = json.loads((EXAMPLES / "w3c-vc-di-eddsa" / "keyPair.json").read_text("utf-8"))
IMPL_KEYPAIR = json.loads((EXAMPLES / "ob-v3p0-impl-guide-vector" / "keypair.json").read_text("utf-8"))
DID = "did:web:badges.example.org"
DID_URL = "https://badges.example.org/.well-known/did.json"


class FakeFetch:
    """A dict-backed fetch: URL → JSON-able document or raw bytes; anything else fails upstream."""

    def __init__(self, documents: dict[str, Any]) -> None:
        self.documents = documents
        self.calls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.calls.append(url)
        if url not in self.documents:
            raise UpstreamError(Code.FETCH_FAILED, f"Nothing is served at {url}.", url=url)
        document = self.documents[url]
        return document if isinstance(document, bytes) else json.dumps(document).encode()


def _offline(url: str) -> bytes:
    raise AssertionError(f"did:key must resolve without fetching, but {url} was fetched")


def _proof_vm(name: str) -> str:
    proof = json.loads((VALIDATOR / name).read_text("utf-8"))["proof"]
    return (proof[0] if isinstance(proof, list) else proof)["verificationMethod"]


def _issuer(name: str) -> str:
    issuer = json.loads((VALIDATOR / name).read_text("utf-8"))["issuer"]
    return issuer if isinstance(issuer, str) else issuer["id"]


@pytest.fixture
def key() -> KeyPair:
    return KeyPair.from_seed(bytes(range(32)))


# -- did:key ------------------------------------------------------------------------

def test_did_key_document_lists_the_multikey_method(key):
    document = did_key_document(key.public_key)
    multikey = key.public_key.to_multikey()
    vm_id = f"did:key:{multikey}#{multikey}"
    assert document["@context"] == [DID_CONTEXT, MULTIKEY_CONTEXT]
    assert document["id"] == key.did_key
    assert document["verificationMethod"] == [{"id": vm_id, "type": "Multikey", "controller": key.did_key,
                                               "publicKeyMultibase": multikey}]
    assert document["authentication"] == [vm_id]
    assert document["assertionMethod"] == [vm_id]
    assert did_key_verification_method(key.public_key) == vm_id


def test_w3c_vector_verification_method_resolves_offline_to_its_key():
    vm_url = "did:key:{0}#{0}".format(W3C_KEYPAIR["publicKeyMultibase"])
    vm = resolve_verification_method(vm_url, fetch=_offline)
    assert vm.id == vm_url
    assert vm.controller == "did:key:" + W3C_KEYPAIR["publicKeyMultibase"]
    assert vm.public_key == PublicKey.from_multikey(W3C_KEYPAIR["publicKeyMultibase"])
    assert "assertionMethod" in vm.purposes


def test_bare_did_key_maps_to_its_single_key():
    vm = resolve_verification_method(_proof_vm("simple-did-key-method.json"), fetch=_offline)
    assert vm.public_key.to_multikey() == IMPL_KEYPAIR["publicKeyMultibase"]
    assert vm.id.endswith("#" + IMPL_KEYPAIR["publicKeyMultibase"])


def test_did_key_with_a_foreign_fragment_is_unresolvable(key):
    other = KeyPair.generate().public_key.to_multikey()
    with pytest.raises(CredentialError) as caught:
        resolve_verification_method(f"{key.did_key}#{other}", fetch=_offline)
    assert caught.value.code is Code.KEY_UNRESOLVABLE


@pytest.mark.parametrize("did, code", [
    ("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme", Code.KEY_UNRESOLVABLE),  # secp256k1
    ("did:key:z6MkNOTbase58!", Code.DID_INVALID),
    ("did:key:", Code.DID_INVALID),
    ("did:key:u6Mk", Code.DID_INVALID),
    ("did:key:zDnaehfHR8Q5U7ckmLQfuZ3eGEypooJ46zzjRQ1AR9asDvdnv", Code.DID_INVALID),  # P-256, x past the field
])
def test_did_key_that_is_not_a_supported_multikey_is_refused(did, code):
    with pytest.raises(CredentialError) as caught:
        resolve_verification_method(did, fetch=_offline)
    assert caught.value.code is code
    with pytest.raises(CredentialError):
        parse_did_key(did)


@pytest.mark.parametrize("did, curve", [
    ("did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169", "P-256"),  # the did:key spec's example
    ("did:key:z82Lm1MpAkeJcix9K8TMiLd5NMAhnwkjjCBeWHXyu3U4oT2MVJJKXkcVBgjGhnLBn2Kaau9", "P-384"),
])
def test_did_key_resolves_p256_and_p384_multikeys(did, curve):
    vm = resolve_verification_method(did, fetch=_offline)
    assert isinstance(vm.public_key, EcPublicKey) and vm.public_key.curve == curve
    assert vm.id == f"{did}#{did.removeprefix('did:key:')}" and vm.controller == did
    assert "assertionMethod" in vm.purposes
    assert parse_did_key(did) == vm.public_key and vm.public_key.did_key == did


def test_did_web_lists_a_p256_multikey():
    private = ec.generate_private_key(ec.SECP256R1())
    numbers = private.public_key().public_numbers()
    multikey = EcPublicKey(x=numbers.x, y=numbers.y).to_multikey()
    document = {"@context": ["https://www.w3.org/ns/did/v1"], "id": DID,
                "verificationMethod": [{"id": f"{DID}#p256", "type": "Multikey", "controller": DID,
                                        "publicKeyMultibase": multikey}],
                "assertionMethod": [f"{DID}#p256"]}
    vm = resolve_verification_method(f"{DID}#p256", fetch=FakeFetch({DID_URL: document}))
    assert vm.public_key == EcPublicKey(x=numbers.x, y=numbers.y, curve="P-256")


def test_did_key_for_key_agreement_is_refused(key):
    with pytest.raises(CredentialError) as caught:
        resolve_verification_method(key.did_key, fetch=_offline, purpose="keyAgreement")
    assert caught.value.code is Code.PROOF_PURPOSE_INVALID


# -- did:web URLs and documents ---------------------------------------------------

@pytest.mark.parametrize("did, url", [
    ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
    ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
    ("did:web:example.com%3A3000", "https://example.com:3000/.well-known/did.json"),
    ("did:web:example.com%3A3000:d:issuer", "https://example.com:3000/d/issuer/did.json"),
    ("did:web:registrar%3A3000:d:www.acmecorp-zrnkgupzazhhustuwbufc.com",
     "https://registrar:3000/d/www.acmecorp-zrnkgupzazhhustuwbufc.com/did.json"),
])
def test_did_web_url_follows_the_did_web_spec(did, url):
    assert did_web_url(did) == url


@pytest.mark.parametrize("did", [
    "did:web:", "did:key:z6Mk", "did:web:host/path", "did:web:user@host", "did:web:host:..:x",
    "did:web:host::x", "did:web:-host", "did:web:host:a%2", "did:web:host?x=1", "https://host",
])
def test_did_web_url_refuses_malformed_dids(did):
    with pytest.raises(CredentialError) as caught:
        did_web_url(did)
    assert caught.value.code is Code.DID_INVALID


def _rotated_document(old: KeyPair, new: KeyPair) -> dict[str, Any]:
    return did_web_document(DID, [("key-1", old.public_key), ("key-2", new.public_key)])


def test_did_web_document_lists_every_key_for_assertions(key):
    new = KeyPair.generate()
    document = _rotated_document(key, new)
    assert document["@context"] == [DID_CONTEXT, MULTIKEY_CONTEXT]
    assert document["id"] == DID
    assert [m["id"] for m in document["verificationMethod"]] == [f"{DID}#key-1", f"{DID}#key-2"]
    assert document["assertionMethod"] == [f"{DID}#key-1", f"{DID}#key-2"]
    assert all(m["controller"] == DID and m["type"] == "Multikey" for m in document["verificationMethod"])
    assert document["verificationMethod"][1]["publicKeyMultibase"] == new.public_key.to_multikey()


def test_did_web_document_with_controller(key):
    document = did_web_document(DID, [("#key-1", key.public_key)], controller="did:web:parent.example")
    assert document["controller"] == "did:web:parent.example"
    assert document["verificationMethod"][0]["id"] == f"{DID}#key-1"


@pytest.mark.parametrize("keys_arg", [[], [("a b", None)], [("k", None), ("k", None)], [("x#y", None)]])
def test_did_web_document_refuses_bad_key_lists(key, keys_arg):
    keys_arg = [(fragment, key.public_key) for fragment, _ in keys_arg]
    with pytest.raises(InputError):
        did_web_document(DID, keys_arg)


# -- did:web resolution ------------------------------------------------------------

def test_did_web_resolves_old_and_new_keys_after_rotation(key):
    new = KeyPair.generate()
    fetch = FakeFetch({DID_URL: _rotated_document(key, new)})
    for fragment, expected in (("key-1", key), ("key-2", new)):
        vm = resolve_verification_method(f"{DID}#{fragment}", fetch=fetch)
        assert vm == VerificationMethod(id=f"{DID}#{fragment}", controller=DID,
                                        public_key=expected.public_key, type="Multikey",
                                        purposes=frozenset({"assertionMethod"}))
        assert is_key_of_issuer(vm, DID)
        require_key_of_issuer(vm, DID)
    assert fetch.calls == [DID_URL, DID_URL]


def test_did_web_path_form_is_fetched_from_the_path(key):
    did = "did:web:example.org:issuers:cpd"
    url = "https://example.org/issuers/cpd/did.json"
    fetch = FakeFetch({url: did_web_document(did, [("key-1", key.public_key)])})
    assert resolve_verification_method(f"{did}#key-1", fetch=fetch).public_key == key.public_key
    assert fetch.calls == [url]


def test_did_web_accepts_relative_ids_embedded_methods_and_2020_keys_without_multikey_context(key):
    document = {
        "@context": [DID_CONTEXT],
        "id": DID,
        "verificationMethod": {"id": "#legacy", "type": "Ed25519VerificationKey2020",
                               "controller": DID, "publicKeyMultibase": key.public_key.to_multikey()},
        "assertionMethod": ["#legacy", {"id": f"{DID}#embedded", "type": "Multikey", "controller": DID,
                                        "publicKeyMultibase": key.public_key.to_multikey()}],
    }
    fetch = FakeFetch({DID_URL: document})
    legacy = resolve_verification_method(f"{DID}#legacy", fetch=fetch)
    embedded = resolve_verification_method(f"{DID}#embedded", fetch=fetch)
    assert legacy.public_key == embedded.public_key == key.public_key
    assert legacy.type == "Ed25519VerificationKey2020"


def _jwk_document(jwk: dict[str, Any], kind: str = "JsonWebKey2020") -> dict[str, Any]:
    return {"id": DID, "verificationMethod": [{"id": f"{DID}#jwk", "type": kind, "controller": DID,
                                               "publicKeyJwk": jwk}],
            "assertionMethod": [f"{DID}#jwk"]}


def test_did_web_json_web_keys_of_each_supported_type(key):
    p256 = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    rsa_numbers = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_numbers()
    cases = [
        (key.public_key.to_jwk(), PublicKey),
        ({"kty": "EC", "crv": "P-256", "x": b64url_encode(p256.x.to_bytes(32, "big")),
          "y": b64url_encode(p256.y.to_bytes(32, "big"))}, EcPublicKey),
        ({"kty": "RSA", "n": b64url_encode(rsa_numbers.n.to_bytes(256, "big")), "e": "AQAB"}, RsaPublicKey),
    ]
    for jwk, kind in cases:
        for method_type in ("JsonWebKey2020", "JsonWebKey"):
            vm = resolve_verification_method(f"{DID}#jwk", fetch=FakeFetch({DID_URL: _jwk_document(jwk, method_type)}))
            assert isinstance(vm.public_key, kind)
            assert vm.public_key.to_jwk() == jwk


@pytest.mark.parametrize("jwk", [
    {"kty": "OKP", "crv": "Ed25519", "x": "AAAA", "d": "AAAA"},
    {"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"},
    {"kty": "RSA", "n": b64url_encode((2**1023 + 1).to_bytes(128, "big")), "e": "AQAB"},
    {"kty": "oct", "k": "c2VjcmV0"},
    {"kty": "EC", "crv": "P-256", "x": b64url_encode(bytes(32)), "y": b64url_encode(bytes(32))},
])
def test_did_web_refuses_unusable_json_web_keys(jwk):
    with pytest.raises(InputError) as caught:
        resolve_verification_method(f"{DID}#jwk", fetch=FakeFetch({DID_URL: _jwk_document(jwk)}))
    assert caught.value.code is Code.KEY_INVALID


def test_did_web_key_not_listed_for_assertions_is_refused(key):
    document = did_web_document(DID, [("key-1", key.public_key)])
    document["authentication"] = document.pop("assertionMethod")
    with pytest.raises(CredentialError) as caught:
        resolve_verification_method(f"{DID}#key-1", fetch=FakeFetch({DID_URL: document}))
    assert caught.value.code is Code.PROOF_PURPOSE_INVALID
    vm = resolve_verification_method(f"{DID}#key-1", fetch=FakeFetch({DID_URL: document}),
                                     purpose="authentication")
    assert not is_key_of_issuer(vm, DID)


@pytest.mark.parametrize("change, code", [
    (lambda d: d.update(id="did:web:evil.example"), Code.KEY_UNRESOLVABLE),
    (lambda d: d["verificationMethod"][0].update(controller="did:web:evil.example"), Code.KEY_UNRESOLVABLE),
    (lambda d: d.update(verificationMethod=[]), Code.KEY_UNRESOLVABLE),
    (lambda d: d["verificationMethod"][0].update(type="EcdsaSecp256k1VerificationKey2019"), Code.KEY_UNRESOLVABLE),
    (lambda d: d["verificationMethod"][0].update(publicKeyMultibase="z6MkTooShort"), Code.KEY_INVALID),
])
def test_did_web_inconsistent_documents_are_refused(key, change, code):
    document = did_web_document(DID, [("key-1", key.public_key)])
    change(document)
    with pytest.raises(BadgesmithError) as caught:
        resolve_verification_method(f"{DID}#key-1", fetch=FakeFetch({DID_URL: document}))
    assert caught.value.code is code


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b"\xff\xfe", b"[" * 100_000, b" " * 300_000 + b"{}"])
def test_did_web_unreadable_documents_are_unresolvable(body):
    with pytest.raises(CredentialError) as caught:
        resolve_verification_method(f"{DID}#key-1", fetch=FakeFetch({DID_URL: body}))
    assert caught.value.code is Code.KEY_UNRESOLVABLE
    assert DID_URL in str(caught.value)


def test_did_web_fetch_failure_propagates_as_upstream_error():
    with pytest.raises(UpstreamError) as caught:
        resolve_verification_method(f"{DID}#key-1", fetch=FakeFetch({}))
    assert caught.value.code is Code.FETCH_FAILED


def test_did_web_without_fragment_names_no_key(key):
    fetch = FakeFetch({DID_URL: did_web_document(DID, [("key-1", key.public_key)])})
    with pytest.raises(CredentialError) as caught:
        resolve_verification_method(DID, fetch=fetch)
    assert caught.value.code is Code.KEY_UNRESOLVABLE
    assert fetch.calls == []


# -- https controller documents ----------------------------------------------------

ISSUER = "https://issuer.example/profile"


def test_https_controller_document_resolves(key):
    profile = {"id": ISSUER, "type": "Profile",
               "verificationMethod": [{"id": f"{ISSUER}#key-1", "type": "Multikey", "controller": ISSUER,
                                       "publicKeyMultibase": key.public_key.to_multikey()}],
               "assertionMethod": ["#key-1"]}
    vm = resolve_verification_method(f"{ISSUER}#key-1", fetch=FakeFetch({ISSUER: profile}))
    assert vm.public_key == key.public_key and is_key_of_issuer(vm, ISSUER)


def test_https_key_document_is_checked_against_its_controller(key):
    key_url = "https://issuer.example/keys/1"
    method = {"id": key_url, "type": "Multikey", "controller": ISSUER,
              "publicKeyMultibase": key.public_key.to_multikey()}
    listed = {"id": ISSUER, "assertionMethod": [method]}
    vm = resolve_verification_method(key_url, fetch=FakeFetch({key_url: method, ISSUER: listed}))
    assert vm.controller == ISSUER and vm.public_key == key.public_key
    with pytest.raises(CredentialError) as caught:
        resolve_verification_method(key_url, fetch=FakeFetch({key_url: method, ISSUER: {"id": ISSUER}}))
    assert caught.value.code is Code.KEY_UNRESOLVABLE


# -- unsupported methods (1EdTech validator fixtures) ------------------------------

@pytest.mark.parametrize("fixture, code", [
    ("simple-err-proof-method-no-scheme.json", Code.KEY_UNRESOLVABLE),
    ("simple-err-proof-method-unknown-did-method.json", Code.DID_METHOD_UNSUPPORTED),
    ("simple-err-proof-method-unknown-scheme.json", Code.KEY_UNRESOLVABLE),
])
def test_validator_fixtures_with_unresolvable_methods_say_why(fixture, code):
    fetch = FakeFetch({})
    with pytest.raises(CredentialError) as caught:
        resolve_verification_method(_proof_vm(fixture), fetch=fetch)
    assert caught.value.code is code
    assert str(caught.value).endswith(".")
    assert fetch.calls == []


@pytest.mark.parametrize("vm_url, code", [
    ("did:velocity:v2:0x4ade#key-1", Code.DID_METHOD_UNSUPPORTED),
    ("http://issuer.example/keys/1", Code.KEY_UNRESOLVABLE),
    ("did:", Code.DID_INVALID),
    ("", Code.KEY_UNRESOLVABLE),
    (None, Code.KEY_UNRESOLVABLE),
    ("did:web:" + "a" * 3000, Code.KEY_UNRESOLVABLE),
])
def test_other_unresolvable_methods(vm_url, code):
    with pytest.raises(CredentialError) as caught:
        resolve_verification_method(vm_url, fetch=FakeFetch({}))
    assert caught.value.code is code


# -- key from fragment and issuer binding ----------------------------------------

def test_key_from_fragment_reads_the_1edtech_convention():
    key = key_from_fragment(IMPL_KEYPAIR["verificationMethod"])
    assert key == PublicKey(bytes.fromhex(IMPL_KEYPAIR["publicKeyHex"]))
    assert key_from_fragment(_proof_vm("simple-did-web-method.json")) == key


@pytest.mark.parametrize("vm_url", [
    _proof_vm("simple-err-proof-method.json"),  # a damaged multikey
    "did:key:{0}#{0}".format(W3C_KEYPAIR["publicKeyMultibase"]),
    "http://issuer.example#" + W3C_KEYPAIR["publicKeyMultibase"],
    "https://issuer.example#key-1",
    "https://issuer.example",
    None,
])
def test_key_from_fragment_is_none_for_anything_else(vm_url):
    assert key_from_fragment(vm_url) is None


def test_did_key_of_another_issuer_is_not_the_issuers():
    vm = resolve_verification_method(_proof_vm("simple-did-key-method.json"), fetch=_offline)
    issuer = _issuer("simple-did-key-method.json")
    assert not is_key_of_issuer(vm, issuer)
    with pytest.raises(CredentialError) as caught:
        require_key_of_issuer(vm, issuer)
    assert caught.value.code is Code.KEY_NOT_ISSUERS
    assert issuer in str(caught.value)


def test_did_key_issuer_owns_its_key(key):
    vm = resolve_verification_method(did_key_verification_method(key.public_key), fetch=_offline)
    assert is_key_of_issuer(vm, key.did_key)
    assert not is_key_of_issuer(vm, None)
    assert not is_key_of_issuer(vm, {"id": key.did_key})
