"""Structural fuzzing of the VC API: any JSON shape in a request is a 2xx or a 4xx with a code, never a 500.

Seeds are a real issued credential and a real signed presentation of it; the
mutations (values anywhere replaced by arbitrary JSON, keys deleted or added)
come from the pipeline fuzzer. Issuing runs the whole path: data model rules,
canonicalization, signing, the self-check and the registry.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app import create_app
from issuer.clients import Clients
from tests.verifier.test_pipeline_fuzz import mutate
from tests.web.test_vc_api import VC, _present, _token

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    from issuer.instance import init_instance
    from keys.ed25519 import KeyPair
    from keys.keystore import save_key

    settings_ = init_instance(tmp_path_factory.mktemp("fuzz") / "inst", name="Lakeshore Library Association",
                              url="https://badges.example.org", email=None, did_web=None, database_url=None)
    save_key(settings_.keys_dir, settings_.key_id, KeyPair.generate())
    app = create_app({"HOME": str(settings_.home), "TESTING": True, "RATE_LIMIT": "off", "OFFLINE": True})
    client = app.test_client()
    issuer = app.extensions["badgesmith"].issuer
    auth = {"Authorization": f"Bearer {_token(client, Clients.for_issuer(issuer), scopes='issue,status')}"}
    signed = client.post("/credentials/issue", json={"credential": VC}, headers=auth).json["verifiableCredential"]
    yield client, auth, signed, _present([signed])
    issuer.close()


def _answer(response) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    body = response.get_json()
    if response.status_code >= 400 and "error" in body:
        assert body["error"]["code"] and body["error"]["message"]


@FUZZ
@given(data=st.data())
def test_issuing_any_credential_shape_is_answered_with_a_code(api, data):
    client, auth, _, _ = api
    credential = mutate(data.draw, VC)
    options = data.draw(st.sampled_from([{}, {"credentialStatus": {"type": "BitstringStatusListEntry"}}]))
    for path in ("/credentials/issue", "/ed25519-2020/credentials/issue"):
        _answer(client.post(path, json={"credential": credential, "options": options}, headers=auth))


@FUZZ
@given(data=st.data())
def test_verifying_any_credential_shape_is_answered_with_a_code(api, data):
    client, _, signed, _ = api
    _answer(client.post("/credentials/verify", json={"verifiableCredential": mutate(data.draw, signed)}))


@FUZZ
@given(data=st.data())
def test_verifying_any_presentation_shape_is_answered_with_a_code(api, data):
    client, _, _, presentation = api
    options = {"challenge": "u-challenge-123", "domain": "verifier.example.org"}
    body = {"verifiablePresentation": mutate(data.draw, presentation), "options": options}
    _answer(client.post("/presentations/verify", json=json.loads(json.dumps(body))))
