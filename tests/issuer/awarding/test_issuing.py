"""issuer.awarding.issuing: the Issuer service — what it signs passes the strict schema and verifies; idempotent;
refuses what the achievement does not offer; did:web keys resolve through its own DID document."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from jsonschema import Draft201909Validator

from errors import Code, ConfigError, InputError, NotFound
from issuer.awarding.issuing import IssueRequest
from keys.did import did_web_url
from keys.vc_jwt import decode_jwt
from schemas.loader import offline_loader
from verifier.fetch import DictFetch, Offline
from verifier.pipeline import Verifier, credential_from_jwt_payload

STRICT_SCHEMA = (Path(__file__).resolve().parents[4]
                 / "shared/spec/schemas/ob-v3p0/json/ob_v3p0_achievementcredential_schema.json")
COURSE = "storytime-early-literacy"
CERTIFICATION = "certified-youth-services-librarian"


def _strict_problems(credential: dict) -> list[str]:
    if not STRICT_SCHEMA.exists():
        pytest.skip(f"the official schema is not beside the project ({STRICT_SCHEMA})")
    validator = Draft201909Validator(json.loads(STRICT_SCHEMA.read_text("utf-8")))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(credential)]


def _verify_credential(credential: dict, now, *, fetch=None, jwt: str | None = None):
    verifier = Verifier(loader=offline_loader(), fetch=fetch or Offline(), now=now)
    return verifier.verify_credential(credential, container="jwt" if jwt else "json", jwt=jwt)


def test_issued_credential_passes_the_strict_official_schema(issuer):
    issued = issuer.issue(COURSE, IssueRequest(email="Ana.Lima@Example.org", name="Ana Lima", credits=1.5,
                                               evidence="https://lla.example/recordings/14",
                                               organization="Lakeshore PL"))
    credential = json.loads(issued.record.credential)
    assert _strict_problems(credential) == []
    assert isinstance(credential["proof"], list)
    assert credential["credentialSubject"]["creditsEarned"] == 1.5
    assert credential["credentialStatus"]["statusPurpose"] == "revocation"
    assert credential["issuer"]["id"] == issuer.did


def test_issued_credential_verifies_with_every_check_but_status_offline(issuer, now):
    issued = issuer.issue(COURSE, IssueRequest(email="ana@example.org", name="Ana Lima"))
    report = _verify_credential(json.loads(issued.record.credential), now)
    outcomes = {c.check: (c.outcome, c.code) for c in report.checks}
    assert outcomes["proof"] == ("passed", "PROOF_OK")
    assert outcomes["schema"] == ("passed", "SCHEMA_OK")
    assert outcomes["status"] == ("failed", Code.STATUS_UNREACHABLE.value)  # published by awarding, not here


def test_jwt_format_is_a_verifying_vc_jwt(issuer, now):
    issued = issuer.issue(COURSE, IssueRequest(email="ana@example.org", name="Ana Lima", format="jwt"))
    token = issued.record.credential
    assert issued.record.format == "jwt" and token.count(".") == 2
    credential = credential_from_jwt_payload(decode_jwt(token)[1])
    report = _verify_credential(credential, now, jwt=token)
    assert report.format == "vc-jwt"
    assert report.check("proof").outcome == "passed"


def test_reissue_for_the_same_person_and_achievement_returns_the_stored_credential(issuer):
    request = IssueRequest(email="ana@example.org", name="Ana Lima", date=date(2026, 10, 1))
    first = issuer.issue(COURSE, request)
    again = issuer.issue(COURSE, IssueRequest(email=" ANA@example.org ", name="Ana L.", date=date(2026, 10, 1)))
    assert first.created and not again.created
    assert again.record.id == first.record.id
    assert again.record.credential == first.record.credential
    assert len(issuer.registry.find_credentials(issuer.issuer_id)) == 1
    other_day = issuer.issue(COURSE, IssueRequest(email="ana@example.org", date=date(2026, 10, 2)))
    assert not other_day.created and other_day.record.id == first.record.id  # one award per person


def test_credits_above_credits_available_are_refused_and_nothing_is_stored(issuer):
    with pytest.raises(InputError) as caught:
        issuer.issue(COURSE, IssueRequest(email="ana@example.org", credits=2))
    assert caught.value.code == Code.CREDITS_EXCEEDED
    assert "1.5" in caught.value.message
    assert issuer.registry.find_credentials(issuer.issuer_id) == []
    assert issuer.registry.list_status_lists(issuer.issuer_id) == []  # no status index was reserved


def test_default_credits_are_the_achievements_credits_available(issuer):
    issued = issuer.issue(COURSE, IssueRequest(email="ana@example.org"))
    assert issued.record.credits == 1.5
    assert json.loads(issued.record.credential)["credentialSubject"]["creditsEarned"] == 1.5


def test_valid_for_sets_valid_until_from_the_award_date(issuer):
    issued = issuer.issue(CERTIFICATION, IssueRequest(email="sam@example.org", name="Sam Lee",
                                                      date=date(2026, 2, 28)))
    credential = json.loads(issued.record.credential)
    assert credential["validFrom"] == "2026-02-28T00:00:00Z"
    assert credential["validUntil"] == "2029-02-28T00:00:00Z"
    assert issued.record.valid_until.date() == date(2029, 2, 28)
    course = json.loads(issuer.issue(COURSE, IssueRequest(email="sam@example.org")).record.credential)
    assert "validUntil" not in course


def test_unknown_achievement_is_not_found(issuer):
    with pytest.raises(NotFound) as caught:
        issuer.issue("no-such-course", IssueRequest(email="ana@example.org"))
    assert caught.value.code == Code.ACHIEVEMENT_NOT_FOUND
    assert "achievement add" in caught.value.message and "did you mean" not in caught.value.message


@pytest.mark.parametrize("typed", [COURSE.split("-")[0], COURSE.replace("e", "", 1)])
def test_a_shortened_or_mistyped_achievement_names_the_likely_one(issuer, typed):
    with pytest.raises(NotFound) as caught:
        issuer.issue(typed, IssueRequest(email="ana@example.org"))
    assert caught.value.code == Code.ACHIEVEMENT_NOT_FOUND
    assert f"did you mean {COURSE!r}?" in caught.value.message
    assert caught.value.details["suggestions"][0] == COURSE


def test_bad_email_is_refused(issuer):
    with pytest.raises(InputError) as caught:
        issuer.issue(COURSE, IssueRequest(email="not an address"))
    assert caught.value.code == Code.RECIPIENT_INVALID
    assert issuer.registry.find_credentials(issuer.issuer_id) == []


def test_suspendable_credential_carries_revocation_and_suspension_entries(issuer):
    """Two entries break the one-object schema rule; the self-check lets exactly that through."""
    issued = issuer.issue(COURSE, IssueRequest(email="ana@example.org"), suspension=True)
    statuses = json.loads(issued.record.credential)["credentialStatus"]
    assert [s["statusPurpose"] for s in statuses] == ["revocation", "suspension"]
    assert issued.record.suspension_index is not None


def test_did_web_issuer_key_resolves_through_its_did_document(make_issuer, db_url, now):
    issuer = make_issuer(db_url, did_web="badges.lakeshore.example")
    assert issuer.did == "did:web:badges.lakeshore.example"
    credential = json.loads(issuer.issue(COURSE, IssueRequest(email="ana@example.org")).record.credential)
    assert credential["issuer"]["id"] == issuer.did
    assert credential["proof"][0]["verificationMethod"] == "did:web:badges.lakeshore.example#key-1"
    document = issuer.did_document()
    assert document["assertionMethod"] == ["did:web:badges.lakeshore.example#key-1"]
    served = DictFetch({did_web_url(issuer.did): json.dumps(document)})
    assert _verify_credential(credential, now, fetch=served).check("proof").outcome == "passed"
    assert _verify_credential(credential, now).check("proof").outcome == "failed"  # DID document unreachable


def test_did_key_issuer_has_no_did_document(issuer):
    assert issuer.did.startswith("did:key:z6Mk")
    assert issuer.did_document() is None


def test_status_changes_of_unknown_credential_are_not_found(issuer):
    with pytest.raises(NotFound) as caught:
        issuer.set_status("urn:uuid:00000000-0000-4000-8000-000000000000", "revoke", reason="x")
    assert caught.value.code == Code.CREDENTIAL_NOT_FOUND


def test_self_check_refuses_a_credential_that_does_not_verify(issuer):
    """A signature that does not match the issuer's key is caught before anything is stored."""
    from keys.ed25519 import KeyPair

    issuer.key = KeyPair.from_seed(bytes(32))  # not the key the did:key issuer id names
    with pytest.raises(ConfigError) as caught:
        issuer.issue(COURSE, IssueRequest(email="ana@example.org"))
    assert caught.value.code == Code.SELF_CHECK_FAILED
    assert issuer.registry.find_credentials(issuer.issuer_id) == []


# --- the workers' share of a roster batch ----------------------------------------------------------

def test_the_workers_share_of_a_batch_shrinks_when_the_batch_waited_for_them(make_issuer):
    """Their backlog (files of earlier batches) held up their share: this process signs more next time."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    from issuer.awarding.issuing import SigningShare

    issuer = make_issuer()
    share = SigningShare()
    for _ in range(SigningShare.WARM_UP):  # the workers' first batches (cold caches) do not count
        share.update(1.0, 0.1)
    assert share.value == SigningShare.START
    requests = [IssueRequest(email=f"w{i}@example.org", name=f"W {i}") for i in range(20)]
    with ThreadPoolExecutor(2) as pool:
        for _ in range(2):
            pool.submit(time.sleep, 0.5)  # both workers busy ahead of the batch's share
        issued = issuer.issue_many(COURSE, requests, pool=pool, share=share)
    assert len(issued) == 20 and all(i.created for i in issued)
    assert share.value == pytest.approx(SigningShare.START - SigningShare.STEP)
    texts = [i.record.credential for i in issued]
    assert len(set(texts)) == 20 and all(json.loads(t)["proof"][0]["proofValue"] for t in texts)


def test_the_workers_share_grows_when_nothing_waited_for_them_within_bounds():
    from issuer.awarding.issuing import SigningShare

    share = SigningShare(0.8)
    share._seen = SigningShare.WARM_UP
    share.update(0.0, 0.1)
    assert share.value == pytest.approx(0.85)
    share.update(0.0, 0.1)
    assert share.value == pytest.approx(SigningShare.MOST)
    share.update(0.01, 0.1)  # some waiting, under a quarter of our own signing: left as it is
    assert share.value == pytest.approx(SigningShare.MOST)
    low = SigningShare(0.15)
    low._seen = SigningShare.WARM_UP
    low.update(1.0, 0.1)
    low.update(1.0, 0.1)
    assert low.value == pytest.approx(SigningShare.LEAST)
