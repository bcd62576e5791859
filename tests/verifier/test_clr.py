"""verifier.clr: a ClrCredential's own proof, then every embedded credential as a credential of its own.

The transcripts come from a real instance (issuer.records.transcript); status lists
come from its registry, as the web app reads them. Tampering with one
embedded credential fails exactly that one, and the report names it.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from app import create_app
from cli import main
from errors import Code
from issuer.awarding.awards import issue_single
from issuer.awarding.documents import instance_documents
from issuer.instance.folder import init_instance
from issuer.awarding.issuing import IssueRequest, Issuer
from issuer.records.transcript import issue_transcript, sign_transcript, transcript_json
from keys.ed25519 import KeyPair
from keys.keystore import save_key
from schemas.loader import offline_loader
from verifier.clr import MAX_EMBEDDED, check_clr_schema, is_clr, verify_embedded
from verifier.fetch import Offline, layered
from verifier.pipeline import Verifier, verify_bytes
from verifier.report import FAILED

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "templates" / "achievements"
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
JANE = "jane.doe@example.org"


@pytest.fixture
def issuer(tmp_path):
    home = tmp_path / "instance"
    settings = init_instance(home, name="Lakeshore Library Association", url="https://badges.lakeshore.example")
    save_key(settings.keys_dir, settings.key_id, KeyPair.from_seed(bytes(range(32))))
    opened = Issuer.open(home, now=lambda: NOW)
    for example in sorted(EXAMPLES.glob("*.toml")):
        opened.add_achievement(example)
    for slug, day in (("storytime-early-literacy", date(2026, 1, 10)),
                      ("certified-youth-services-librarian", date(2026, 3, 1)),
                      ("inclusive-teen-programming", date(2026, 6, 1))):
        issue_single(opened, slug, IssueRequest(email=JANE, name="Jane Doe", date=day))
    yield opened
    opened.close()


@pytest.fixture
def transcript(issuer) -> dict:
    return issue_transcript(issuer, JANE).document


def _verify(issuer, document: dict, **kwargs):
    fetch = layered(instance_documents(issuer), Offline())
    return verify_bytes(json.dumps(document).encode(), loader=offline_loader(), fetch=fetch, now=NOW, **kwargs)


def _resign(issuer, document: dict) -> dict:
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    return sign_transcript(unsigned, issuer.key, loader=issuer.loader, created=NOW,
                           verification_method=issuer.verification_method)


def _failed_checks(report) -> set[str]:
    return {c.check for c in report.checks if c.outcome == FAILED}


def test_transcript_verifies_with_one_nested_report_per_embedded_credential(issuer, transcript):
    report = _verify(issuer, transcript, email=JANE)
    assert report.verified, report.to_text()
    assert report.check("schema").code == "SCHEMA_OK" and "ClrCredential" in report.check("schema").message
    assert report.check("recipient").code == "RECIPIENT_MATCH"
    embedded_ids = [c["id"] for c in transcript["credentialSubject"]["verifiableCredential"]]
    assert [cid for cid, _ in report.embedded] == embedded_ids
    for _, nested in report.embedded:
        assert nested.verified and nested.container == "clr"
        assert nested.check("status").code == "STATUS_OK"  # each checked as a credential of its own
    data = report.to_dict()
    assert [e["id"] for e in data["embedded"]] == embedded_ids
    assert all(e["verified"] and e["checks"] for e in data["embedded"])


def test_tampering_one_embedded_credential_fails_that_one_only_and_names_it(issuer, transcript):
    tampered = copy.deepcopy(transcript)
    target = tampered["credentialSubject"]["verifiableCredential"][1]
    target["credentialSubject"]["achievement"]["name"] = "Certified Chief Librarian"
    report = _verify(issuer, tampered)
    assert not report.verified
    assert report.check("proof").code == "PROOF_INVALID"  # the transcript's own proof covers it too
    failed = [cid for cid, nested in report.embedded if not nested.verified]
    assert failed == [target["id"]]
    nested = dict(report.embedded)[target["id"]]
    assert _failed_checks(nested) == {"proof"}
    assert any(target["id"] in w for w in report.warnings)
    assert target["id"] in report.to_text()


def test_forged_credential_in_a_re_signed_transcript_fails_only_that_entry(issuer, transcript):
    """An issuer bundling a forged credential: the transcript's proof is fine, the entry is not."""
    forged = copy.deepcopy(transcript)
    target = forged["credentialSubject"]["verifiableCredential"][0]
    target["credentialSubject"]["creditsEarned"] = 40
    report = _verify(issuer, _resign(issuer, forged))
    assert _failed_checks(report) == set()
    assert not report.verified
    assert [cid for cid, nested in report.embedded if not nested.verified] == [target["id"]]
    body = report.to_dict()
    assert body["verified"] is False
    assert [e["id"] for e in body["embedded"] if not e["verified"]] == [target["id"]]


def test_transcript_inside_a_transcript_is_not_walked(issuer, transcript):
    nested = copy.deepcopy(transcript)
    outer = copy.deepcopy(transcript)
    outer["credentialSubject"]["verifiableCredential"] = [*outer["credentialSubject"]["verifiableCredential"], nested]
    report = _verify(issuer, _resign(issuer, outer))
    assert not report.verified
    last_id, last = report.embedded[-1]
    assert last.check("schema").code == Code.EMBEDDED_INVALID.value
    assert last.embedded == ()


def test_too_many_embedded_credentials_fail_without_being_checked():
    verifier = Verifier(loader=offline_loader(), fetch=Offline(), now=NOW)
    document = {"type": ["VerifiableCredential", "ClrCredential"],
                "credentialSubject": {"type": "ClrSubject", "verifiableCredential": [{}] * (MAX_EMBEDDED + 1)}}
    embedded, warnings = verify_embedded(verifier, document)
    assert len(embedded) == 1 and not embedded[0][1].verified
    assert embedded[0][1].failures()[0].code == Code.INPUT_TOO_LARGE.value
    assert str(MAX_EMBEDDED) in warnings[0]


def test_embedded_vc_jwt_is_verified_as_a_jwt(issuer, transcript):
    jwt = issue_single(issuer, "annual-conference-2025",  # one she does not hold yet: one award per person
                       IssueRequest(email=JANE, name="Jane Doe", date=date(2026, 7, 1), format="jwt")).record.credential
    document = copy.deepcopy(transcript)
    document["credentialSubject"]["verifiableCredential"].append(jwt)
    report = _verify(issuer, _resign(issuer, document))
    _, nested = report.embedded[-1]
    assert nested.format == "vc-jwt" and nested.verified, nested.to_text()


@pytest.mark.parametrize("edit, problem", [
    (lambda d: d["credentialSubject"].update(type=["AchievementSubject"]), "ClrSubject"),
    (lambda d: d["credentialSubject"].update(verifiableCredential=[]), "at least one credential"),
    (lambda d: d["credentialSubject"].pop("identifier"), "id or an identifier"),
    (lambda d: d["credentialSubject"].update(association=[{"type": "Association", "associationType": "isCousinOf",
                                                          "sourceId": "urn:x:a", "targetId": "urn:x:b"}]),
     "associationType"),
    (lambda d: d["credentialSubject"].update(association=[{"type": "Association", "associationType": ["isPartOf"],
                                                          "sourceId": "urn:x:a", "targetId": "urn:x:b"}]),
     "associationType"),
])
def test_clr_shape_problems_are_schema_invalid(transcript, edit, problem):
    document = copy.deepcopy(transcript)
    edit(document)
    check = check_clr_schema(document)
    assert check.outcome == FAILED and check.code == "SCHEMA_INVALID" and problem in check.message
    assert is_clr(document)


# -- the command line and the HTTP API ----------------------------------------------------------


def test_cli_verify_exit_codes_on_a_transcript(issuer, transcript, tmp_path):
    good = tmp_path / "transcript.json"
    good.write_text(transcript_json(transcript))
    bad_document = copy.deepcopy(transcript)
    bad_document["credentialSubject"]["verifiableCredential"][0]["name"] = "Something else"
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(bad_document))
    status = issuer.settings.out_dir / "status"
    runner = CliRunner()

    def run(path, *extra):
        return runner.invoke(main, ["--debug", "verify", str(path), "--offline", "--documents", str(status),
                                    "--now", "2026-11-23T12:30:00Z", *extra], catch_exceptions=False)

    ok = run(good, "--json")
    assert ok.exit_code == 0, ok.output
    assert len(json.loads(ok.stdout)["embedded"]) == 3
    failed = run(bad)
    assert failed.exit_code == 1
    assert bad_document["credentialSubject"]["verifiableCredential"][0]["id"] in failed.stdout
    broken = tmp_path / "broken.json"
    broken.write_text(transcript_json(transcript)[:-40])
    assert run(broken).exit_code == 2


def test_api_verify_accepts_a_transcript_and_nests_the_reports(issuer, transcript):
    app = create_app({"TESTING": True, "HOME": str(issuer.settings.home), "RATE_LIMIT": "off",
                      "NOW": lambda: NOW, "OFFLINE": True})
    try:
        response = app.test_client().post("/api/verify", json=transcript)
        assert response.status_code == 200
        body = response.get_json()
        assert body["verified"] is True
        assert [e["id"] for e in body["embedded"]] == [
            c["id"] for c in transcript["credentialSubject"]["verifiableCredential"]]
    finally:
        app.extensions["badgesmith"].issuer.close()


def test_the_verify_page_shows_each_embedded_credential_with_its_own_checks(issuer, transcript):
    tampered = copy.deepcopy(transcript)
    target = tampered["credentialSubject"]["verifiableCredential"][1]
    target["credentialSubject"]["creditsEarned"] = 40
    app = create_app({"TESTING": True, "HOME": str(issuer.settings.home), "RATE_LIMIT": "off",
                      "NOW": lambda: NOW, "OFFLINE": True})
    try:
        page = app.test_client().post("/verify", data={"credential": json.dumps(tampered)})
        html = page.get_data(as_text=True)
    finally:
        app.extensions["badgesmith"].issuer.close()
    items = re.findall(r'<details class="embedded__item embedded__item--(ok|fail)"( open)?>(.*?)</details>',
                       html, re.S)
    entries = tampered["credentialSubject"]["verifiableCredential"]
    assert len(items) == len(entries)
    assert [outcome for outcome, _, _ in items] == ["ok", "fail", "ok"]
    assert [bool(opened) for _, opened, _ in items] == [False, True, False]  # failures open, at a glance
    failed_body = items[1][2]
    assert target["id"] in failed_body and "PROOF_INVALID" in failed_body
    assert target["credentialSubject"]["achievement"]["name"] in failed_body
    assert failed_body.count('class="check check--') == 8  # its own full check list
