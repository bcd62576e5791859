"""The official OB 3.0 examples and the W3C / 1EdTech vectors, judged as ../shared/spec/examples/README.md says."""

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from schemas.loader import offline_loader
from verifier.fetch import DictFetch, build_fetch
from verifier.pipeline import VerifyOptions, verify_bytes

EXAMPLES = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "examples"
pytestmark = pytest.mark.skipif(not EXAMPLES.exists(), reason="../shared/spec is not beside the project")
NOW = datetime(2026, 11, 23, tzinfo=timezone.utc)
ED = EXAMPLES / "1edtech-validator-ob30"
SPEC = EXAMPLES / "ob-v3p0-spec"


def _verify(path, *, loader=None, fetch=None, **options):
    return verify_bytes(Path(path).read_bytes(), loader=loader or offline_loader(),
                        fetch=fetch or build_fetch(documents=None, offline=True), now=NOW,
                        options=VerifyOptions(**options))


def _failed_codes(report):
    return {c.code for c in report.failures()}


def test_w3c_vectors_are_crypto_valid_but_their_key_is_not_the_issuers():
    """The vectors sign for issuer https://vc.example/issuers/5678 with an unrelated did:key.

    The signature checks; Badgesmith's binding rule (the key must belong to the
    issuer) flags it, and that is the only failure.
    """
    examples = json.loads((EXAMPLES.parent / "contexts" / "w3c-credentials-examples-v2.jsonld").read_text())
    loader = offline_loader({"https://www.w3.org/ns/credentials/examples/v2": examples})
    for path in [EXAMPLES / "w3c-vc-di-eddsa" / "eddsa-rdfc-2022" / "signedDataInt.json",
                 EXAMPLES / "w3c-vc-di-eddsa" / "Ed25519Signature2020" / "signedEdSig.json"]:
        report = _verify(path, loader=loader)
        assert _failed_codes(report) == {"KEY_NOT_ISSUERS"}, report.to_text()


def test_w3c_vector_without_the_examples_context_is_refused_offline():
    report = _verify(EXAMPLES / "w3c-vc-di-eddsa" / "eddsa-rdfc-2022" / "signedDataInt.json")
    assert "CONTEXT_NOT_ALLOWED" in _failed_codes(report)


@pytest.mark.parametrize("vector", ["ob-v3p0-impl-guide-vector", "clr-v2p0-impl-guide-vector"])
def test_impl_guide_vectors_verify_when_fragment_keys_are_accepted(vector):
    assert _failed_codes(_verify(EXAMPLES / vector / "signed.json")) == {"KEY_UNBOUND"}
    assert _verify(EXAMPLES / vector / "signed.json", accept_unbound_keys=True).verified


SIGNED_VALID = ["docformat-sample-openbadgecredential", "basic-openbadgecredential",
                "achievement-alignment-case", "achievement-alignment-ctdl",
                "skill-assertion-case", "skill-assertion-ctdl"]


@pytest.mark.parametrize("name", SIGNED_VALID)
def test_spec_di_examples_are_crypto_valid(name):
    report = _verify(SPEC / "signed-2024-04-03" / f"{name}.eddsa-rdfc-2022.json", accept_unbound_keys=True)
    assert report.verified, report.to_text()
    assert report.format == "di-eddsa-rdfc-2022"


@pytest.mark.parametrize("path", sorted((SPEC / "signed-2024-04-03").glob("*.jwt")) if EXAMPLES.exists() else [],
                         ids=lambda p: p.stem)
def test_spec_jwt_examples_lack_nbf_and_are_rejected(path):
    report = _verify(path, accept_unbound_keys=True)
    assert not report.verified
    assert report.check("proof").code == "JWT_CLAIMS_MISMATCH"


@pytest.mark.parametrize("path", sorted((SPEC / "unsigned").glob("*.json")) if EXAMPLES.exists() else [],
                         ids=lambda p: p.stem)
def test_unsigned_spec_examples_are_not_verifiable(path):
    report = _verify(path)
    assert not report.verified
    if path.name.startswith("equality"):
        assert report.check("context").code == "CONTEXT_NOT_ALLOWED"
    else:
        assert report.check("schema").outcome == "passed"
        assert report.check("proof").code == "PROOF_MISSING"


@pytest.mark.parametrize("name", ["simple.json", "simple.1ob", "simple-context-alias.json",
                                  "simple-context-version.json", "simple_v1.json", "simple-eddsa-2022.json",
                                  "simple-did-web-method.json", "endorsement-valid.json",
                                  "simple-multiple-proofs.json"])
def test_1edtech_valid_fixtures_verify_when_fragment_keys_are_accepted(name):
    report = _verify(ED / name, accept_unbound_keys=True)
    assert report.verified, report.to_text()


def test_multiple_proofs_with_an_unknown_type_warn_about_it():
    report = _verify(ED / "simple-multiple-proofs.json", accept_unbound_keys=True)
    assert "SomeProofType" in report.check("proof").message


def test_did_key_method_not_controlled_by_the_urn_issuer_is_flagged():
    assert _failed_codes(_verify(ED / "simple-did-key-method.json")) == {"KEY_NOT_ISSUERS"}


@pytest.mark.parametrize("name, code", [
    ("simple-err-context.json", "CONTEXT_MISSING"),
    ("simple-err-type.json", "UNDEFINED_TERM"),
    ("simple-err-issuer.json", "SCHEMA_INVALID"),
    ("simple-err-issued.json", "NOT_YET_VALID"),
    ("simple-err-expired.json", "EXPIRED"),
    ("simple-err-credential-subject-type.json", "UNDEFINED_TERM"),
    ("simple-err-credential-subject-identifier-type.json", "UNDEFINED_TERM"),
    ("simple-err-credential-subject-result-type.json", "UNDEFINED_TERM"),
    ("simple-err-credential-subject-profile-type.json", "UNDEFINED_TERM"),
    ("simple-err-credential-subject-achievement-result-description-type.json", "UNDEFINED_TERM"),
    ("simple-err-evidence-type.json", "UNDEFINED_TERM"),
    ("simple-err-issuer-type.json", "UNDEFINED_TERM"),
    ("simple-err-issuer-parentorg-type.json", "UNDEFINED_TERM"),
    ("simple-err-issuer-otheridentifier-type.json", "UNDEFINED_TERM"),
    ("simple-err-proof-method-no-scheme.json", "KEY_UNRESOLVABLE"),
    ("simple-err-proof-method-unknown-did-method.json", "DID_METHOD_UNSUPPORTED"),
    ("simple-err-proof-method-unknown-scheme.json", "KEY_UNRESOLVABLE"),
    ("simple-err-proof-value.json", "PROOF_INVALID"),
    ("simple-noproof.json", "PROOF_MISSING"),
    ("simple.jwt", "CONTEXT_NOT_ALLOWED"),
    ("velocity.jwt", "DID_METHOD_UNSUPPORTED"),
])
def test_1edtech_error_fixtures_fail_with_the_right_check(name, code):
    report = _verify(ED / name, accept_unbound_keys=True)
    assert not report.verified
    assert code in _failed_codes(report), report.to_text()


def test_bitstring_list_fixture_reports_revoked_when_served_locally():
    listed = json.loads((ED / "bit-string-list" / "credential-status-revoked.json").read_text())
    url = listed["credentialStatus"]["statusListCredential"]
    fetch = DictFetch({url: (ED / "bit-string-list" / "testlist.json").read_bytes()})
    for name in ["credential-status-revoked.json", "credential-status-revoked-blank-nodes.json"]:
        report = _verify(ED / "bit-string-list" / name, fetch=fetch, accept_unbound_keys=True)
        assert report.check("status").code == "REVOKED", report.to_text()
        assert not report.verified
