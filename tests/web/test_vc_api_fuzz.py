"""Structural fuzzing of the VC API: any JSON shape in a request is a 2xx or a 4xx with a code, never a 500.

Seeds are a real issued credential and a real signed presentation of it; the
mutations (values anywhere replaced by arbitrary JSON, keys deleted or added)
come from the pipeline fuzzer. Issuing runs the whole path: data model rules,
canonicalization, signing, the self-check and the registry. Credentials sent
to be issued also carry status entries of any shape (a real one of another
credential among them), and token requests carry any JSON where strings belong
and odd ``Authorization: Basic`` headers.
"""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.verifier.respellings import respell

from app import create_app
from issuer.web.clients import Clients
from tests.verifier.test_pipeline_fuzz import _values as json_values, mutate
from tests.web.test_vc_api import BASE, REVOCABLE, VC, _present, _token

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    from issuer.instance.folder import init_instance
    from keys.ed25519 import KeyPair
    from keys.keystore import save_key

    settings_ = init_instance(tmp_path_factory.mktemp("fuzz") / "inst", name="Lakeshore Library Association",
                              url="https://badges.example.org", email=None, did_web=None, database_url=None)
    save_key(settings_.keys_dir, settings_.key_id, KeyPair.generate())
    app = create_app({"HOME": str(settings_.home), "TESTING": True, "RATE_LIMIT": "off", "OFFLINE": True,
                      "TOKEN_RATE_LIMIT": "off", "TOKEN_CLIENT_RATE_LIMIT": "off"})
    client = app.test_client()
    issuer = app.extensions["badgesmith"].issuer
    auth = {"Authorization": f"Bearer {_token(client, Clients.for_issuer(issuer), scopes='issue,status')}"}
    signed = client.post("/credentials/issue", json={"credential": VC}, headers=auth).json["verifiableCredential"]
    yield client, auth, signed, _present([signed])
    issuer.close()


@pytest.fixture(scope="module")
def slots(api):
    """A real status entry of an issued credential, and every (list, index) handed out so far."""
    client, auth, _, _ = api
    entry = client.post("/credentials/issue", json={"credential": VC, "options": REVOCABLE},
                        headers=auth).json["verifiableCredential"]["credentialStatus"]
    return entry, {(entry["statusListCredential"], entry["statusListIndex"])}


@pytest.fixture(scope="module")
def known_client(api):
    """The id and secret of a real client, so fuzzed token requests can also succeed."""
    client, _, _, _ = api
    created = Clients.for_issuer(client.application.extensions["badgesmith"].issuer).add("fuzzed", "issue")
    return created.record.client_id, created.secret


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


@FUZZ
@given(data=st.data())
def test_issuing_with_any_status_entry_never_shares_a_slot(api, slots, data):
    """Whatever credentialStatus a caller sends, an issued credential has only slots nobody else holds."""
    client, auth, _, _ = api
    entry, seen = slots
    shape = data.draw(st.sampled_from(["copied", "mutated", "any JSON", "a list"]))
    status = (entry if shape == "copied" else mutate(data.draw, entry) if shape == "mutated"
              else data.draw(json_values) if shape == "any JSON"
              else data.draw(st.lists(st.just(entry) | json_values, max_size=3)))
    options = data.draw(st.sampled_from([{}, REVOCABLE, {"credentialStatus": {
        "type": "BitstringStatusListEntry", "statusPurpose": "suspension"}}]))
    answer = client.post("/credentials/issue", json={"credential": {**VC, "credentialStatus": status},
                                                     "options": options}, headers=auth)
    _answer(answer)
    if answer.status_code == 201:
        issued = answer.json["verifiableCredential"].get("credentialStatus")
        for mine in issued if isinstance(issued, list) else [issued]:
            assert mine["type"] == "BitstringStatusListEntry" and mine["statusListCredential"].startswith(BASE)
            slot = (mine["statusListCredential"], mine["statusListIndex"])
            assert slot not in seen, slot
            seen.add(slot)


_LATIN1 = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40)
_TOKEN_FIELDS = ("grant_type", "client_id", "client_secret", "scope", "audience")
RFC_6749_ERRORS = {"invalid_request", "invalid_client", "unsupported_grant_type", "invalid_scope", "slow_down"}


def _basic_headers(known: tuple[str, str]):
    encoded = st.one_of(st.binary(max_size=40), _LATIN1.map(lambda t: t.encode("utf-8")),
                        st.sampled_from([f"{known[0]}:{known[1]}".encode(), known[0].encode(), b":", b""]))
    value = encoded.map(lambda raw: base64.b64encode(raw).decode()) | _LATIN1
    return st.none() | st.builds(lambda kind, v: f"{kind} {v}", st.sampled_from(["Basic", "basic", "Bearer"]), value)


@FUZZ
@given(data=st.data())
def test_token_requests_of_any_shape_get_an_rfc_6749_answer(api, known_client, data):
    """Numbers, lists and objects where strings belong, odd Basic headers: a 200 or a 4xx, never a 500."""
    client, _, _, _ = api
    client_id, secret = known_client
    strings = st.sampled_from(["client_credentials", client_id, secret, "issue", "status", BASE, ""]) | _LATIN1
    if data.draw(st.booleans()):  # a valid request with one parameter replaced
        params = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        params[data.draw(st.sampled_from(_TOKEN_FIELDS))] = data.draw(strings | json_values)
    else:
        params = data.draw(st.fixed_dictionaries({}, optional={name: strings | json_values for name in _TOKEN_FIELDS}))
    header = data.draw(_basic_headers(known_client))
    headers = {"Authorization": header} if header is not None else {}
    if data.draw(st.booleans()):
        answer = client.post("/oauth/token", json=params, headers=headers)
    else:
        form = {name: value for name, value in params.items() if isinstance(value, str)}
        answer = client.post("/oauth/token", data=form, headers=headers)
    assert answer.status_code < 500, answer.get_data(as_text=True)[:500]
    if answer.status_code == 200:
        assert answer.json["token_type"] == "Bearer"
    else:
        assert answer.status_code in (400, 401, 429) and answer.json["error"] in RFC_6749_ERRORS
        assert answer.json["error_description"] and answer.json["code"]


@FUZZ
@given(data=st.data())
def test_respelled_credentials_are_refused_or_judged_as_signed(api, data):
    """The spelling rule over HTTP: a re-spelled signed credential is 422 (or verifies exactly as before);
    a re-spelled credential sent to be issued is a 4xx with a code, never signed."""
    from keys.rdfc import canonicalize
    from schemas.loader import offline_loader

    client, auth, signed, _ = api
    original = client.post("/credentials/verify", json={"verifiableCredential": signed})
    forged = json.loads(json.dumps(signed))
    for _ in range(data.draw(st.integers(1, 3))):
        respell(forged, data)
    answer = client.post("/credentials/verify", json={"verifiableCredential": forged})
    _answer(answer)
    try:
        same_graph = canonicalize(forged, loader=offline_loader(), spelling=False) == \
            canonicalize(signed, loader=offline_loader(), spelling=False)
    except Exception:
        same_graph = False
    if same_graph and forged != signed and answer.status_code == 200:
        assert answer.get_json()["checks"] == original.get_json()["checks"]
    unsigned = {k: v for k, v in forged.items() if k not in ("proof", "id", "credentialStatus")}
    issued = client.post("/credentials/issue", json={"credential": unsigned}, headers=auth)
    _answer(issued)
