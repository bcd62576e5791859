"""``endorsementJwt`` (README, Decisions): read in VC-JWT credentials and each entry verified as an
EndorsementCredential; refused as an undefined term under a Data Integrity proof, because the
pinned OB 3.0.3 context (the one the spec names) does not define it and the 1EdTech validator's
copy of that URL does."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from keys import eddsa_rdfc_2022
from keys.ed25519 import KeyPair
from keys.vc_jwt import sign_jwt
from schemas.loader import offline_loader
from verifier.endorsement_jwt import endorsement_jwts_of, without_endorsement_jwts
from verifier.fetch import DictFetch
from verifier.pipeline import verify_bytes

NOW = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)
ACHIEVEMENT = "https://badges.example.org/achievements/storytime"
ROOT = Path(__file__).resolve().parents[2]
VALIDATOR_CONTEXT = ROOT.parent / "shared" / "spec" / "contexts" / "variants" / \
    "ob-v3p0-context-3.0.3.1edtech-validator-2026-06.json"


@pytest.fixture(scope="module")
def issuer():
    return KeyPair.from_seed(b"\x21" * 32)


@pytest.fixture(scope="module")
def endorser():
    return KeyPair.from_seed(b"\x22" * 32)


def _vm(key):
    return f"{key.public_key.did_key}#{key.public_key.to_multikey()}"


def _endorsement(endorser, *, subject=ACHIEVEMENT, valid_from="2026-10-01T00:00:00Z") -> str:
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:9b1e2d3c-4f5a-4b6c-8d7e-0f1a2b3c4d5e",
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "issuer": {"id": endorser.public_key.did_key, "type": ["Profile"], "name": "State Library Council"},
        "validFrom": valid_from, "name": "Council endorsement",
        "credentialSubject": {"id": subject, "type": ["EndorsementSubject"],
                              "endorsementComment": "Meets the council's standard for storytime training."},
    }
    return sign_jwt(credential, endorser, verification_method=_vm(endorser))


def _badge(issuer, **endorsements) -> dict:
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer.public_key.did_key, "type": ["Profile"], "name": "Lakeshore Library Association"},
        "validFrom": "2026-11-01T00:00:00Z", "name": "Storytime Basics",
        "credentialSubject": {"type": ["AchievementSubject"], "id": "did:example:ana",
                              "achievement": {"id": ACHIEVEMENT, "type": ["Achievement"], "name": "Storytime Basics",
                                              "description": "A course.", "criteria": {"narrative": "Attend."}}},
    }
    if "top" in endorsements:
        credential["endorsementJwt"] = endorsements["top"]
    if "achievement" in endorsements:
        credential["credentialSubject"]["achievement"]["endorsementJwt"] = endorsements["achievement"]
    if "profile" in endorsements:
        credential["issuer"]["endorsementJwt"] = endorsements["profile"]
    return credential


def _verify(data: bytes):
    return verify_bytes(data, loader=offline_loader(), fetch=DictFetch({}), now=NOW)


def _as_jwt(credential: dict, issuer) -> bytes:
    return sign_jwt(credential, issuer, verification_method=_vm(issuer)).encode()


@pytest.mark.parametrize("where", ["top", "achievement", "profile"])
def test_jwt_credential_with_a_valid_endorsement_jwt_verifies_and_reports_it(issuer, endorser, where):
    report = _verify(_as_jwt(_badge(issuer, **{where: [_endorsement(endorser)]}), issuer))
    assert report.verified, report.failures()
    assert report.check("context").outcome == "passed"
    [(name, nested)] = report.embedded
    assert name == "urn:uuid:9b1e2d3c-4f5a-4b6c-8d7e-0f1a2b3c4d5e"
    assert nested.container == "endorsement" and nested.format == "vc-jwt" and nested.verified


def test_forged_endorsement_jwt_fails_the_credential_and_is_named(issuer, endorser):
    header, payload, signature = _endorsement(endorser).split(".")
    forged = ".".join([header, payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB"), signature])
    report = _verify(_as_jwt(_badge(issuer, top=[forged]), issuer))
    assert not report.verified
    assert any("endorsementJwt[0]" in w and "did not verify" in w for w in report.warnings)


def test_expired_endorsement_jwt_fails(issuer, endorser):
    early = _endorsement(endorser, valid_from="2027-01-01T00:00:00Z")  # not yet valid
    report = _verify(_as_jwt(_badge(issuer, achievement=[early]), issuer))
    assert not report.verified
    [(_, nested)] = report.embedded
    assert nested.check("validity").outcome == "failed"


def test_endorsement_jwt_that_is_not_a_jwt_fails(issuer):
    report = _verify(_as_jwt(_badge(issuer, top=[{"not": "a token"}]), issuer))
    assert not report.verified
    [(_, nested)] = report.embedded
    assert nested.check("container").code == "JWT_MALFORMED"


def test_endorsement_jwt_in_a_data_integrity_credential_is_an_undefined_term(issuer, endorser):
    # It cannot even be signed here (the pinned context does not define it): add it afterwards.
    signed = eddsa_rdfc_2022.sign(_badge(issuer), issuer, verification_method=_vm(issuer), loader=offline_loader(),
                                  created=NOW)
    signed["endorsementJwt"] = [_endorsement(endorser)]
    report = _verify(json.dumps(signed).encode())
    assert report.check("context").code == "UNDEFINED_TERM" and not report.verified
    assert report.embedded == ()  # not followed: the term is not part of what was signed


def test_without_endorsement_jwts_removes_only_that_member(issuer, endorser):
    token = _endorsement(endorser)
    credential = _badge(issuer, top=[token], achievement=[token], profile=[token])
    assert [where for where, _ in endorsement_jwts_of(credential)] == [
        "endorsementJwt[0]", "credentialSubject.achievement.endorsementJwt[0]", "issuer.endorsementJwt[0]"]
    stripped = without_endorsement_jwts(credential)
    assert endorsement_jwts_of(stripped) == [] and stripped == _badge(issuer)
    assert "endorsementJwt" in credential  # the original is left alone
    plain = _badge(issuer)
    assert without_endorsement_jwts(plain) is plain


@pytest.mark.skipif(not VALIDATOR_CONTEXT.exists(), reason="../shared/spec is not beside the project")
def test_the_two_published_3_0_3_contexts_differ_on_endorsement_jwt():
    """The premise of the decision: the pinned context lacks the term, the validator's copy has it."""
    pinned = json.loads((ROOT / "schemas" / "contexts" / "ob-v3p0-context-3.0.3.json").read_text("utf-8"))
    validator = json.loads(VALIDATOR_CONTEXT.read_text("utf-8"))
    assert "endorsementJwt" not in json.dumps(pinned)
    assert "endorsementJwt" in validator["@context"]
