"""What the VC API issues verifies in Digital Bazaar's libraries (the oracle), revoked lists included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app import create_app
from issuer.awarding.status_changes import publish_status_lists
from issuer.web.clients import Clients
from issuer.instance.folder import init_instance
from keys.ed25519 import KeyPair
from keys.keystore import save_key

VC = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
      "credentialSubject": {"id": "did:example:subject", "name": "Ada"}}


@pytest.fixture
def site(tmp_path: Path):
    settings = init_instance(tmp_path / "inst", name="Lakeshore", url="https://badges.example.org", email=None,
                             did_web=None, database_url=None)
    save_key(settings.keys_dir, settings.key_id, KeyPair.generate())
    app = create_app({"HOME": str(settings.home), "TESTING": True, "RATE_LIMIT": "off"})
    issuer = app.extensions["badgesmith"].issuer
    created = Clients.for_issuer(issuer).add("oracle", "issue,status")
    token = Clients.for_issuer(issuer).token(created.record.client_id, created.secret).access_token
    yield app.test_client(), {"Authorization": f"Bearer {token}"}, issuer
    issuer.close()


@pytest.mark.oracle
@pytest.mark.parametrize("path, legacy", [("/credentials/issue", False), ("/credentials/issue", True),
                                          ("/ed25519-2020/credentials/issue", False)])
def test_oracle_verifies_what_the_vc_api_issues(oracle, site, tmp_path, path, legacy):
    client, auth, _ = site
    credential = dict(VC)
    if legacy:
        credential["@context"] = ["https://www.w3.org/2018/credentials/v1"]
        credential["credentialSubject"] = {"id": "did:example:subject"}
    answer = client.post(path, json={"credential": credential}, headers=auth)
    assert answer.status_code == 201, answer.json
    file = tmp_path / "issued.json"
    file.write_text(json.dumps(answer.json["verifiableCredential"]))
    result = oracle.verify(file)
    assert result["verified"], result


@pytest.mark.oracle
def test_oracle_reads_the_status_list_the_vc_api_allocated(oracle, site, tmp_path):
    client, auth, issuer = site
    signed = client.post("/credentials/issue", headers=auth, json={"credential": VC, "options": {
        "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}}}).json[
        "verifiableCredential"]
    publish_status_lists(issuer)
    file = tmp_path / "issued.json"
    file.write_text(json.dumps(signed))
    status_dir = issuer.settings.out_dir / "status"
    assert oracle.verify(file, status_dir=status_dir, require_status=True)["verified"]
    client.post("/credentials/status", headers=auth, json={
        "credentialId": signed["id"], "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}]})
    assert not oracle.verify(file, status_dir=status_dir, require_status=True)["verified"]
