"""The VC API's issue 17 items: the W3C data-model suite's set-up (benchmarks/vc_api_server.py
``serve --data-model``) gives its app the ``https://www.w3.org/ns/credentials/examples/v2`` context,
while every other app, and the default loader, still refuse it; and ``options.format: "jwt"`` issues
an enveloped VC-JWT with the ``jwt_alg`` key (EdDSA, ES256, RS256), which verifies and revokes."""

from __future__ import annotations

import base64
import importlib.util
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app import create_app
from errors import ConfigError
from issuer.instance.folder import init_instance
from issuer.instance.jwt_keys import add_jwt_key
from issuer.web.clients import Clients
from keys.ed25519 import KeyPair
from keys.keystore import save_key
from schemas.loader import offline_loader
from verifier.fetch import Offline
from verifier.pipeline import verify_bytes

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
VC = {"@context": ["https://www.w3.org/ns/credentials/v2", EXAMPLES],
      "type": ["VerifiableCredential", "ExampleAlumniCredential"],
      "credentialSubject": {"id": "did:example:ebfeb1f712ebc6f1c276e12ec21", "alumniOf": "Example University"}}


def _suite_set_up():
    spec = importlib.util.spec_from_file_location("vc_api_server", ROOT / "benchmarks" / "vc_api_server.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def home(tmp_path: Path) -> Path:
    settings = init_instance(tmp_path / "inst", name="Suite issuer", url="https://127.0.0.1:40443", email=None,
                             did_web=None, database_url=None)
    save_key(settings.keys_dir, settings.key_id, KeyPair.generate())
    return settings.home


def _app(home: Path, **config):
    app = create_app({"HOME": str(home), "TESTING": True, "RATE_LIMIT": "off", **config})
    created = Clients.for_issuer(app.extensions["badgesmith"].issuer).add(f"suite {len(config)}", "issue")
    client = app.test_client()
    token = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": created.record.client_id,
                                              "client_secret": created.secret}).json["access_token"]
    return app, client, {"Authorization": f"Bearer {token}"}


def test_the_suite_context_is_the_one_line_vocab_context_written_by_prepare(tmp_path):
    module = _suite_set_up()
    assert module.EXAMPLES_V2 == {EXAMPLES: {"@context": {"@vocab": "https://www.w3.org/ns/credentials/examples#"}}}
    reference = json.loads((ROOT.parent / "shared" / "spec" / "contexts" / "w3c-credentials-examples-v2.jsonld")
                           .read_text("utf-8"))
    assert module.EXAMPLES_V2[EXAMPLES] == reference  # w3c/vc-data-model's file


def test_the_data_model_app_issues_and_verifies_with_the_examples_context_and_nothing_else_loads_it(home):
    app, client, auth = _app(home, CONTEXTS=_suite_set_up().EXAMPLES_V2)
    try:
        issued = client.post("/credentials/issue", json={"credential": VC}, headers=auth)
        assert issued.status_code == 201, issued.json
        credential = issued.json["verifiableCredential"]
        assert credential["credentialSubject"]["alumniOf"] == "Example University"
        checked = client.post("/credentials/verify", json={"verifiableCredential": credential})
        assert checked.status_code == 200 and checked.json["verified"], checked.json
    finally:
        app.extensions["badgesmith"].issuer.close()

    # The signature covers the examples vocabulary; the default loader still refuses the context.
    data = json.dumps(credential).encode("utf-8")
    now = datetime.now(UTC)
    with_context = verify_bytes(data, loader=offline_loader(_suite_set_up().EXAMPLES_V2), fetch=Offline(), now=now)
    assert with_context.check("proof").outcome == "passed"
    assert EXAMPLES not in offline_loader()
    assert verify_bytes(data, loader=offline_loader(), fetch=Offline(), now=now).check("context").code == \
        "CONTEXT_NOT_ALLOWED"

    app, client, auth = _app(home)  # the same instance served as usual
    try:
        refused = client.post("/credentials/issue", json={"credential": VC}, headers=auth)
        assert refused.status_code == 400 and refused.json["error"]["code"] == "CONTEXT_NOT_ALLOWED", refused.json
        assert client.post("/credentials/verify", json={"verifiableCredential": credential}).status_code == 422
    finally:
        app.extensions["badgesmith"].issuer.close()


def test_an_instance_file_cannot_add_contexts(home):
    with open(home / "badgesmith.toml", "a", encoding="utf-8") as toml:
        toml.write('\n[web.contexts]\n"https://www.w3.org/ns/credentials/examples/v2" = {}\n')
    with pytest.raises(ConfigError) as caught:
        create_app({"HOME": str(home), "TESTING": True})
    assert caught.value.code.value == "CONFIG_INVALID" and "contexts" in caught.value.message



PLAIN = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
         "credentialSubject": {"id": "did:example:ebfeb1f712ebc6f1c276e12ec21", "name": "Ada"}}


def _token_parts(enveloped: dict) -> tuple[dict, dict]:
    assert enveloped["type"] == "EnvelopedVerifiableCredential"
    assert enveloped["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    prefix = "data:application/vc+jwt,"
    assert enveloped["id"].startswith(prefix)
    header, payload, _ = enveloped["id"][len(prefix):].split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return decode(header), decode(payload)


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256"])
def test_vc_api_issues_an_enveloped_vc_jwt_with_the_jwt_alg_key_that_verifies_and_revokes(tmp_path, alg):
    settings = init_instance(tmp_path / "web", name="Suite issuer", url="https://badges.example.org",
                             did_web="did:web:badges.example.org")
    save_key(settings.keys_dir, settings.key_id, KeyPair.generate())
    if alg != "EdDSA":
        add_jwt_key(settings, alg, make_default=True)
    app, client, auth = _app(settings.home)
    issuer = app.extensions["badgesmith"].issuer
    try:
        issued = client.post("/credentials/issue", headers=auth, json={"credential": PLAIN, "options": {
            "format": "jwt", "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}}})
        assert issued.status_code == 201, issued.json
        enveloped = issued.json["verifiableCredential"]
        header, payload = _token_parts(enveloped)
        assert header["alg"] == alg and header["kid"].startswith("did:web:badges.example.org#")
        assert payload["issuer"] == "did:web:badges.example.org" and payload["credentialSubject"]["name"] == "Ada"
        assert payload["credentialStatus"]["statusPurpose"] == "revocation"
        assert issuer.registry.get_credential(payload["id"], issuer_id=issuer.issuer_id).format == "jwt"

        checked = client.post("/credentials/verify", json={"verifiableCredential": enveloped})
        assert checked.status_code == 200 and checked.json["verified"], checked.json
        assert checked.json["format"] == "vc-jwt"
        changed = client.post("/credentials/status", headers=_app_status_auth(app, client), json={
            "credentialId": payload["id"], "credentialStatus": [{"type": "BitstringStatusListEntry",
                                                                 "status": "revoked"}]})
        assert changed.status_code == 200, changed.json
        revoked = client.post("/credentials/verify", json={"verifiableCredential": enveloped})
        assert revoked.status_code == 422 and [e["code"] for e in revoked.json["errors"]] == ["REVOKED"], revoked.json
    finally:
        issuer.close()


def _app_status_auth(app, client) -> dict[str, str]:
    created = Clients.for_issuer(app.extensions["badgesmith"].issuer).add("status", "status")
    token = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": created.record.client_id,
                                              "client_secret": created.secret}).json["access_token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("path, credential, options", [
    ("/credentials/issue", PLAIN, {"format": "sd-jwt"}),
    ("/credentials/issue", PLAIN, {"format": ["jwt"]}),
    ("/ed25519-2020/credentials/issue", PLAIN, {"format": "jwt"}),
    ("/credentials/issue", {**PLAIN, "@context": ["https://www.w3.org/2018/credentials/v1"],
                            "issuanceDate": "2026-01-01T00:00:00Z"}, {"format": "jwt"}),
])
def test_vc_api_format_options_it_cannot_honour_are_400_and_issue_nothing(home, path, credential, options):
    app, client, auth = _app(home)
    try:
        answer = client.post(path, headers=auth, json={"credential": credential, "options": options})
        assert answer.status_code == 400 and answer.json["error"]["code"] == "USAGE", answer.json
        assert "jwt" in answer.json["error"]["message"].lower()
    finally:
        app.extensions["badgesmith"].issuer.close()
