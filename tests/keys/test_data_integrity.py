"""eddsa-rdfc-2022 and Ed25519Signature2020 reproduce the published vectors byte for byte."""

import copy
import hashlib
import json
from datetime import datetime
from pathlib import Path

import pytest

from errors import Code, CredentialError
from keys import ed25519_2020, eddsa_rdfc_2022
from keys.data_integrity import (
    ED25519_SIGNATURE_2020, EDDSA_RDFC_2022, create_proof, hash_data, suite_of, verify_proof)
from keys.ed25519 import KeyPair, PublicKey
from keys.multikey import encode_multibase
from keys.rdfc import canonicalize
from schemas.loader import offline_loader

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "spec"
W3C = SHARED / "examples" / "w3c-vc-di-eddsa"
pytestmark = pytest.mark.skipif(not SHARED.exists(), reason="../shared/spec is not beside the project")

SUITES = {
    "eddsa-rdfc-2022": ("DataInt", EDDSA_RDFC_2022),
    "Ed25519Signature2020": ("EdSig", ED25519_SIGNATURE_2020),
}


def _json(path):
    return json.loads(path.read_text("utf-8"))


@pytest.fixture(scope="module")
def loader():
    examples = _json(SHARED / "contexts" / "w3c-credentials-examples-v2.jsonld")
    return offline_loader({"https://www.w3.org/ns/credentials/examples/v2": examples})


@pytest.fixture(scope="module")
def w3c_key():
    pair = _json(W3C / "keyPair.json")
    return KeyPair.from_multibase(pair["privateKeyMultibase"], pair["publicKeyMultibase"])


def _created(proof):
    return datetime.fromisoformat(proof["created"].replace("Z", "+00:00"))


@pytest.mark.parametrize("folder", sorted(SUITES))
def test_w3c_vector_intermediate_values_reproduce(folder, loader):
    tag, _ = SUITES[folder]
    base = W3C / folder
    signed = _json(base / f"signed{tag}.json")
    document = {k: v for k, v in signed.items() if k != "proof"}
    proof_config = _json(base / f"proofConfig{tag}.json")
    assert canonicalize(document, loader=loader) == (base / f"canonDoc{tag}.txt").read_text()
    assert canonicalize(proof_config, loader=loader) == (base / f"proofCanon{tag}.txt").read_text()
    combined = hash_data(document, proof_config, loader=loader)
    assert combined.hex() == (base / f"combinedHash{tag}.txt").read_text().strip()
    assert combined[:32].hex() == (base / f"proofHash{tag}.txt").read_text().strip()
    assert combined[32:].hex() == (base / f"docHash{tag}.txt").read_text().strip()


@pytest.mark.parametrize("folder", sorted(SUITES))
def test_w3c_vector_signature_and_document_reproduce_byte_for_byte(folder, loader, w3c_key):
    tag, suite = SUITES[folder]
    signed = _json(W3C / folder / f"signed{tag}.json")
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    expected = signed["proof"]
    proof = create_proof(unsigned, w3c_key, suite=suite, verification_method=expected["verificationMethod"],
                         loader=loader, created=_created(expected))
    assert proof == expected
    assert bytes.fromhex((W3C / folder / f"sigHex{tag}.txt").read_text().strip()) == w3c_key.sign(
        hash_data(unsigned, expected, loader=loader))
    assert proof["proofValue"] == (W3C / folder / f"sigBTC58{tag}.txt").read_text().strip()


def test_eddsa_sign_emits_the_signed_vector_with_proof_array(loader, w3c_key):
    signed = _json(W3C / "eddsa-rdfc-2022" / "signedDataInt.json")
    out = eddsa_rdfc_2022.sign(_json(W3C / "unsigned.json"), w3c_key,
                               verification_method=signed["proof"]["verificationMethod"],
                               loader=loader, created=_created(signed["proof"]))
    assert out == {**signed, "proof": [signed["proof"]]}


def test_ed25519_2020_sign_adds_its_context(loader, w3c_key):
    signed = _json(W3C / "Ed25519Signature2020" / "signedEdSig.json")
    out = ed25519_2020.sign(_json(W3C / "unsigned.json"), w3c_key,
                            verification_method=signed["proof"]["verificationMethod"],
                            loader=loader, created=_created(signed["proof"]))
    assert out == {**signed, "proof": [signed["proof"]]}


@pytest.mark.parametrize("vector", ["ob-v3p0-impl-guide-vector", "clr-v2p0-impl-guide-vector"])
def test_1edtech_signing_vectors_reproduce(vector):
    base = SHARED / "examples" / vector
    pair = _json(base / "keypair.json")
    key = KeyPair.from_seed(bytes.fromhex(pair["privateKeyHex (seed||public, 64 bytes)"])[:32])
    assert key.public_key.to_multikey() == pair["publicKeyMultibase"]
    loader = offline_loader()
    credential = _json(base / "credential.json")
    options = _json(base / "proof-options.json")
    assert canonicalize(credential, loader=loader) == (base / "document-canon.nq").read_text()
    with_context = {**options, "@context": credential["@context"]}
    assert canonicalize(with_context, loader=loader) == (base / "proof-canon.nq").read_text()
    proof = create_proof(credential, key, suite=EDDSA_RDFC_2022, verification_method=options["verificationMethod"],
                         loader=loader, created=_created(options))
    signed = _json(base / "signed.json")
    expected = signed["proof"][0] if isinstance(signed["proof"], list) else signed["proof"]
    assert proof["proofValue"] == expected["proofValue"]


def test_verify_proof_accepts_the_vector_and_rejects_a_changed_field(loader, w3c_key):
    signed = _json(W3C / "eddsa-rdfc-2022" / "signedDataInt.json")
    assert verify_proof(signed, signed["proof"], w3c_key.public_key, loader=loader)
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["alumniOf"] = "Another University"
    assert not verify_proof(tampered, tampered["proof"], w3c_key.public_key, loader=loader)


def test_a_forgery_under_the_identity_key_is_not_valid(loader):
    # The neutral point as public key "signs" everything with R = identity, s = 0 (OpenSSL
    # accepts that); libsodium refuses small-order keys, so the proof is simply invalid.
    identity = PublicKey(b"\x01" + bytes(31))
    signed = _json(W3C / "eddsa-rdfc-2022" / "signedDataInt.json")
    proof = {**signed["proof"], "verificationMethod": identity.did_key + "#" + identity.to_multikey(),
             "proofValue": encode_multibase(identity.raw + bytes(32))}
    assert verify_proof(signed, proof, identity, loader=loader) is False


@pytest.mark.parametrize("value, message", [
    ("", "no proofValue"),
    ("u" + "A" * 86, "must start with 'z'"),
    ("z" + "0OIl" * 10, "not valid base58btc"),
    ("z3", "an Ed25519 signature has 64"),
])
def test_malformed_proof_value_is_proof_malformed(value, message, loader, w3c_key):
    signed = _json(W3C / "eddsa-rdfc-2022" / "signedDataInt.json")
    proof = {**signed["proof"], "proofValue": value}
    with pytest.raises(CredentialError) as caught:
        verify_proof(signed, proof, w3c_key.public_key, loader=loader)
    assert caught.value.code is Code.PROOF_MALFORMED
    assert message in caught.value.message


def test_suite_of_knows_the_draft_name_and_refuses_unknown_types():
    assert suite_of({"type": "DataIntegrityProof", "cryptosuite": "eddsa-2022"}).legacy
    assert suite_of({"type": "Ed25519Signature2018"}) is None
    assert suite_of({"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdf-2022"}) is None


def test_proof_hash_comes_before_document_hash(loader, w3c_key):
    document = _json(W3C / "unsigned.json")
    options = _json(W3C / "eddsa-rdfc-2022" / "proofConfigDataInt.json")
    combined = hash_data(document, options, loader=loader)
    assert combined[:32] == hashlib.sha256(canonicalize(options, loader=loader).encode()).digest()


def test_remembered_proof_option_hashes_follow_the_options_the_context_and_the_loader(loader, w3c_key):
    """hash_proof_options remembers hashes by the options' exact JSON (a roster batch repeats them): a
    changed option, another @context or another loader is hashed afresh (with the same result when nothing
    that is hashed changed), and options that cannot be canonicalized fail every time (failures are not
    remembered)."""
    from keys.data_integrity import hash_proof_options

    document = _json(W3C / "unsigned.json")
    options = {k: v for k, v in _json(W3C / "eddsa-rdfc-2022" / "proofConfigDataInt.json").items()
               if k != "@context"}

    def fresh(doc, opts, with_loader):
        return hashlib.sha256(canonicalize({**opts, "@context": doc["@context"]},
                                           loader=with_loader).encode()).digest()

    first = hash_proof_options(document, options, loader=loader)
    assert hash_proof_options(document, options, loader=loader) == first == fresh(document, options, loader)
    later = {**options, "created": "2030-01-01T00:00:00Z"}
    assert hash_proof_options(document, later, loader=loader) == fresh(document, later, loader) != first
    narrower = {**document, "@context": document["@context"][:1]}  # the options' terms are all VC 2.0's
    assert hash_proof_options(narrower, options, loader=loader) == fresh(narrower, options, loader)
    other = offline_loader({"https://www.w3.org/ns/credentials/examples/v2":
                            _json(SHARED / "contexts" / "w3c-credentials-examples-v2.jsonld")})
    assert hash_proof_options(document, options, loader=other) == first
    for _ in range(2):
        with pytest.raises(CredentialError) as caught:
            hash_proof_options(document, {**options, "verificationMethod": "key-1"}, loader=loader)
        assert caught.value.code == Code.JSONLD_INVALID  # a relative IRI would not be signed
