"""Embedded EndorsementCredentials are verified one by one, and a bad one fails the credential."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from issuer.badge.credential import Award, Recipient, build_credential
from issuer.badge.sign import sign_credential
from keys.ed25519 import KeyPair
from schemas.loader import offline_loader
from verifier.endorsements import endorsements_of
from verifier.fetch import DictFetch
from verifier.pipeline import VerifyOptions, verify_bytes

NOW = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)
SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "examples" / "ob-v3p0-spec"
OB = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]


def _endorsement(endorser: KeyPair, subject_id: str) -> dict:
    unsigned = {
        "@context": OB, "id": "urn:uuid:4f0e8c34-5a4b-4c1e-9b0a-5b6c2f1d9e01",
        "type": ["VerifiableCredential", "EndorsementCredential"], "name": "State library endorsement",
        "issuer": {"id": endorser.public_key.did_key, "type": ["Profile"], "name": "State Library"},
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": subject_id, "type": ["EndorsementSubject"],
                              "endorsementComment": "Meets the state's continuing-education standard."},
    }
    return sign_credential(unsigned, endorser, loader=offline_loader(), created=NOW)


def _endorsed_badge(issuer_key: KeyPair, endorsement: dict) -> bytes:
    achievement = {"id": "https://badges.example.org/achievements/a", "type": ["Achievement"], "name": "A",
                   "description": "B", "criteria": {"narrative": "C"}, "endorsement": [endorsement]}
    unsigned = build_credential(
        issuer={"id": issuer_key.public_key.did_key, "type": ["Profile"], "name": "Lakeshore"},
        achievement=achievement, recipient=Recipient(did="did:example:learner"),
        award=Award(credential_schema=False), now=NOW)
    return json.dumps(sign_credential(unsigned, issuer_key, loader=offline_loader(), created=NOW)).encode()


def _verify(data: bytes, **options):
    return verify_bytes(data, loader=offline_loader(), fetch=DictFetch({}), now=NOW,
                        options=VerifyOptions(**options))


def test_a_valid_endorsement_is_reported_and_the_badge_verifies():
    endorsement = _endorsement(KeyPair.from_seed(b"\x05" * 32), "https://badges.example.org/achievements/a")
    report = _verify(_endorsed_badge(KeyPair.from_seed(b"\x06" * 32), endorsement))
    assert report.verified, report.to_text()
    assert [name for name, _ in report.embedded] == [endorsement["id"]]
    assert report.to_dict()["embedded"][0]["verified"] is True


def test_a_tampered_endorsement_fails_the_badge_and_is_named():
    endorsement = _endorsement(KeyPair.from_seed(b"\x05" * 32), "https://badges.example.org/achievements/a")
    forged = copy.deepcopy(endorsement)
    forged["credentialSubject"]["endorsementComment"] = "The best course in the country."
    report = _verify(_endorsed_badge(KeyPair.from_seed(b"\x06" * 32), forged))
    assert not report.verified
    assert report.check("proof").outcome == "passed"  # the badge's own signature is fine
    (name, nested), = report.embedded
    assert name == endorsement["id"] and nested.check("proof").code == "PROOF_INVALID"
    assert any(endorsement["id"] in w for w in report.warnings)


@pytest.mark.skipif(not SPEC.exists(), reason="../shared/spec is not beside the project")
def test_the_spec_complete_example_reports_its_three_unverifiable_endorsements():
    data = (SPEC / "signed-2024-04-03" / "complete-openbadgecredential.eddsa-rdfc-2022.json").read_bytes()
    credential = json.loads(data)
    assert len(endorsements_of(credential)) == 3
    report = _verify(data, accept_unbound_keys=True, allow_unreachable_status=True)
    assert len(report.embedded) == 3 and not any(r.verified for _, r in report.embedded)
    assert not report.verified
