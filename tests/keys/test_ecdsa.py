"""ECDSA Data Integrity: ecdsa-rdfc-2019 (P-256, P-384) and ecdsa-sd-2023 derived proofs, P-256/P-384 Multikeys.

The W3C vectors are read from the vc-di-ecdsa repository's ``TestVectors/`` folder, never copied
here: ``../shared/spec/examples/w3c-vc-di-ecdsa`` when present, or the folder named by the
``VC_DI_ECDSA_VECTORS`` environment variable (a checkout of github.com/w3c/vc-di-ecdsa's
``TestVectors``). Tests that need them skip, saying so, when neither is there.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from errors import Code, CredentialError, InputError
from keys import ecdsa_rdfc_2019, ecdsa_sd_2023
from keys.data_integrity import (ECDSA_RDFC_2019, ECDSA_SD_2023, hash_data, hash_for, suite_of,
                                 verify_proof)
from keys.ed25519 import KeyPair
from keys.jwk import EcPublicKey, public_key_from_jwk, public_key_from_multikey
from keys.multikey import b64url_encode, decode_ec_multikey, encode_multibase
from keys.rdfc import canonicalize
from schemas.loader import offline_loader

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "spec"
VECTORS = Path(os.environ.get("VC_DI_ECDSA_VECTORS") or SHARED / "examples" / "w3c-vc-di-ecdsa")
needs_vectors = pytest.mark.skipif(
    not (VECTORS / "p256KeyPair.json").exists(),
    reason="the W3C vc-di-ecdsa TestVectors are not at ../shared/spec/examples/w3c-vc-di-ecdsa "
           "(or $VC_DI_ECDSA_VECTORS)")
needs_shared = pytest.mark.skipif(not SHARED.exists(), reason="../shared/spec is not beside the project")
CREATED = datetime(2026, 11, 1, tzinfo=timezone.utc)


def _json(path: Path):
    return json.loads(path.read_text("utf-8"))


@pytest.fixture(scope="module")
def loader():
    examples = _json(SHARED / "contexts" / "w3c-credentials-examples-v2.jsonld")
    return offline_loader({"https://www.w3.org/ns/credentials/examples/v2": examples})


def _credential(did: str) -> dict:
    return {"@context": ["https://www.w3.org/ns/credentials/v2",
                         "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
            "id": "urn:uuid:4a6f0c6e-1d1b-4a55-9d1e-1f5a3a0c9b10",
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "issuer": {"id": did, "type": ["Profile"], "name": "Youth Services Division"},
            "validFrom": "2026-10-01T00:00:00Z", "name": "Storytime Basics",
            "credentialSubject": {"type": ["AchievementSubject"],
                                  "achievement": {"id": "urn:uuid:0d6b2b8e-8d61-4b8a-9e1c-3e1d0c0b7f55",
                                                  "type": ["Achievement"], "name": "Storytime Basics",
                                                  "criteria": {"narrative": "Attend the course."},
                                                  "description": "A course."}}}


# -- Multikey and JWK encodings -------------------------------------------------------------

@needs_vectors
@pytest.mark.parametrize("name, curve", [("p256KeyPair.json", "P-256"), ("p384KeyPair.json", "P-384")])
def test_w3c_ecdsa_multikeys_decode_and_round_trip(name, curve):
    multikey = _json(VECTORS / name)["publicKeyMultibase"]
    key = public_key_from_multikey(multikey)
    assert isinstance(key, EcPublicKey) and key.curve == curve
    assert key.to_multikey() == multikey
    assert public_key_from_jwk(key.to_jwk()) == key


@pytest.mark.parametrize("value", [
    encode_multibase(b"\x80\x24\x02" + b"\xff" * 32),           # x is past the field: not on the curve
    encode_multibase(b"\x80\x24\x04" + b"\x01" * 32),           # not a compressed point
    encode_multibase(b"\x81\x24\x02" + b"\x01" * 32),           # P-384 prefix, P-256 length
    encode_multibase(b"\xe7\x01\x02" + b"\x01" * 32),           # secp256k1
])
def test_malformed_ecdsa_multikeys_are_key_invalid(value):
    with pytest.raises(InputError) as caught:
        EcPublicKey.from_multikey(value)
    assert caught.value.code is Code.KEY_INVALID


def test_p384_jwk_is_accepted_but_never_for_es256():
    numbers = ec.generate_private_key(ec.SECP384R1()).public_key().public_numbers()
    key = EcPublicKey(x=numbers.x, y=numbers.y, curve="P-384")
    assert public_key_from_jwk(key.to_jwk()) == key
    assert key.algorithms == ("ES384",) and key.signature_bytes == 96
    assert decode_ec_multikey(key.to_multikey())[0] == "P-384"


# -- ecdsa-rdfc-2019 --------------------------------------------------------------------------

@needs_vectors
@needs_shared
@pytest.mark.parametrize("curve", ["p256", "p384"])
def test_w3c_ecdsa_rdfc_2019_vector_reproduces_and_verifies(curve, loader):
    folder, tag = VECTORS / f"ecdsa-rdfc-2019-{curve}", f"ECDSA{curve.upper()}"
    signed = _json(folder / f"signed{tag}.json")
    document = {k: v for k, v in signed.items() if k != "proof"}
    assert canonicalize(document, loader=loader) == (folder / f"canonDoc{tag}.txt").read_text()
    key = public_key_from_multikey(signed["proof"]["verificationMethod"].split("#")[1])
    combined = hash_data(document, signed["proof"], loader=loader, digest=hash_for(key))
    assert combined.hex() == (folder / f"combinedHash{tag}.txt").read_text().strip()
    assert suite_of(signed["proof"]) is ECDSA_RDFC_2019
    assert verify_proof(signed, signed["proof"], key, loader=loader)


@needs_vectors
@needs_shared
def test_w3c_ecdsa_rdfc_2019_vector_altered_does_not_verify(loader):
    signed = _json(VECTORS / "ecdsa-rdfc-2019-p256" / "signedECDSAP256.json")
    key = public_key_from_multikey(signed["proof"]["verificationMethod"].split("#")[1])
    altered = copy.deepcopy(signed)
    altered["credentialSubject"]["alumniOf"] = "Another School"
    assert not verify_proof(altered, altered["proof"], key, loader=loader)


@pytest.mark.parametrize("curve, size", [(ec.SECP256R1(), 64), (ec.SECP384R1(), 96)])
def test_ecdsa_rdfc_2019_signs_and_verifies_ob_credentials(curve, size):
    loader = offline_loader()
    private = ec.generate_private_key(curve)
    public = ecdsa_rdfc_2019.public_key_of(private)
    credential = _credential(public.did_key)
    vm = f"{public.did_key}#{public.to_multikey()}"
    signed = ecdsa_rdfc_2019.sign(credential, private, verification_method=vm, loader=loader, created=CREATED)
    proof = signed["proof"][0]
    assert proof["cryptosuite"] == "ecdsa-rdfc-2019"
    assert verify_proof(signed, proof, public, loader=loader)
    other = ecdsa_rdfc_2019.public_key_of(ec.generate_private_key(curve))
    assert not verify_proof(signed, proof, other, loader=loader)


def test_ecdsa_rdfc_2019_with_an_ed25519_key_is_key_invalid():
    loader = offline_loader()
    private = ec.generate_private_key(ec.SECP256R1())
    public = ecdsa_rdfc_2019.public_key_of(private)
    signed = ecdsa_rdfc_2019.sign(_credential(public.did_key), private, verification_method="did:key:x#y",
                                  loader=loader, created=CREATED)
    with pytest.raises(CredentialError) as caught:
        verify_proof(signed, signed["proof"][0], KeyPair.generate().public_key, loader=loader)
    assert caught.value.code is Code.KEY_INVALID


def test_ecdsa_rdfc_2019_proof_value_of_the_wrong_length_is_malformed():
    loader = offline_loader()
    private = ec.generate_private_key(ec.SECP384R1())
    public = ecdsa_rdfc_2019.public_key_of(private)
    signed = ecdsa_rdfc_2019.sign(_credential(public.did_key), private, verification_method="did:key:x#y",
                                  loader=loader, created=CREATED)
    signed["proof"][0]["proofValue"] = encode_multibase(bytes(64))  # a P-256 length for a P-384 key
    with pytest.raises(CredentialError) as caught:
        verify_proof(signed, signed["proof"][0], public, loader=loader)
    assert caught.value.code is Code.PROOF_MALFORMED


# -- ecdsa-sd-2023 ----------------------------------------------------------------------------

@needs_vectors
@pytest.mark.parametrize("case", ["prc", "employ"])
def test_w3c_ecdsa_sd_2023_derived_proof_value_parses(case):
    revealed = _json(VECTORS / "ecdsa-sd-2023" / case / "derivedRevealDocument.json")
    expected = _json(VECTORS / "ecdsa-sd-2023" / case / "verifyDerivedProofValue.json")
    parsed = ecdsa_sd_2023.parse_derived_proof_value(revealed["proof"]["proofValue"])
    assert parsed.base_signature.hex() == expected["baseSignature"]
    assert encode_multibase(parsed.public_key) == expected["publicKey"]
    assert [s.hex() for s in parsed.signatures] == expected["signatures"]
    assert parsed.label_map == dict(expected["labelMap"])
    assert list(parsed.mandatory_indexes) == expected["mandatoryIndexes"]
    assert suite_of(revealed["proof"]) is ECDSA_SD_2023


@needs_vectors
@pytest.mark.parametrize("case", ["prc", "employ"])
def test_w3c_ecdsa_sd_2023_statements_verify_and_a_changed_one_does_not(case):
    """The vector's relabelled statements and proof hash verify under the issuer's key (the
    vectors' citizenship context is not pinned, so canonicalization itself is tested below)."""
    folder = VECTORS / "ecdsa-sd-2023" / case
    revealed = _json(folder / "derivedRevealDocument.json")
    data = _json(folder / "verifyCreateVerifyData.json")
    statements = _json(folder / "verifyNQuads.json")
    parsed = ecdsa_sd_2023.parse_derived_proof_value(revealed["proof"]["proofValue"])
    issuer_key = public_key_from_multikey(revealed["proof"]["verificationMethod"].split("#")[1])
    proof_hash = bytes.fromhex(data["proofHash"])
    assert ecdsa_sd_2023.verify_statements(statements, parsed, issuer_key, proof_hash=proof_hash)
    optional = [i for i in range(len(statements)) if i not in parsed.mandatory_indexes]
    mandatory = parsed.mandatory_indexes[0]
    for index in (optional[0], mandatory):
        changed = list(statements)
        changed[index] = changed[index].replace("> .", "> <urn:forged> .", 1) if "> ." in changed[index] \
            else changed[index].replace(" .\n", " <urn:forged> .\n")
        assert not ecdsa_sd_2023.verify_statements(changed, parsed, issuer_key, proof_hash=proof_hash)
    assert not ecdsa_sd_2023.verify_statements(statements[:-1], parsed, issuer_key, proof_hash=proof_hash)
    assert not ecdsa_sd_2023.verify_statements(statements, parsed, issuer_key, proof_hash=bytes(32))


@needs_vectors
@pytest.mark.parametrize("case", ["prc", "employ"])
def test_w3c_ecdsa_sd_2023_relabelling_reproduces_the_vector(case):
    """Relabelling canonical ``_:c14nN`` labels through the label map gives the vector's sorted statements."""
    folder = VECTORS / "ecdsa-sd-2023" / case
    revealed = _json(folder / "derivedRevealDocument.json")
    parsed = ecdsa_sd_2023.parse_derived_proof_value(revealed["proof"]["proofValue"])
    back = {f"_:{hmac}": f"_:{c14n}" for c14n, hmac in parsed.label_map.items()}
    canonical = []
    for statement in _json(folder / "verifyNQuads.json"):
        for hmac, c14n in back.items():
            statement = statement.replace(hmac + " ", c14n + " ")
        canonical.append(statement)
    assert ecdsa_sd_2023.relabel_statements("".join(sorted(canonical)), parsed.label_map) == \
        _json(folder / "verifyNQuads.json")


def test_ecdsa_sd_2023_relabelling_leaves_literals_alone():
    canonical = '_:c14n0 <https://schema.org/name> "_:c14n0 is not a node" .\n'
    assert ecdsa_sd_2023.relabel_statements(canonical, {"c14n0": "uAAA"}) == [
        '_:uAAA <https://schema.org/name> "_:c14n0 is not a node" .\n']
    with pytest.raises(CredentialError) as caught:
        ecdsa_sd_2023.relabel_statements("_:c14n1 <urn:p> <urn:o> .\n", {"c14n0": "uAAA"})
    assert caught.value.code is Code.PROOF_MALFORMED


def _derived(components, header=ecdsa_sd_2023.DERIVED_HEADER) -> str:
    return "u" + b64url_encode(header + cbor2.dumps(components))


_GOOD = [bytes(64), b"\x80\x24\x02" + bytes(32), [bytes(64)], {0: bytes(32)}, [0]]


@pytest.mark.parametrize("value", [
    "z" + "1" * 20,                                                      # not base64url multibase
    "u!!!",                                                              # not base64url
    "u" + b64url_encode(b"\xd9\x5d\x02" + cbor2.dumps(_GOOD)),           # unknown header
    "u" + b64url_encode(ecdsa_sd_2023.DERIVED_HEADER + b"\xff\x00"),     # not CBOR
    _derived(_GOOD[:4]),                                                 # four components
    _derived([bytes(63)] + _GOOD[1:]),                                   # short base signature
    _derived([_GOOD[0], b"\xed\x01" + bytes(33)] + _GOOD[2:]),           # per-proof key not P-256
    _derived(_GOOD[:2] + [[bytes(10)]] + _GOOD[3:]),                     # short statement signature
    _derived(_GOOD[:3] + [{"0": bytes(32)}] + _GOOD[4:]),                # label map keyed by text
    _derived(_GOOD[:4] + [[-1]]),                                        # negative index
    _derived(_GOOD, header=ecdsa_sd_2023.BASE_HEADER),                   # a base proof
])
def test_malformed_ecdsa_sd_2023_proof_values_are_proof_malformed(value):
    with pytest.raises(CredentialError) as caught:
        ecdsa_sd_2023.parse_derived_proof_value(value)
    assert caught.value.code is Code.PROOF_MALFORMED


def test_ecdsa_sd_2023_base_proof_is_refused_with_a_sentence_for_people():
    with pytest.raises(CredentialError) as caught:
        ecdsa_sd_2023.parse_derived_proof_value(_derived(_GOOD, header=ecdsa_sd_2023.BASE_HEADER))
    message = caught.value.message
    assert "base proof" in message and "cannot be verified" in message
    assert "Verify Derived Proof" in message and "wallet derives" in message


def test_ecdsa_sd_2023_mandatory_hash_is_sha256_of_the_joined_statements():
    """A derived proof made here by the algorithm's own steps verifies; moving a statement between
    mandatory and selective breaks it."""
    issuer = ec.generate_private_key(ec.SECP256R1())
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    statements = ["_:uA <urn:p> <urn:o1> .\n", "_:uA <urn:p> <urn:o2> .\n", "_:uA <urn:p> <urn:o3> .\n"]
    proof_hash = hashlib.sha256(b"proof options").digest()
    ephemeral_key = ecdsa_rdfc_2019.public_key_of(ephemeral)
    multikey = bytes(decode_ec_multikey(ephemeral_key.to_multikey())[1])
    public = b"\x80\x24" + multikey
    mandatory_hash = hashlib.sha256(statements[0].encode()).digest()
    parsed = ecdsa_sd_2023.DerivedProofValue(
        base_signature=_raw(issuer, proof_hash + public + mandatory_hash), public_key=public,
        signatures=tuple(_raw(ephemeral, s.encode()) for s in statements[1:]), label_map={},
        mandatory_indexes=(0,))
    issuer_key = ecdsa_rdfc_2019.public_key_of(issuer)
    assert ecdsa_sd_2023.verify_statements(statements, parsed, issuer_key, proof_hash=proof_hash)
    moved = ecdsa_sd_2023.DerivedProofValue(parsed.base_signature, public, parsed.signatures, {}, (1,))
    assert not ecdsa_sd_2023.verify_statements(statements, moved, issuer_key, proof_hash=proof_hash)


def _raw(private: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    r, s = decode_dss_signature(private.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")
