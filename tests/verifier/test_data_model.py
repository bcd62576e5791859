"""VC Data Model 2.0 rules (verifier.data_model) and Data Integrity proof sets and chains."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from errors import Code
from keys.data_integrity import EDDSA_RDFC_2022, create_proof, hash_data
from keys.ed25519 import KeyPair
from keys.multikey import encode_multibase
from schemas.loader import offline_loader
from verifier.data_model import InvalidCredential, check_data_model, data_model_problems, is_url
from verifier.fetch import DictFetch
from verifier.pipeline import Verifier

NOW = datetime(2026, 3, 1, tzinfo=UTC)
ISSUER = KeyPair.from_seed(bytes(range(32)))
WITNESS = KeyPair.from_seed(bytes(range(1, 33)))
BASE = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
        "issuer": ISSUER.public_key.did_key, "credentialSubject": {"id": "did:example:subject"}}


def _rules(**change) -> list[str]:
    return [p.rule for p in data_model_problems({**BASE, **change})]


def test_a_minimal_credential_conforms():
    assert data_model_problems(BASE) == []


@pytest.mark.parametrize("change, rule", [
    ({"@context": ["https://example.org/first"]}, "@context"),
    ({"@context": ["https://www.w3.org/ns/credentials/v2", 42]}, "@context"),
    ({"type": ["Other"]}, "type"),
    ({"id": ["https://a.example", "https://b.example"]}, "id"),
    ({"issuer": "not-a-url"}, "issuer"),
    ({"issuer": {"id": None}}, "issuer.id"),
    ({"credentialSubject": [{"id": "did:example:a"}, {}]}, "credentialSubject"),
    ({"credentialSubject": {"id": ["did:example:a", "did:example:b"]}}, "credentialSubject.id"),
    ({"credentialStatus": {"id": "https://example.org/status"}}, "credentialStatus.type"),
    ({"credentialSchema": {"type": "JsonSchema"}}, "credentialSchema.id"),
    ({"termsOfUse": {"id": "https://example.org/terms"}}, "termsOfUse.type"),
    ({"relatedResource": {"id": "https://example.org/x", "digestSRI": "md5-abc"}}, "relatedResource.digestSRI"),
    ({"validUntil": "2026-03-01T00:00:00"}, "validUntil"),  # no time zone
    ({"description": [{"@value": "x", "@language": "en"}, {"value": "y"}]}, "description"),
])
def test_each_rule_is_named(change, rule):
    assert rule in _rules(**change)


def test_language_objects_and_digests_that_conform_pass():
    assert _rules(name=[{"@value": "Dog", "@language": "en"}, {"@value": "Chien", "@language": "fr",
                                                               "@direction": "ltr"}],
                  relatedResource=[{"id": "https://example.org/a", "digestMultibase": "uEiA"},
                                   {"id": "https://example.org/b", "digestSRI": "sha384-abc+/="}],
                  validFrom="2026-01-01T00:00:00.5-05:00", validUntil="2026-01-02T00:00:00Z") == []


@pytest.mark.parametrize("identifier", [["https://example.org/a"], {"id": "https://example.org/a"}, 7, None])
def test_related_resource_ids_of_any_json_type_are_problems_not_crashes(identifier):
    resources = [{"id": identifier, "digestSRI": "sha384-AAAA"}, {"id": identifier, "digestSRI": "sha384-BBBB"}]
    rules = _rules(relatedResource=resources)
    assert "relatedResource.id" in rules


def test_check_data_model_raises_422_with_the_rule():
    with pytest.raises(InvalidCredential) as caught:
        check_data_model({**BASE, "evidence": {}})
    assert caught.value.http_status == 422 and caught.value.code == Code.DATA_MODEL_INVALID
    assert caught.value.details["rule"] == "evidence.type"


def test_urls_are_absolute_and_without_spaces():
    assert is_url("did:example:123") and is_url("urn:uuid:1") and is_url("https://example.org/a#b")
    assert not is_url("https ://not-a-url") and not is_url("relative/path") and not is_url(None)


# -- proof sets and chains -------------------------------------------------------------------


def _proof(document, key, **extra):
    did = key.public_key.did_key
    proof = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2026-01-01T00:00:00Z",
             "verificationMethod": f"{did}#{did.removeprefix('did:key:')}", "proofPurpose": "assertionMethod",
             **extra}
    previous = extra.get("previousProof")
    chained = [p for p in document.get("proof", []) if p.get("id") in
               (previous if isinstance(previous, list) else [previous])] if previous else None
    signature = key.sign(hash_data(document, proof, loader=offline_loader(), previous=chained))
    return {**proof, "proofValue": encode_multibase(signature)}


def _verify(credential):
    return Verifier(loader=offline_loader(), fetch=DictFetch({}), now=NOW).verify_credential(credential)


def _chain(previous_of_second):
    first = _proof(BASE, WITNESS, id="urn:uuid:first-proof")
    document = {**BASE, "proof": [first]}
    second = _proof(document, ISSUER, previousProof=previous_of_second)
    return {**BASE, "proof": [first, second]}


def test_a_proof_chain_verifies_with_a_witness_named_in_a_warning():
    report = _verify(_chain("urn:uuid:first-proof"))
    assert report.check("proof").outcome == "warning", report.to_text()
    assert WITNESS.public_key.did_key in report.check("proof").message


def test_a_chain_naming_a_missing_proof_fails():
    credential = _chain("urn:uuid:first-proof")
    credential["proof"][1]["previousProof"] = "urn:uuid:missing"
    assert _verify(credential).check("proof").code == "PREVIOUS_PROOF_MISSING"


def test_a_chain_whose_earlier_proof_fails_fails():
    credential = _chain(["urn:uuid:first-proof"])
    credential["proof"][0]["proofValue"] = "z" + "1" * 80
    assert not _verify(credential).verified


def test_a_proof_set_of_two_issuer_proofs_verifies():
    proofs = [create_proof(BASE, ISSUER, suite=EDDSA_RDFC_2022, verification_method=_vm(ISSUER),
                           loader=offline_loader(), created=NOW) for _ in range(2)]
    assert _verify({**BASE, "proof": proofs}).check("proof").outcome == "passed"


def test_a_credential_signed_only_by_others_is_not_the_issuers():
    proof = _proof(BASE, WITNESS)
    assert _verify({**BASE, "proof": [proof]}).check("proof").code == "KEY_NOT_ISSUERS"


def _vm(key):
    did = key.public_key.did_key
    return f"{did}#{did.removeprefix('did:key:')}"


def test_more_proofs_than_a_proof_set_needs_are_refused_unchecked():
    from verifier.proofs import MAX_PROOFS

    own = _proof(BASE, ISSUER)
    assert _verify({**BASE, "proof": [own] * MAX_PROOFS}).check("proof").outcome == "passed"
    # Hundreds of chained proofs took seconds to minutes: each is canonicalized with those it names.
    report = _verify({**BASE, "proof": [dict(own, id=f"urn:uuid:proof-{n}", previousProof=[
        f"urn:uuid:proof-{m}" for m in range(n)]) for n in range(MAX_PROOFS + 1)]})
    proof = report.check("proof")
    assert (proof.outcome, proof.code) == ("failed", "PROOF_MALFORMED")
    assert f"{MAX_PROOFS + 1} proofs; at most {MAX_PROOFS}" in proof.message
