"""An association transcript (issue 18) in the oracle: one CLR 2.0 ClrCredential signed by the association,
embedding credentials signed by three divisions. Digital Bazaar's libraries check the association's proof;
``badgesmith verify`` checks it and every embedded credential against its own division. Both refuse it once
a division's credential inside it is changed."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, timezone

import pytest

from issuer.association.setup import open_association
from issuer.association.transcript import issue_association_transcript
from issuer.awarding.awards import issue_single
from issuer.awarding.documents import instance_documents
from issuer.awarding.issuing import IssueRequest
from issuer.records.transcript import transcript_json
from schemas.loader import offline_loader
from tests.issuer.association.three_divisions import build_association
from verifier.fetch import Offline, layered
from verifier.pipeline import verify_bytes

LATER = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
JANE = "jane.doe@example.org"


@pytest.fixture
def transcript_file(tmp_path):
    built = build_association(tmp_path / "lla")
    opened = open_association(built.association.issuer.settings.home)
    opened.issuer.now = lambda: LATER
    try:
        for issuer, slug, day in ((built.youth, "storytime-early-literacy", date(2025, 10, 15)),
                                  (built.academic, "information-literacy-instruction", date(2026, 2, 1)),
                                  (built.support, "support-staff-foundations", date(2026, 5, 4))):
            issue_single(issuer, slug, IssueRequest(email=JANE, name="Jane Doe — Zoë", date=day))
        document = issue_association_transcript(opened, JANE).document
        path = tmp_path / "association-transcript.json"
        path.write_text(transcript_json(document), "utf-8")
        fetch = layered(*(instance_documents(i) for i in (*built.all, opened.issuer)), Offline())
        yield path, document, fetch
    finally:
        opened.close()
        built.close()


@pytest.mark.oracle
def test_association_transcript_verifies_in_the_oracle_and_nested_in_badgesmith(oracle, transcript_file):
    path, document, fetch = transcript_file
    result = oracle.verify(path, now="2026-11-30T12:30:00Z")
    assert result["verified"], result
    assert result["format"] == "di-eddsa-rdfc-2022"
    report = verify_bytes(path.read_bytes(), loader=offline_loader(), fetch=fetch, now=LATER)
    assert report.verified, report.to_text()
    issuers = {c["issuer"]["id"] for c in document["credentialSubject"]["verifiableCredential"]}
    assert len(report.embedded) == len(issuers) == 3 and document["issuer"]["id"] not in issuers


@pytest.mark.oracle
def test_association_transcript_with_a_changed_division_credential_fails_in_both(oracle, transcript_file, tmp_path):
    path, document, fetch = transcript_file
    tampered = copy.deepcopy(document)
    changed = tampered["credentialSubject"]["verifiableCredential"][1]
    changed["credentialSubject"]["creditsEarned"] = 40
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(tampered), "utf-8")
    assert oracle.verify(bad, now="2026-11-30T12:30:00Z")["verified"] is False
    report = verify_bytes(bad.read_bytes(), loader=offline_loader(), fetch=fetch, now=LATER)
    assert not report.verified
    assert [cid for cid, nested in report.embedded if not nested.verified] == [changed["id"]]
