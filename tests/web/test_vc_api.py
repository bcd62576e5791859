"""The W3C VC API on a real did:key instance: issue, verify, status, presentations, OAuth 2.0."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from app import create_app
from issuer.web.clients import Clients
from issuer.instance.folder import init_instance
from issuer.store.models import CredentialRow
from keys.data_integrity import hash_data
from keys.ed25519 import KeyPair
from keys.keystore import save_key
from keys.multikey import encode_multibase
from schemas.loader import offline_loader
from verifier.ratelimit import Rate

BASE = "https://badges.example.org"
VC = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
      "credentialSubject": {"id": "did:example:subject", "name": "Ada"}}
REVOCABLE = {"credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    settings = init_instance(tmp_path / "inst", name="Lakeshore Library Association", url=BASE, email=None,
                             did_web=None, database_url=None)
    save_key(settings.keys_dir, settings.key_id, KeyPair.generate())
    return settings.home


@pytest.fixture
def app(home: Path):
    app = create_app({"HOME": str(home), "TESTING": True, "RATE_LIMIT": "off"})
    yield app
    app.extensions["badgesmith"].issuer.close()


@pytest.fixture
def issuer(app):
    return app.extensions["badgesmith"].issuer


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def clients(issuer) -> Clients:
    return Clients.for_issuer(issuer)


def _token(client, clients: Clients, scopes: str = "issue,status", name: str = "suite") -> str:
    created = clients.add(name, scopes)
    answer = client.post("/oauth/token", data={"grant_type": "client_credentials",
                                               "client_id": created.record.client_id,
                                               "client_secret": created.secret})
    assert answer.status_code == 200, answer.json
    return answer.json["access_token"]


@pytest.fixture
def auth(client, clients) -> dict[str, str]:
    return {"Authorization": f"Bearer {_token(client, clients)}"}


def _stored(issuer) -> int:
    with issuer.registry.session(write=False) as s:
        return s.scalar(select(func.count()).select_from(CredentialRow))


def _issue(client, auth, credential=None, options=None, path="/credentials/issue"):
    body = {"credential": VC if credential is None else credential}
    if options is not None:
        body["options"] = options
    return client.post(path, json=body, headers=auth)


# -- OAuth 2.0 -------------------------------------------------------------------------------


def test_token_endpoint_gives_a_short_lived_bearer_token(client, clients):
    created = clients.add("suite", "issue")
    answer = client.post("/oauth/token", data={"grant_type": "client_credentials", "audience": BASE,
                                               "client_id": created.record.client_id,
                                               "client_secret": created.secret})
    assert answer.status_code == 200
    assert answer.json["token_type"] == "Bearer" and answer.json["expires_in"] == 600
    assert answer.json["scope"] == "issue"
    assert answer.headers["Cache-Control"] == "no-store"


def test_token_endpoint_takes_http_basic_client_authentication(client, clients):
    created = clients.add("basic", "status")
    basic = base64.b64encode(f"{created.record.client_id}:{created.secret}".encode()).decode()
    answer = client.post("/oauth/token", data={"grant_type": "client_credentials"},
                         headers={"Authorization": f"Basic {basic}"})
    assert answer.status_code == 200 and answer.json["scope"] == "status"


@pytest.mark.parametrize("change, status, error", [
    ({"client_secret": "wrong"}, 401, "invalid_client"),
    ({"client_id": "nobody"}, 401, "invalid_client"),
    ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ({"scope": "issue status"}, 400, "invalid_scope"),
    ({"audience": "https://elsewhere.example"}, 400, "invalid_request"),
])
def test_token_endpoint_refusals_follow_rfc_6749(client, clients, change, status, error):
    created = clients.add("limited", "issue")
    form = {"grant_type": "client_credentials", "client_id": created.record.client_id,
            "client_secret": created.secret, **change}
    answer = client.post("/oauth/token", data=form)
    assert answer.status_code == status
    assert answer.json["error"] == error and answer.json["error_description"]


def _basic(text: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(text).decode()}


GRANT = {"grant_type": "client_credentials"}
ODD_TOKEN_REQUESTS = [
    # (form or JSON body, headers); every one a 400 invalid_request, never a 500 or a token
    ({"data": GRANT}, {"Authorization": "Basic \u00e9t\u00e9:secret"}),           # not ASCII
    ({"data": GRANT}, {"Authorization": "Basic !!not base64!!"}),
    ({"data": GRANT}, _basic(b"an-id-without-a-colon")),
    ({"data": GRANT}, _basic(b"\xff\xfe:\xfd")),                                # not UTF-8
    ({"data": GRANT}, {"Authorization": "Basic"}),
    ({"data": {**GRANT, "client_secret": "x"}}, _basic(b"id:secret")),          # two ways to authenticate
    ({"data": {**GRANT, "client_id": "other"}}, _basic(b"id:secret")),
    ({"data": "grant_type=client_credentials&client_id=a&client_id=b&client_secret=s",
      "content_type": "application/x-www-form-urlencoded"}, {}),               # a repeated parameter
    ({"json": {**GRANT, "client_id": 12345, "client_secret": "s"}}, {}),
    ({"json": {**GRANT, "client_id": "id", "client_secret": ["s"]}}, {}),
    ({"json": {"grant_type": {"client_credentials": True}, "client_id": "id", "client_secret": "s"}}, {}),
    ({"json": {**GRANT, "client_id": "id", "client_secret": "s", "scope": 7}}, {}),
    ({"json": {**GRANT, "client_id": "id", "client_secret": "s", "scope": ["issue"]}}, {}),
    ({"json": {**GRANT, "client_id": "id", "client_secret": "s", "audience": {"url": BASE}}}, {}),
]


@pytest.mark.parametrize("body, headers", ODD_TOKEN_REQUESTS)
def test_odd_token_requests_are_rfc_6749_invalid_request(client, clients, body, headers):
    clients.add("known", "issue")
    answer = client.post("/oauth/token", headers=headers, **body)
    assert answer.status_code == 400, answer.get_data(as_text=True)[:300]
    assert answer.json["error"] == "invalid_request" and answer.json["code"] == "USAGE"
    assert answer.json["error_description"] and answer.headers["Cache-Control"] == "no-store"


def test_a_known_client_with_a_valid_scope_in_json_gets_a_token(client, clients):
    created = clients.add("json", "issue,status")
    answer = client.post("/oauth/token", json={**GRANT, "client_id": created.record.client_id,
                                               "client_secret": created.secret, "scope": "status", "audience": None})
    assert answer.status_code == 200 and answer.json["scope"] == "status"


def _token_app(home: Path, **limits):
    return create_app({"HOME": str(home), "TESTING": True, "RATE_LIMIT": "off", **limits})


def _ask(client, client_id: str, secret: str = "wrong", address: str = "192.0.2.1"):
    return client.post("/oauth/token", data={**GRANT, "client_id": client_id, "client_secret": secret},
                       environ_base={"REMOTE_ADDR": address})


def test_token_requests_are_rate_limited_per_address(home):
    app = _token_app(home, TOKEN_RATE_LIMIT="2/minute", TOKEN_CLIENT_RATE_LIMIT="off")
    try:
        client, created = app.test_client(), Clients.for_issuer(app.extensions["badgesmith"].issuer).add("lms", "issue")
        assert [_ask(client, f"guess-{n}").status_code for n in range(2)] == [401, 401]
        limited = _ask(client, created.record.client_id, created.secret)
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        assert limited.json["code"] == "RATE_LIMITED" and limited.json["error"] == "slow_down"
        assert "token requests" in limited.json["error_description"]
        assert _ask(client, created.record.client_id, created.secret, address="192.0.2.2").status_code == 200
    finally:
        app.extensions["badgesmith"].issuer.close()


def test_a_token_request_whose_counter_is_unavailable_gets_the_oauth_503(home):
    """RFC 6749's shape with temporarily_unavailable and Retry-After, not a 500, when the counter breaks."""
    from sqlalchemy import create_engine, text

    app = _token_app(home, TOKEN_RATE_LIMIT="20/minute", TOKEN_CLIENT_RATE_LIMIT="off")
    try:
        client, created = app.test_client(), Clients.for_issuer(app.extensions["badgesmith"].issuer).add("lms", "issue")
        assert _ask(client, created.record.client_id, created.secret).status_code == 200
        engine = create_engine(f"sqlite:///{Path(home) / 'ratelimits.sqlite3'}")
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE badgesmith_rate_limits"))
        engine.dispose()
        refused = _ask(client, created.record.client_id, created.secret)
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
        assert refused.json["error"] == "temporarily_unavailable" and refused.json["code"] == "RATE_LIMIT_UNAVAILABLE"
        assert "access_token" not in refused.json
    finally:
        app.extensions["badgesmith"].issuer.close()


def test_token_requests_are_rate_limited_per_client_id_across_addresses(home):
    app = _token_app(home, TOKEN_RATE_LIMIT="off", TOKEN_CLIENT_RATE_LIMIT="2/minute")
    try:
        client, created = app.test_client(), Clients.for_issuer(app.extensions["badgesmith"].issuer).add("lms", "issue")
        target = created.record.client_id
        assert [_ask(client, target, address=f"192.0.2.{n}").status_code for n in (1, 2)] == [401, 401]
        limited = _ask(client, target, created.secret, address="192.0.2.3")
        assert limited.status_code == 429 and limited.json["code"] == "RATE_LIMITED" and limited.headers["Retry-After"]
        assert _ask(client, "another-client-id", address="192.0.2.3").status_code == 401   # its own bucket
    finally:
        app.extensions["badgesmith"].issuer.close()


def test_token_rate_limits_are_on_by_default(home):
    """30 a minute per address, 10 a minute per client id (the README's numbers)."""
    app = _token_app(home)
    try:
        client = app.test_client()
        answers = [_ask(client, "a-client-id", address=f"198.51.100.{n}").status_code for n in range(11)]
        assert answers == [401] * 10 + [429]
        by_address, by_client = app.extensions["badgesmith.token_limiters"]
        assert (by_address.rate, by_client.rate) == (Rate(30, 60.0), Rate(10, 60.0))
    finally:
        app.extensions["badgesmith"].issuer.close()


def test_issuing_without_a_token_is_401_and_issues_nothing(client, issuer):
    answer = _issue(client, {})
    assert answer.status_code == 401
    assert answer.json["error"]["code"] == "UNAUTHORIZED"
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert _stored(issuer) == 0


def test_a_forged_token_is_401(client, issuer, auth):
    forged = auth["Authorization"][:-4] + "AAAA"
    answer = _issue(client, {"Authorization": forged})
    assert answer.status_code == 401 and 'error="invalid_token"' in answer.headers["WWW-Authenticate"]
    assert _stored(issuer) == 0


def test_a_token_without_the_issue_scope_is_403_and_issues_nothing(client, clients, issuer):
    token = _token(client, clients, scopes="status")
    answer = _issue(client, {"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403
    assert answer.json["error"]["code"] == "FORBIDDEN"
    assert 'error="insufficient_scope"' in answer.headers["WWW-Authenticate"]
    assert _stored(issuer) == 0


def test_an_expired_token_is_401_and_issues_nothing(client, issuer):
    created = Clients.for_issuer(issuer).add("old", "issue")
    past = Clients.for_issuer(issuer, now=lambda: datetime.now(UTC) - timedelta(minutes=11))
    token = past.token(created.record.client_id, created.secret).access_token
    answer = _issue(client, {"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401 and answer.json["error"]["code"] == "TOKEN_EXPIRED"
    assert _stored(issuer) == 0


def test_a_revoked_clients_tokens_stop_at_once(client, clients, issuer):
    token = _token(client, clients, name="leaver")
    assert _issue(client, {"Authorization": f"Bearer {token}"}).status_code == 201
    clients.revoke("leaver")
    answer = _issue(client, {"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401 and answer.json["error"]["code"] == "UNAUTHORIZED"
    assert _stored(issuer) == 1


def test_a_token_for_another_server_is_401(client, issuer):
    created = Clients.for_issuer(issuer).add("elsewhere", "issue")
    other = Clients(issuer.registry, issuer.issuer_id, secret=issuer.settings.lookup_secret,
                    audience="https://other.example", now=issuer.now)
    token = other.token(created.record.client_id, created.secret).access_token
    assert _issue(client, {"Authorization": f"Bearer {token}"}).status_code == 401


# -- issuing --------------------------------------------------------------------------------


def test_issue_then_verify_round_trip(client, auth, issuer):
    answer = _issue(client, auth)
    assert answer.status_code == 201
    signed = answer.json["verifiableCredential"]
    assert signed["issuer"] == issuer.did and signed["id"].startswith("urn:uuid:")
    assert signed["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    assert signed["credentialSubject"] == VC["credentialSubject"] and "credentialStatus" not in signed
    record = issuer.registry.get_credential(signed["id"], issuer_id=issuer.issuer_id)
    assert record.achievement is None and record.status_list_id is None
    assert json.loads(record.credential) == signed
    verified = client.post("/credentials/verify", json={"verifiableCredential": signed, "options": {}})
    assert verified.status_code == 200
    assert verified.json["verified"] is True and verified.json["errors"] == []


def test_issue_with_a_status_entry_serves_the_list_at_its_url(client, auth, issuer):
    signed = _issue(client, auth, options=REVOCABLE).json["verifiableCredential"]
    entry = signed["credentialStatus"]
    assert entry["type"] == "BitstringStatusListEntry" and entry["statusPurpose"] == "revocation"
    assert entry["statusListCredential"] == f"{BASE}/status/revocation/1"
    record = issuer.registry.get_credential(signed["id"])
    assert entry["statusListIndex"] == str(record.status_index)
    listed = client.get(urlsplit(entry["statusListCredential"]).path)
    assert listed.status_code == 200
    assert "BitstringStatusListCredential" in listed.get_json(force=True)["type"]
    assert client.post("/credentials/verify", json={"verifiableCredential": signed}).status_code == 200


def test_issue_with_ed25519_signature_2020(client, auth):
    answer = _issue(client, auth, path="/ed25519-2020/credentials/issue")
    signed = answer.json["verifiableCredential"]
    assert answer.status_code == 201 and signed["proof"][0]["type"] == "Ed25519Signature2020"
    assert "https://w3id.org/security/suites/ed25519-2020/v1" in signed["@context"]
    assert client.post("/credentials/verify", json={"verifiableCredential": signed}).status_code == 200


def test_a_vc_1_1_credential_gets_issuance_date_and_the_data_integrity_context(client, auth):
    legacy = {"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiableCredential"],
              "credentialSubject": {"id": "did:example:subject"}}
    signed = _issue(client, auth, legacy).json["verifiableCredential"]
    assert signed["issuanceDate"] and "https://w3id.org/security/data-integrity/v2" in signed["@context"]
    assert client.post("/credentials/verify", json={"verifiableCredential": signed}).status_code == 200


@pytest.mark.parametrize("change, rule", [
    ({"credentialSchema": {"id": "https://example.org/schema.json"}}, "credentialSchema.type"),
    ({"credentialSchema": {"type": "JsonSchema", "id": "not a url"}}, "credentialSchema.id"),
    ({"refreshService": {"id": "https://example.org/refresh"}}, "refreshService.type"),
    ({"evidence": {}}, "evidence.type"),
    ({"relatedResource": ["https://www.w3.org/ns/credentials/v2"]}, "relatedResource"),
    ({"relatedResource": [{"id": "https://example.org/a", "digestSRI": "sha384-AAAA"},
                          {"id": "https://example.org/a", "digestSRI": "sha384-BBBB"}]}, "relatedResource.id"),
    ({"relatedResource": [{"id": "https://example.org/a"}]}, "relatedResource.digest"),
    ({"credentialSubject": {}}, "credentialSubject"),
    ({"validFrom": "2026-02-01T00:00:00Z", "validUntil": "2026-01-01T00:00:00Z"}, "validUntil"),
    ({"validFrom": "2026-02-01"}, "validFrom"),
    ({"name": {"@value": "x", "@language": "en", "url": "https://example.org"}}, "name"),
])
def test_data_model_rules_are_422_naming_the_rule_and_issue_nothing(client, auth, issuer, change, rule):
    answer = _issue(client, auth, {**VC, **change})
    assert answer.status_code == 422
    assert answer.json["error"]["code"] == "DATA_MODEL_INVALID" and answer.json["error"]["rule"] == rule
    assert _stored(issuer) == 0


def test_a_related_resource_that_does_not_match_its_digest_is_422_and_issues_nothing(home):
    from verifier.fetch import DictFetch

    syllabus = b"Storytime for toddlers: the syllabus"
    digest = "sha384-" + base64.b64encode(hashlib.sha384(syllabus).digest()).decode()
    url = "https://courses.example.org/syllabus"
    fetch = DictFetch({url: b"a syllabus changed since"})
    app = create_app({"HOME": str(home), "TESTING": True, "RATE_LIMIT": "off", "FETCH": fetch})
    try:
        client, issuer = app.test_client(), app.extensions["badgesmith"].issuer
        auth = {"Authorization": f"Bearer {_token(client, Clients.for_issuer(issuer))}"}
        related = {**VC, "relatedResource": [{"id": url, "digestSRI": digest}]}
        answer = _issue(client, auth, related)
        assert answer.status_code == 422 and answer.json["error"]["code"] == "RELATED_RESOURCE_MISMATCH"
        assert _stored(issuer) == 0 and fetch.requested == [url]
        fetch.documents[url] = syllabus
        assert _issue(client, auth, related).status_code == 201 and _stored(issuer) == 1
    finally:
        app.extensions["badgesmith"].issuer.close()


def test_a_credential_naming_another_issuer_is_refused(client, auth, issuer):
    answer = _issue(client, auth, {**VC, "issuer": "did:example:someone-else"})
    assert answer.status_code == 422 and answer.json["error"]["code"] == "ISSUER_MISMATCH"
    assert _stored(issuer) == 0


@pytest.mark.parametrize("credential, code", [
    ({**VC, "@context": [*VC["@context"], "https://example.org/unpinned"]}, "CONTEXT_NOT_ALLOWED"),
    ({**VC, "credentialSubject": {"id": "did:example:s", "undefinedTerm": 1}}, "UNDEFINED_TERM"),
])
def test_json_ld_problems_are_400_and_issue_nothing(client, auth, issuer, credential, code):
    answer = _issue(client, auth, credential)
    assert answer.status_code == 400 and answer.json["error"]["code"] == code
    assert _stored(issuer) == 0


@pytest.mark.parametrize("body, status, code", [
    ({"credential": "a string"}, 400, "JSON_NOT_OBJECT"),
    ({}, 400, "NO_CREDENTIAL"),
    ({"credential": VC, "options": "x"}, 400, "JSON_NOT_OBJECT"),
    ({"credential": VC, "options": {"credentialStatus": {"type": "StatusList2021Entry"}}}, 400,
     "STATUS_ENTRY_INVALID"),
])
def test_unreadable_issue_requests_are_400(client, auth, body, status, code):
    answer = client.post("/credentials/issue", json=body, headers=auth)
    assert answer.status_code == status and answer.json["error"]["code"] == code


def test_issue_needs_json(client, auth):
    answer = client.post("/credentials/issue", data="credential=x", headers=auth,
                         content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 415 and answer.json["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_issuing_the_same_id_twice_is_a_conflict(client, auth):
    credential = {**VC, "id": "https://example.org/credentials/1"}
    assert _issue(client, auth, credential).status_code == 201
    assert _issue(client, auth, credential).status_code == 409


def test_vc_api_credentials_stay_out_of_the_ceu_report(client, auth, issuer):
    _issue(client, auth)
    report = issuer.registry.report(issuer.issuer_id)
    assert report.by_achievement == () and report.by_learner == ()


def test_badge_page_of_a_vc_api_credential_is_its_json(client, auth):
    signed = _issue(client, auth).json["verifiableCredential"]
    uid = signed["id"].removeprefix("urn:uuid:")
    assert client.get(f"/credentials/{uid}").get_json(force=True)["id"] == signed["id"]
    assert client.get(f"/credentials/{uid}/certificate").status_code == 404


# -- verifying -------------------------------------------------------------------------------


def test_a_changed_credential_is_422_with_the_report_and_codes(client, auth):
    signed = _issue(client, auth).json["verifiableCredential"]
    signed["credentialSubject"]["name"] = "Mallory"
    answer = client.post("/credentials/verify", json={"verifiableCredential": signed})
    assert answer.status_code == 422
    assert answer.json["verified"] is False
    assert {"check": "proof", "code": "PROOF_INVALID"}.items() <= answer.json["errors"][0].items()


@pytest.mark.parametrize("body, code", [
    ({"verifiableCredential": "eyJhbGciOi.not.an-object"}, "JSON_NOT_OBJECT"),
    ({"verifiableCredential": ["a", "list"]}, "JSON_NOT_OBJECT"),
    ({}, "NO_CREDENTIAL"),
    ({"verifiableCredential": {}, "options": []}, "JSON_NOT_OBJECT"),
])
def test_unreadable_verify_requests_are_400_never_500(client, body, code):
    answer = client.post("/credentials/verify", json=body)
    assert answer.status_code == 400 and answer.json["error"]["code"] == code


HOSTILE_BODIES = [
    ("[" * 100_000 + "]" * 100_000, 413, "JSON_TOO_DEEP"),
    ('{"verifiableCredential": ' + '{"a": ' * 5_000 + "1" + "}" * 5_000 + "}", 413, "JSON_TOO_DEEP"),
    ('{"verifiableCredential": {}, "verifiableCredential": {}}', 400, "JSON_MALFORMED"),
    ('{"verifiableCredential": NaN}', 400, "JSON_MALFORMED"),
    ("\"just a string\"", 400, "JSON_NOT_OBJECT"),
]


@pytest.mark.parametrize("path", ["/credentials/issue", "/ed25519-2020/credentials/issue", "/credentials/status",
                                  "/credentials/verify", "/presentations/verify"])
@pytest.mark.parametrize("text, status, code", HOSTILE_BODIES)
def test_hostile_json_bodies_get_a_code_never_a_500(client, auth, issuer, path, text, status, code):
    answer = client.post(path, data=text, headers={**auth, "Content-Type": "application/json"})
    assert answer.status_code == status and answer.json["error"]["code"] == code
    assert _stored(issuer) == 0


@pytest.mark.parametrize("text, status, code", HOSTILE_BODIES)
def test_hostile_json_token_requests_are_rfc_6749_errors(client, text, status, code):
    answer = client.post("/oauth/token", data=text, headers={"Content-Type": "application/json"})
    assert answer.status_code == status and answer.json["error"] == "invalid_request"
    assert answer.json["code"] == code


def test_verify_is_public_and_rate_limited(home):
    app = create_app({"HOME": str(home), "TESTING": True, "RATE_LIMIT": "1/minute"})
    try:
        client = app.test_client()
        assert client.post("/credentials/verify", json={"verifiableCredential": VC}).status_code == 422
        assert client.post("/credentials/verify", json={"verifiableCredential": VC}).status_code == 429
    finally:
        app.extensions["badgesmith"].issuer.close()


def test_verification_fails_data_model_rules_too(client, issuer):
    from issuer.badge.sign import sign_credential

    broken = {**VC, "issuer": issuer.did, "refreshService": {"id": "https://example.org/refresh"}}
    signed = sign_credential(broken, issuer.key, loader=issuer.loader, created=issuer.now(),
                             verification_method=issuer.verification_method)
    answer = client.post("/credentials/verify", json={"verifiableCredential": signed})
    assert answer.status_code == 422 and answer.json["errors"][0]["code"] == "DATA_MODEL_INVALID"


# -- status ------------------------------------------------------------------------------------


def test_status_update_revokes_logs_and_republishes(client, clients, issuer):
    token = _token(client, clients, name="registrar")
    auth = {"Authorization": f"Bearer {token}"}
    signed = _issue(client, auth, options=REVOCABLE).json["verifiableCredential"]
    answer = client.post("/credentials/status", headers=auth, json={
        "credentialId": signed["id"], "reason": "Issued in error",
        "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}]})
    assert answer.status_code == 200 and answer.json == {"credentialId": signed["id"], "status": "revoked"}
    event = issuer.registry.events(credential_id=signed["id"])[-1]
    assert (event.kind, event.actor, event.reason) == ("revoked", "vc-api:registrar", "Issued in error")
    assert (issuer.settings.out_dir / "status" / "revocation-1.json").exists()
    verified = client.post("/credentials/verify", json={"verifiableCredential": signed})
    assert verified.status_code == 422 and verified.json["errors"][0]["code"] == "REVOKED"


def test_status_update_takes_the_status_suites_purpose_form(client, auth):
    signed = _issue(client, auth, options=REVOCABLE).json["verifiableCredential"]
    answer = client.post("/credentials/status", headers=auth, json={
        "credentialId": signed["id"],
        "credentialStatus": {"type": "BitstringStatusListEntry", "statusPurpose": "revocation"}})
    assert answer.status_code == 200 and answer.json["status"] == "revoked"


def test_suspend_and_reinstate_a_suspendable_credential(client, auth):
    signed = _issue(client, auth, options={"credentialStatus": {
        "type": "BitstringStatusListEntry", "statusPurpose": "suspension"}}).json["verifiableCredential"]
    for status, expected, code in (("suspended", "suspended", 422), ("active", "active", 200)):
        answer = client.post("/credentials/status", headers=auth, json={
            "credentialId": signed["id"], "credentialStatus": [{"type": "BitstringStatusListEntry",
                                                                "status": status}]})
        assert answer.json["status"] == expected
        assert client.post("/credentials/verify", json={"verifiableCredential": signed}).status_code == code


@pytest.mark.parametrize("body, status, code", [
    ({"credentialId": "urn:uuid:00000000-0000-4000-8000-000000000000",
      "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}]}, 404, "CREDENTIAL_NOT_FOUND"),
    ({"credentialId": "x", "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "lost"}]}, 400,
     "STATUS_CHANGE_INVALID"),
    ({"credentialId": "x", "credentialStatus": "revoked"}, 400, "STATUS_CHANGE_INVALID"),
    ({"credentialId": "x", "credentialStatus": [{"type": ["BitstringStatusListEntry"], "status": "revoked"}]}, 400,
     "STATUS_CHANGE_INVALID"),
    ({"credentialStatus": []}, 400, "USAGE"),
])
def test_status_update_errors(client, auth, body, status, code):
    answer = client.post("/credentials/status", json=body, headers=auth)
    assert answer.status_code == status and answer.json["error"]["code"] == code


def test_status_update_of_a_credential_without_that_entry_is_409(client, auth):
    signed = _issue(client, auth).json["verifiableCredential"]
    answer = client.post("/credentials/status", headers=auth, json={
        "credentialId": signed["id"], "credentialStatus": [{"type": "BitstringStatusListEntry",
                                                            "status": "revoked"}]})
    assert answer.status_code == 409 and answer.json["error"]["code"] == "STATUS_CHANGE_INVALID"


def test_a_status_entry_in_the_credential_is_replaced_so_indexes_are_never_shared(client, auth, issuer):
    """A caller naming another credential's list and index gets its own slot, which it can revoke."""
    first = _issue(client, auth, options=REVOCABLE).json["verifiableCredential"]
    copied = first["credentialStatus"]
    for _ in range(3):
        answer = _issue(client, auth, {**VC, "credentialStatus": copied}, options=REVOCABLE)
        assert answer.status_code == 201, answer.json
        entry = answer.json["verifiableCredential"]["credentialStatus"]
        assert isinstance(entry, dict) and entry["statusPurpose"] == "revocation"
        assert (entry["statusListCredential"], entry["statusListIndex"]) != (copied["statusListCredential"],
                                                                             copied["statusListIndex"])
    second = answer.json["verifiableCredential"]
    record = issuer.registry.get_credential(second["id"])
    assert second["credentialStatus"]["statusListIndex"] == str(record.status_index)
    revoked = client.post("/credentials/status", headers=auth, json={
        "credentialId": second["id"], "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}]})
    assert revoked.status_code == 200 and revoked.json["status"] == "revoked"
    assert client.post("/credentials/verify", json={"verifiableCredential": second}).json["errors"][0]["code"] \
        == "REVOKED"
    assert client.post("/credentials/verify", json={"verifiableCredential": first}).status_code == 200


@pytest.mark.parametrize("status, purposes", [
    # what the W3C data model suite sends, and expects issued (4.10 Status)
    ({"id": "did:example:status", "type": "CredentialStatusList2017"}, ["revocation"]),
    ({"type": "CredentialStatusList2017"}, ["revocation"]),
    ({"type": "BitstringStatusListEntry", "statusPurpose": "suspension", "statusListIndex": "7",
      "statusListCredential": f"{BASE}/status/suspension/1"}, ["suspension"]),
    ([{"type": "BitstringStatusListEntry", "statusPurpose": "revocation"},
      {"type": "BitstringStatusListEntry", "statusPurpose": "suspension"}], ["revocation", "suspension"]),
])
def test_a_status_entry_in_the_credential_becomes_one_the_issuer_allocates(client, auth, issuer, status, purposes):
    credential = {**VC, "@context": [*VC["@context"], {"CredentialStatusList2017":
                                                       "https://example.org/examples#CredentialStatusList2017"}],
                  "credentialStatus": status}
    answer = _issue(client, auth, credential)
    assert answer.status_code == 201, answer.json
    signed = answer.json["verifiableCredential"]
    entries = signed["credentialStatus"] if isinstance(signed["credentialStatus"], list) else [signed["credentialStatus"]]
    assert [entry["statusPurpose"] for entry in entries] == purposes
    assert all(entry["type"] == "BitstringStatusListEntry" and entry["statusListIndex"] != "7"
               and entry["statusListCredential"].startswith(f"{BASE}/status/") for entry in entries)
    assert client.post("/credentials/verify", json={"verifiableCredential": signed}).status_code == 200
    action = "revoked" if purposes[0] == "revocation" else "suspended"
    answer = client.post("/credentials/status", headers=auth, json={
        "credentialId": signed["id"], "credentialStatus": [{"type": "BitstringStatusListEntry", "status": action}]})
    assert answer.status_code == 200 and answer.json["status"] == action


def test_a_vc_1_1_credential_with_a_status_entry_gets_the_status_context(client, auth):
    legacy = {"@context": ["https://www.w3.org/2018/credentials/v1", "https://w3id.org/vc/status-list/2021/v1"],
              "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:subject"},
              "credentialStatus": {"id": "https://elsewhere.example/lists/1#5", "type": "StatusList2021Entry",
                                   "statusPurpose": "revocation", "statusListIndex": "5",
                                   "statusListCredential": "https://elsewhere.example/lists/1"}}
    answer = _issue(client, auth, legacy)
    assert answer.status_code == 201, answer.json
    signed = answer.json["verifiableCredential"]
    assert signed["credentialStatus"]["type"] == "BitstringStatusListEntry"
    assert "https://www.w3.org/ns/credentials/status/v1" in signed["@context"]
    assert client.post("/credentials/verify", json={"verifiableCredential": signed}).status_code == 200


@pytest.mark.parametrize("spelling", [
    {"https://www.w3.org/2018/credentials#credentialStatus": {"id": f"{BASE}/status/revocation/1#3",
                                                             "type": "BitstringStatusListEntry"}},
    {"@context": [*VC["@context"], {"myStatus": "https://www.w3.org/2018/credentials#credentialStatus"}],
     "myStatus": {"id": f"{BASE}/status/revocation/1#3", "type": "BitstringStatusListEntry"}},
])
def test_a_status_entry_spelled_otherwise_is_refused_and_issues_nothing(client, auth, issuer, spelling):
    answer = _issue(client, auth, {**VC, **spelling}, options=REVOCABLE)
    # Canonicalization's spelling rule refuses it when it is signed; the transaction stores nothing.
    assert (answer.status_code, answer.json["error"]["code"]) == (400, "JSON_RESPELLED")
    assert _stored(issuer) == 0


@pytest.mark.parametrize("status", [
    {"id": "did:example:status"},                                        # the data model suite's missing type
    {"id": ["https://a.example/1", "https://a.example/2"], "type": "CredentialStatusList2017"},
    {"id": "not a url", "type": "CredentialStatusList2017"},
    {"type": "BitstringStatusListEntry", "statusPurpose": "message"},   # a purpose this issuer has no lists for
])
def test_a_malformed_status_entry_in_the_credential_is_still_refused(client, auth, issuer, status):
    answer = _issue(client, auth, {**VC, "credentialStatus": status})
    assert answer.status_code in (400, 422) and _stored(issuer) == 0


def test_status_update_needs_the_status_scope(client, clients, auth):
    signed = _issue(client, auth, options=REVOCABLE).json["verifiableCredential"]
    body = {"credentialId": signed["id"], "credentialStatus": [{"type": "BitstringStatusListEntry",
                                                                "status": "revoked"}]}
    assert client.post("/credentials/status", json=body).status_code == 401
    issue_only = _token(client, clients, scopes="issue", name="issue-only")
    answer = client.post("/credentials/status", json=body, headers={"Authorization": f"Bearer {issue_only}"})
    assert answer.status_code == 403


# -- presentations ------------------------------------------------------------------------------

HOLDER = KeyPair.from_seed(bytes(range(32)))
CHALLENGE, DOMAIN = "u-challenge-123", "verifier.example.org"


def _present(credentials, *, key=HOLDER, holder=True, challenge=CHALLENGE, domain=DOMAIN, **extra):
    did = key.public_key.did_key
    presentation = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
                    "verifiableCredential": credentials, **extra}
    if holder:
        presentation["holder"] = HOLDER.public_key.did_key
    proof = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2026-01-01T00:00:00Z",
             "verificationMethod": f"{did}#{did.removeprefix('did:key:')}", "proofPurpose": "authentication",
             "challenge": challenge, "domain": domain}
    proof["proofValue"] = encode_multibase(key.sign(hash_data(presentation, proof, loader=offline_loader())))
    return {**presentation, "proof": proof}


def _verify_vp(client, presentation, **options):
    return client.post("/presentations/verify", json={
        "verifiablePresentation": presentation, "options": {"challenge": CHALLENGE, "domain": DOMAIN, **options}})


def test_a_presentation_with_its_credentials_verifies(client, auth):
    signed = _issue(client, auth).json["verifiableCredential"]
    answer = _verify_vp(client, _present([signed]))
    assert answer.status_code == 200, answer.json
    assert answer.json["verified"] is True and answer.json["embedded"][0]["verified"] is True


@pytest.mark.parametrize("make, code", [
    (lambda vc: _present([vc], challenge="replayed"), "CHALLENGE_MISMATCH"),
    (lambda vc: _present([vc], domain="elsewhere.example"), "DOMAIN_MISMATCH"),
    (lambda vc: {k: v for k, v in _present([vc]).items() if k != "proof"}, "PROOF_MISSING"),
    (lambda vc: _present([vc], key=KeyPair.from_seed(bytes(32))), "HOLDER_KEY_MISMATCH"),
    (lambda vc: {**_present([vc]), "type": ["VerifiableCredential"]}, "PRESENTATION_INVALID"),
    (lambda vc: _present(["a-jwt-string"]), "PRESENTATION_INVALID"),
    (lambda vc: {**_present([vc]), "@context": ["https://www.w3.org/ns/credentials/examples/v2"]},
     "CONTEXT_MISSING"),
])
def test_bad_presentations_are_422_with_the_code(client, auth, make, code):
    signed = _issue(client, auth).json["verifiableCredential"]
    answer = _verify_vp(client, make(signed))
    assert answer.status_code == 422
    assert code in [e["code"] for e in answer.json["errors"]], answer.json["errors"]


def test_a_presentation_with_a_changed_credential_fails(client, auth):
    signed = _issue(client, auth).json["verifiableCredential"]
    signed["credentialSubject"]["name"] = "Mallory"
    answer = _verify_vp(client, _present([signed]))
    assert answer.status_code == 422 and answer.json["errors"][0]["code"] == "PROOF_INVALID"


def test_a_presentation_that_is_a_string_is_400(client):
    answer = client.post("/presentations/verify", json={"verifiablePresentation": "ey..."})
    assert answer.status_code == 400 and answer.json["error"]["code"] == "JSON_NOT_OBJECT"


# -- the description -------------------------------------------------------------------------


def test_openapi_describes_the_vc_api(client):
    paths = client.get("/api/openapi.json").json["paths"]
    for path in ("/credentials/issue", "/ed25519-2020/credentials/issue", "/credentials/status",
                 "/credentials/verify", "/presentations/verify", "/oauth/token"):
        assert path in paths, path
    assert paths["/credentials/issue"]["post"]["security"] == [{"oauth2": ["issue"]}]


def test_token_rate_limits_are_read_from_the_web_table(home):
    """The README's [web] token_rate_limit / token_client_rate_limit settings are accepted and used."""
    settings = home / "badgesmith.toml"
    settings.write_text(settings.read_text("utf-8") + '\n[web]\ntoken_rate_limit = "5/minute"\n'
                        'token_client_rate_limit = "3/minute"\n', "utf-8")
    app = create_app({"HOME": str(home), "TESTING": True, "RATE_LIMIT": "off", "RATE_LIMIT_STORAGE": "memory://"})
    try:
        client = app.test_client()
        answers = [_ask(client, "a-client-id", address=f"198.51.100.{n}").status_code for n in range(4)]
        assert answers == [401] * 3 + [429]  # the client id's budget: 3 a minute
        by_address, by_client = app.extensions["badgesmith.token_limiters"]
        assert (by_address.rate, by_client.rate) == (Rate(5, 60.0), Rate(3, 60.0))
    finally:
        app.extensions["badgesmith"].issuer.close()
