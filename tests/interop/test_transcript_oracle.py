"""A Badgesmith transcript (CLR 2.0 ClrCredential) in the oracle, and in our own verifier.

The oracle pins the CLR 2.0 contexts and checks only the transcript's own
proof; ``badgesmith verify`` also checks every embedded credential. Both must
accept the transcript, and both must refuse it once an embedded credential
is changed.
"""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from issuer.awarding.awards import issue_single
from issuer.awarding.documents import instance_documents
from issuer.instance.folder import init_instance
from issuer.awarding.issuing import IssueRequest, Issuer
from issuer.records.transcript import issue_transcript, transcript_json
from keys.ed25519 import KeyPair
from keys.keystore import save_key
from schemas.loader import offline_loader
from verifier.fetch import Offline, layered
from verifier.pipeline import verify_bytes

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
JANE = "jane.doe@example.org"


@pytest.fixture
def transcript_file(tmp_path):
    home = tmp_path / "instance"
    settings = init_instance(home, name="Lakeshore Library Association — Youth Services",
                             url="https://badges.lakeshore.example")
    save_key(settings.keys_dir, settings.key_id, KeyPair.from_seed(bytes(range(32))))
    issuer = Issuer.open(home, now=lambda: NOW)
    try:
        for example in sorted((ROOT / "templates" / "achievements").glob("*.toml")):
            issuer.add_achievement(example)
        for slug, day in (("storytime-early-literacy", date(2025, 10, 15)),
                          ("certified-youth-services-librarian", date(2026, 3, 1)),
                          ("inclusive-teen-programming", date(2026, 6, 1)),
                          ("annual-conference-2025", date(2025, 10, 17))):
            issue_single(issuer, slug, IssueRequest(email=JANE, name="Jane Doe — Zoë", date=day))
        document = issue_transcript(issuer, JANE).document
        path = tmp_path / "transcript.json"
        path.write_text(transcript_json(document), "utf-8")
        report = verify_bytes(path.read_bytes(), loader=offline_loader(),
                              fetch=layered(instance_documents(issuer), Offline()), now=NOW)
        yield path, document, report
    finally:
        issuer.close()


@pytest.mark.oracle
def test_transcript_verifies_in_the_oracle_and_in_badgesmith_with_every_embedded_credential(oracle, transcript_file):
    path, document, report = transcript_file
    result = oracle.verify(path, now="2026-11-23T12:30:00Z")
    assert result["verified"], result
    assert result["format"] == "di-eddsa-rdfc-2022"
    assert report.verified, report.to_text()
    assert len(report.embedded) == len(document["credentialSubject"]["verifiableCredential"]) == 4


@pytest.mark.oracle
def test_transcript_with_a_changed_embedded_credential_fails_in_the_oracle(oracle, transcript_file, tmp_path):
    path, document, _ = transcript_file
    tampered = copy.deepcopy(document)
    tampered["credentialSubject"]["verifiableCredential"][2]["credentialSubject"]["creditsEarned"] = 40
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(tampered), "utf-8")
    assert oracle.verify(bad, now="2026-11-23T12:30:00Z")["verified"] is False
