"""The spelling rule at every door: CLI, /verify, /api/verify, the VC API, transcripts, presentations, issuing.

One revoked credential from a real instance (its status list served by the
instance), with ``credentialStatus`` re-spelled as its absolute IRI: the
signature still holds, and every entry point refuses it instead of saying
"not revoked".
"""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from app import create_app
from cli import main
from errors import CredentialError
from issuer.awarding.awards import issue_single
from issuer.awarding.status_changes import change_status
from issuer.awarding.documents import instance_documents
from issuer.instance.folder import init_instance
from issuer.awarding.issuing import IssueRequest, Issuer
from issuer.records.transcript import issue_transcript, sign_transcript
from keys.ed25519 import KeyPair
from keys.keystore import save_key
from schemas.loader import offline_loader
from verifier.fetch import Offline, layered
from verifier.pipeline import verify_bytes

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
JANE = "jane.doe@example.org"
EXAMPLES = Path(__file__).resolve().parents[2] / "templates" / "achievements"
STATUS_IRI = "https://www.w3.org/2018/credentials#credentialStatus"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    home = tmp_path_factory.mktemp("respelled") / "instance"
    settings = init_instance(home, name="Lakeshore Library Association", url="https://badges.lakeshore.example")
    save_key(settings.keys_dir, settings.key_id, KeyPair.from_seed(bytes(range(32))))
    issuer = Issuer.open(home, now=lambda: NOW)
    for name in ("ceu-course.toml", "micro-credential.toml"):
        issuer.add_achievement(EXAMPLES / name)
    kept = issue_single(issuer, "storytime-early-literacy", IssueRequest(email=JANE, name="Jane Doe",
                                                                          date=date(2026, 1, 10)))
    revoked = issue_single(issuer, "inclusive-teen-programming", IssueRequest(email=JANE, name="Jane Doe",
                                                                             date=date(2026, 6, 1)))
    change_status(issuer, revoked.record.id, "revoke", reason="Issued in error")
    yield issuer, json.loads(revoked.record.credential), kept
    issuer.close()


def _forged(credential: dict) -> dict:
    forged = copy.deepcopy(credential)
    forged[STATUS_IRI] = forged.pop("credentialStatus")
    return forged


def _app(issuer: Issuer):
    return create_app({"TESTING": True, "HOME": str(issuer.settings.home), "RATE_LIMIT": "off",
                       "NOW": lambda: NOW, "OFFLINE": True})


def test_the_library_refuses_it_and_still_sees_the_original_as_revoked(site):
    issuer, credential, _ = site
    fetch = layered(instance_documents(issuer), Offline())

    def verify(document):
        return verify_bytes(json.dumps(document).encode(), loader=offline_loader(), fetch=fetch, now=NOW)

    assert verify(credential).check("status").code == "REVOKED"
    report = verify(_forged(credential))
    assert not report.verified and report.check("context").code == "JSON_RESPELLED"


def test_the_command_line_exits_1_with_the_code(site, tmp_path):
    issuer, credential, _ = site
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(_forged(credential)))
    result = CliRunner().invoke(main, ["verify", str(path), "--offline", "--documents",
                                       str(issuer.settings.out_dir / "status"), "--now", "2026-11-23T12:30:00Z",
                                       "--json"], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert report["verified"] is False
    assert [c["code"] for c in report["checks"] if c["check"] == "context"] == ["JSON_RESPELLED"]


def test_the_web_verifier_and_the_vc_api_refuse_it(site):
    issuer, credential, _ = site
    forged = _forged(credential)
    app = _app(issuer)
    client = app.test_client()
    api = client.post("/api/verify", json=forged)
    assert api.status_code == 200 and api.get_json()["verified"] is False
    assert api.get_json()["checks"][2]["code"] == "JSON_RESPELLED"
    page = client.post("/verify", data={"credential": json.dumps(forged)})
    assert page.status_code == 200 and "JSON_RESPELLED" in page.get_data(as_text=True)
    vc_api = client.post("/credentials/verify", json={"verifiableCredential": forged})
    assert vc_api.status_code == 422


def test_inside_a_transcript_and_a_presentation_it_is_refused(site):
    issuer, _, kept = site
    transcript = issue_transcript(issuer, JANE).document
    entry = transcript["credentialSubject"]["verifiableCredential"][0]
    entry[STATUS_IRI] = entry.pop("credentialStatus")  # the transcript's proof still holds: same graph
    with pytest.raises(CredentialError) as refused:  # and the issuer would never sign it so
        sign_transcript({k: v for k, v in transcript.items() if k != "proof"}, issuer.key,
                        loader=issuer.loader, created=NOW, verification_method=issuer.verification_method)
    assert refused.value.code.value == "JSON_RESPELLED"
    fetch = layered(instance_documents(issuer), Offline())
    report = verify_bytes(json.dumps(transcript).encode(), loader=offline_loader(), fetch=fetch, now=NOW)
    assert not report.verified
    assert report.check("context").code == "JSON_RESPELLED"  # the transcript's own JSON is re-spelled too
    presentation = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
                    "verifiableCredential": [entry]}
    report = verify_bytes(json.dumps(presentation).encode(), loader=offline_loader(), fetch=fetch, now=NOW)
    assert not report.verified
    assert report.check("context").code == "JSON_RESPELLED", report.to_text()  # the presentation carries it


def test_the_vc_api_will_not_issue_a_respelled_credential(tmp_path):
    settings = init_instance(tmp_path / "inst", name="Lakeshore", url="https://badges.example.org", email=None,
                             did_web=None, database_url=None)
    save_key(settings.keys_dir, settings.key_id, KeyPair.generate())
    app = create_app({"HOME": str(settings.home), "TESTING": True, "RATE_LIMIT": "off"})
    try:
        issuer = app.extensions["badgesmith"].issuer
        credential = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                      "issuer": issuer.did,
                      "credentialSubject": {"id": "did:example:subject", "https://schema.org/name": "Ada"}}
        from issuer.web.clients import Clients
        created = Clients.for_issuer(issuer).add("suite", "issue")
        client = app.test_client()
        token = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                  "client_id": created.record.client_id,
                                                  "client_secret": created.secret}).json["access_token"]
        answer = client.post("/credentials/issue", json={"credential": credential},
                             headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code in (400, 422), answer.json
        assert answer.json["error"]["code"] == "JSON_RESPELLED"
        assert "'https://schema.org/name'" in answer.json["error"]["message"]
        assert "'name'" in answer.json["error"]["message"]
    finally:
        app.extensions["badgesmith"].issuer.close()
