"""A presentation file (what a wallet exports) handed to an employer: every credential in it is verified.

Through the pipeline (``badgesmith verify``, ``POST /verify``, ``/api/verify``):
the holder's proof is checked when there is one (no challenge outside a live
exchange, so a missing one is a warning), and each credential — embedded
proof or enveloped VC-JWT — gets a report of its own.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from cli import main
from issuer.badge.credential import Award, Recipient, build_credential
from issuer.badge.recipient import identity_object
from issuer.badge.sign import sign_credential
from keys.data_integrity import hash_data
from keys.ed25519 import KeyPair
from keys.multikey import encode_multibase
from schemas.loader import offline_loader
from verifier.fetch import Offline
from verifier.pipeline import Verifier
from verifier.report import FAILED, PASSED, WARNING

NOW = datetime(2026, 3, 1, tzinfo=UTC)
LOADER = offline_loader()
ISSUER = KeyPair.from_seed(bytes(range(32)))
HOLDER = KeyPair.from_seed(bytes(range(1, 33)))
EMAIL = "jane@example.org"


def _credential(name: str, fmt: str = "di"):
    achievement = {"id": f"https://badges.example.org/achievements/{name.lower()}", "type": ["Achievement"],
                   "name": name, "description": "A webinar.", "criteria": {"narrative": "Attend."},
                   "achievementType": "Course", "creditsAvailable": 1.5}
    unsigned = build_credential(
        issuer={"id": ISSUER.public_key.did_key, "type": ["Profile"], "name": "Lakeshore Library Association"},
        achievement=achievement, award=Award(credits_earned=1.5), now=NOW,
        recipient=Recipient(identity=identity_object(EMAIL, salt="0" * 32)))
    return sign_credential(unsigned, ISSUER, fmt=fmt, loader=LOADER, created=NOW)


def _presentation(credentials, *, signed: bool = True) -> dict:
    did = HOLDER.public_key.did_key
    presentation = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
                    "holder": did, "verifiableCredential": credentials}
    if not signed:
        return presentation
    proof = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2026-03-01T00:00:00Z",
             "verificationMethod": f"{did}#{did.removeprefix('did:key:')}", "proofPurpose": "authentication"}
    proof["proofValue"] = encode_multibase(HOLDER.sign(hash_data(presentation, proof, loader=LOADER)))
    return {**presentation, "proof": proof}


def _envelope(jwt: str) -> dict:
    return {"@context": "https://www.w3.org/ns/credentials/v2", "type": "EnvelopedVerifiableCredential",
            "id": f"data:application/vc+jwt,{quote(jwt)}"}


def _verify(document: dict, **kwargs):
    return Verifier(loader=LOADER, fetch=Offline(), now=NOW).verify_bytes(json.dumps(document).encode(), **kwargs)


def test_a_signed_presentation_of_two_credentials_verifies_each_on_its_own():
    report = _verify(_presentation([_credential("Storytime"), _envelope(_credential("Teens", fmt="jwt"))]),
                     email=EMAIL)
    assert report.verified, report.to_text()
    assert report.check("proof").outcome == PASSED and report.check("schema").outcome == PASSED
    assert report.headline() == (f"Verified: a presentation by {HOLDER.public_key.did_key} of 2 credentials, "
                                 "each verified on its own.")
    (_, first), (_, second) = report.embedded
    assert first.container == "presentation" and first.check("recipient").outcome == PASSED
    assert second.format == "vc-jwt" and second.verified
    assert report.to_dict()["credential"] == {"type": "VerifiablePresentation", "id": None,
                                              "holder": HOLDER.public_key.did_key, "credentials": 2}


def test_an_unsigned_presentation_is_a_warning_and_its_credentials_decide():
    report = _verify(_presentation([_credential("Storytime")], signed=False))
    assert report.verified
    assert (report.check("proof").outcome, report.check("proof").code) == (WARNING, "PROOF_MISSING")


def test_a_changed_credential_inside_fails_the_presentation_and_is_named():
    tampered = _credential("Storytime")
    tampered["credentialSubject"]["creditsEarned"] = 40
    report = _verify(_presentation([_credential("Teens"), tampered], signed=False))
    assert not report.verified
    assert [nested.verified for _, nested in report.embedded] == [True, False]
    assert report.embedded[1][1].check("proof").code == "PROOF_INVALID"


def test_a_presentation_changed_after_the_holder_signed_it_fails_its_proof():
    presentation = _presentation([_credential("Storytime")])
    presentation["holder"] = "did:example:someone-else"
    report = _verify(presentation)
    assert not report.verified and report.check("proof").outcome == FAILED


def test_an_unreadable_envelope_fails_that_entry_only():
    broken = {"@context": "https://www.w3.org/ns/credentials/v2", "type": "EnvelopedVerifiableCredential",
              "id": "data:image/gif,abc"}
    report = _verify(_presentation([_credential("Storytime"), broken], signed=False))
    assert [nested.verified for _, nested in report.embedded] == [True, False]
    assert report.embedded[1][1].checks[0].code == "CONTAINER_UNKNOWN"


@pytest.mark.parametrize("tampered, code", [(False, 0), (True, 1)])
def test_badgesmith_verify_takes_a_presentation_file(tmp_path, tampered, code):
    credential = _credential("Storytime")
    if tampered:
        credential["name"] = "Something else"
    path = tmp_path / "presentation.json"
    path.write_text(json.dumps(_presentation([credential])))
    result = CliRunner().invoke(main, ["verify", "--offline", "--now", "2026-03-01T00:00:00Z", str(path)])
    assert result.exit_code == code, result.output
    assert ("Verified: a presentation by" in result.output) == (not tampered)
    assert "embedded" in result.output


def test_the_verify_page_shows_the_holder_and_each_credential(tmp_path):
    from app import create_app

    app = create_app({"TESTING": True, "RATE_LIMIT": "off", "OFFLINE": True, "NOW": lambda: NOW})
    page = app.test_client().post("/verify", data={"credential": json.dumps(
        _presentation([_credential("Storytime"), _credential("Teens")]))}).get_data(as_text=True)
    assert "A presentation of 2 credentials" in page and HOLDER.public_key.did_key in page
    assert page.count('<details class="embedded__item embedded__item--ok"') == 2
    assert "What was achieved" not in page  # the credentials say that, each in its own section


def test_the_verdict_names_the_credential_inside_that_failed():
    tampered = _credential("Teens")
    tampered["credentialSubject"]["creditsEarned"] = 40
    report = _verify(_presentation([_credential("Storytime"), tampered], signed=False))
    assert report.headline() == ("Not verified: Teens, inside it, did not verify: The signature does not match "
                                 "the credential: it was changed after signing, or signed with another key.")


def test_a_presentation_of_more_credentials_than_a_transcript_may_hold_is_refused_unread():
    from verifier.clr import MAX_EMBEDDED

    report = _verify(_presentation([{"id": f"urn:uuid:{n}"} for n in range(MAX_EMBEDDED + 1)], signed=False))
    assert not report.verified and report.embedded == ()
    assert report.check("schema").code == "PRESENTATION_INVALID" and "at most 500" in report.check("schema").message


def test_an_envelope_holding_json_instead_of_a_jwt_fails_that_entry_and_does_not_nest():
    inner = _presentation([_credential("Storytime")], signed=False)
    envelope = {"@context": "https://www.w3.org/ns/credentials/v2", "type": "EnvelopedVerifiableCredential",
                "id": "data:application/vc+jwt," + quote(json.dumps(inner))}
    report = _verify(_presentation([envelope], signed=False))
    (_, nested), = report.embedded
    assert not report.verified and nested.embedded == ()
    assert nested.checks[0].code == "CONTAINER_UNKNOWN" and "VC-JWT" in nested.checks[0].message
