"""The W3C data-model suite's set-up (benchmarks/vc_api_server.py ``serve --data-model``) gives its app
the ``https://www.w3.org/ns/credentials/examples/v2`` context; every other app, and the default loader,
still refuse it (issue 17)."""

from __future__ import annotations

import importlib.util
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app import create_app
from errors import ConfigError
from issuer.instance.folder import init_instance
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


def test_the_vc_api_issues_data_integrity_whatever_options_format_says(home):
    """README, The W3C VC API, "Proof formats": no VC-JWTs over the VC API (an unknown option is ignored)."""
    app, client, auth = _app(home)
    try:
        plain = {**VC, "@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                 "credentialSubject": {"id": "did:example:ebfeb1f712ebc6f1c276e12ec21", "name": "Ada"}}
        for path, suite in (("/credentials/issue", ("DataIntegrityProof", "eddsa-rdfc-2022")),
                            ("/ed25519-2020/credentials/issue", ("Ed25519Signature2020", None))):
            issued = client.post(path, json={"credential": plain, "options": {"format": "jwt"}}, headers=auth)
            assert issued.status_code == 201, issued.json
            credential = issued.json["verifiableCredential"]
            assert isinstance(credential, dict) and "EnvelopedVerifiableCredential" not in credential["type"]
            [proof] = credential["proof"] if isinstance(credential["proof"], list) else [credential["proof"]]
            assert (proof["type"], proof.get("cryptosuite")) == suite
    finally:
        app.extensions["badgesmith"].issuer.close()
