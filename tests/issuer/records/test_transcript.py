"""issuer.records.transcript: the learner's signed CLR 2.0 ClrCredential.

1EdTech's CLR signing vector is reproduced byte for byte; our transcripts
pass the official CLR 2.0 JSON Schema (read from ../shared, never shipped),
bundle the signed originals unchanged, relate pathway components to the
pathway's award, and state CEUs per year.
"""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from jsonschema import Draft201909Validator

from errors import Code, NotFound
from issuer.awarding.awards import issue_single
from issuer.awarding.status_changes import change_status
from issuer.awarding.issuing import IssueRequest
from issuer.awarding.pathways import add_pathway
from issuer.records.transcript import (build_transcript, ceus_by_year, issue_transcript, render_transcript_html,
                               sign_transcript, transcript_json)
from keys import _rdfc_fast, rdfc
from keys.data_integrity import hash_data, without_proof
from keys.ed25519 import KeyPair
from keys.rdfc import DEFAULT_LIMITS, canonicalize
from schemas.loader import offline_loader
from tests.issuer.series import make_repeatable

SPEC = Path(__file__).resolve().parents[4] / "shared" / "spec"
VECTOR = SPEC / "examples" / "clr-v2p0-impl-guide-vector"
CLR_SCHEMA = SPEC / "schemas" / "clr-v2p0" / "json-ld" / "clr_v2p0_clrcredential_schema.json"
ROOT = Path(__file__).resolve().parents[3]
PATHWAYS = ROOT / "templates" / "pathways"
COURSE = "storytime-early-literacy"
CERTIFICATION = "certified-youth-services-librarian"
JANE = "jane.doe@example.org"


def _schema_problems(document: dict) -> list[str]:
    validator = Draft201909Validator(json.loads(CLR_SCHEMA.read_text("utf-8")))
    return [f"{e.json_path}: {e.message[:200]}" for e in validator.iter_errors(document)]


def _award(issuer, slug: str, day: date, *, email: str = JANE, name: str = "Jane Doe", **extra):
    return issue_single(issuer, slug, IssueRequest(email=email, name=name, date=day, **extra))


# -- the published vector, byte for byte -----------------------------------------------------------


def test_sign_transcript_reproduces_the_1edtech_clr_vector_byte_for_byte():
    unsigned = json.loads((VECTOR / "credential.json").read_text("utf-8"))
    keypair = json.loads((VECTOR / "keypair.json").read_text("utf-8"))
    options = json.loads((VECTOR / "proof-options.json").read_text("utf-8"))
    intermediate = json.loads((VECTOR / "intermediate.json").read_text("utf-8"))
    key = KeyPair.from_seed(bytes.fromhex(keypair["privateKeyHex (seed||public, 64 bytes)"][:64]))
    loader = offline_loader()

    assert canonicalize(unsigned, loader=loader) == (VECTOR / "document-canon.nq").read_text("utf-8")
    digest = hash_data(unsigned, options, loader=loader)
    assert digest.hex() == intermediate["hashDataHex (proofConfigHash||documentHash)"]
    created = datetime.fromisoformat(options["created"].replace("Z", "+00:00"))
    signed = sign_transcript(unsigned, key, loader=loader, created=created,
                             verification_method=options["verificationMethod"])
    assert signed["proof"][0]["proofValue"] == intermediate["proofValue"]
    assert transcript_json(signed).encode("utf-8") == (VECTOR / "signed.json").read_bytes()


def test_the_vector_passes_the_clr_schema_used_below():
    """The schema check itself is sound: 1EdTech's own signed transcript passes it."""
    assert _schema_problems(json.loads((VECTOR / "signed.json").read_text("utf-8"))) == []


# -- transcripts from the registry -----------------------------------------------------------------


def test_transcript_bundles_signed_originals_and_passes_the_clr_schema(issuer):
    course = _award(issuer, COURSE, date(2025, 10, 15), credits=1.5)
    cert = _award(issuer, CERTIFICATION, date(2026, 3, 1))
    transcript = issue_transcript(issuer, " Jane.Doe@Example.org ")
    document = transcript.document

    assert _schema_problems(document) == []
    assert document["type"] == ["VerifiableCredential", "ClrCredential"]
    assert document["@context"][:3] == ["https://www.w3.org/ns/credentials/v2",
                                        "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json",
                                        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    assert document["issuer"]["id"] == issuer.did
    assert document["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    embedded = document["credentialSubject"]["verifiableCredential"]
    assert embedded == [json.loads(course.record.credential), json.loads(cert.record.credential)]
    assert "partial" not in document
    # the learner is named as the newest credential names them (salted hash + name)
    identifiers = document["credentialSubject"]["identifier"]
    assert {i["identityType"] for i in identifiers} == {"emailAddress", "name"}
    cert_ceus = cert.record.credits or 0
    assert transcript.ceus_by_year == ((2025, 1.5),) + (((2026, cert_ceus),) if cert_ceus else ())
    assert "2025: 1.5" in document["description"]


def test_transcript_leaves_out_revoked_and_expired_credentials_and_says_partial(make_issuer, now):
    issuer = make_issuer()
    kept = _award(issuer, COURSE, date(2026, 1, 10))
    revoked = _award(issuer, "inclusive-teen-programming", date(2026, 2, 1))
    change_status(issuer, revoked.record.id, "revoke", reason="issued in error")
    _award(issuer, CERTIFICATION, now.date().replace(year=now.year - 4))  # valid for 3 years: expired
    transcript = build_transcript(issuer, JANE)
    assert [r.id for r in transcript.records] == [kept.record.id]
    assert transcript.left_out == 2
    assert transcript.document["partial"] is True
    assert _schema_problems(transcript.document) == []


def test_transcript_period_filters_by_award_date(make_issuer):
    issuer = make_repeatable(make_issuer(), COURSE)
    _award(issuer, COURSE, date(2024, 5, 1))
    middle = _award(issuer, COURSE, date(2025, 5, 1))
    _award(issuer, COURSE, date(2026, 5, 1))
    transcript = build_transcript(issuer, JANE, since=date(2025, 1, 1), until=date(2025, 12, 31))
    assert [r.id for r in transcript.records] == [middle.record.id]
    assert transcript.ceus_by_year == ((2025, 1.5),)
    assert "2025-01-01 to 2025-12-31" in transcript.document["description"]


def test_transcript_for_an_unknown_address_is_learner_not_found(make_issuer):
    issuer = make_issuer()
    _award(issuer, COURSE, date(2026, 1, 10))
    with pytest.raises(NotFound) as caught:
        issue_transcript(issuer, "nobody@example.org")
    assert caught.value.code == Code.LEARNER_NOT_FOUND
    assert "nobody@example.org" in caught.value.message


def test_transcript_with_nothing_current_is_transcript_empty(make_issuer):
    issuer = make_issuer()
    only = _award(issuer, COURSE, date(2026, 1, 10))
    change_status(issuer, only.record.id, "revoke", reason="issued in error")
    with pytest.raises(NotFound) as caught:
        issue_transcript(issuer, JANE)
    assert caught.value.code == Code.TRANSCRIPT_EMPTY
    with pytest.raises(NotFound) as caught:
        issue_transcript(issuer, JANE, since=date(2030, 1, 1))
    assert caught.value.code == Code.TRANSCRIPT_EMPTY


def test_pathway_components_become_associations_to_the_award(make_issuer):
    issuer = make_issuer()
    for toml in sorted((PATHWAYS / "achievements").glob("*.toml")):
        issuer.add_achievement(toml)
    add_pathway(issuer, PATHWAYS / "youth-services.toml")
    _award(issuer, "inclusive-teen-programming", date(2026, 1, 10))  # one of three components
    document = issue_transcript(issuer, JANE).document
    subject = document["credentialSubject"]
    ids = {a["id"]: a["name"] for a in subject["achievement"]}
    award_id = issuer.achievement("youth-services-certificate")["ob"]["id"]
    assert award_id in ids  # what the learner is working toward
    relations = {(a["sourceId"], a["associationType"], a["targetId"]) for a in subject["association"]}
    components = {issuer.achievement(s)["ob"]["id"] for s in
                  ("inclusive-teen-programming", "early-literacy-programming", "family-engagement")}
    assert relations == {(c, "isPartOf", award_id) for c in components}
    assert _schema_problems(document) == []


def test_ceus_by_year_sums_per_calendar_year(make_issuer):
    issuer = make_repeatable(make_issuer(), COURSE)
    for day, credits in ((date(2025, 1, 5), 1.0), (date(2025, 12, 31), 0.5), (date(2026, 1, 1), 1.5)):
        _award(issuer, COURSE, day, credits=credits)
    records = issuer.registry.find_credentials(issuer.issuer_id)
    assert ceus_by_year(records) == ((2025, 1.5), (2026, 1.5))


def test_html_transcript_lists_the_credentials_and_carries_the_signed_json(make_issuer):
    issuer = make_issuer()
    course = _award(issuer, COURSE, date(2026, 1, 10))
    transcript = issue_transcript(issuer, JANE)
    html = render_transcript_html(transcript, issuer=issuer)
    assert "Storytime for Early Literacy" in html and course.record.id in html
    assert issuer.credential_page(course.record.id) in html
    carried = html.split('<script type="application/ld+json" id="clr-credential">', 1)[1].split("</script>")[0]
    assert json.loads(carried) == transcript.document


# -- speed ---------------------------------------------------------------------------------------


@pytest.fixture
def fifty(make_issuer):
    issuer = make_repeatable(make_issuer(), COURSE, CERTIFICATION, "inclusive-teen-programming")
    slugs = [COURSE, CERTIFICATION, "inclusive-teen-programming"]
    for i in range(50):
        issuer.issue(slugs[i % 3], IssueRequest(email=JANE, name="Jane Doe", date=date(2026, 1, 1) + timedelta(days=i)))
    return issuer


def test_fifty_credential_transcript_takes_the_fast_canonicalization_path(fifty):
    document = build_transcript(fifty, JANE).document
    quads = _rdfc_fast.quads_fast(copy.deepcopy(document), rdfc._state_for(fifty.loader), DEFAULT_LIMITS.max_depth)
    assert quads  # no Unsupported: embedded contexts and proof graphs stay on the fast path


def test_fifty_credential_transcript_is_signed_with_every_record(fifty):
    """(Its speed, 100 ms or less, is measured by benchmarks/records.py, not asserted here.)"""
    transcript = issue_transcript(fifty, JANE)
    assert len(transcript.records) == 50
    assert hashlib.sha256(transcript_json(transcript.document).encode()).hexdigest()  # serialisable
    assert without_proof(transcript.document)["credentialSubject"]["verifiableCredential"][0]["proof"]
