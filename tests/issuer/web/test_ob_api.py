"""The Open Badges 3.0 API as Service Provider, over loopback: discovery, registration, the PKCE flow as a
browser drives it, refusals (wrong verifier, reused code, wrong scope), paging, upsert then get, refresh and
revocation, and Imsx_StatusInfo errors.

The site is a real instance on 127.0.0.1 (werkzeug, threaded); the host is played by plain HTTP requests
here, and by Authlib's own OAuth 2.0 client in test_ob_api_clients.py.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import jsonschema
import pytest
import requests

from issuer.awarding.awards import issue_single
from issuer.awarding.issuing import IssueRequest
from issuer.web.oauth_server import SCOPE_BASE
from schemas.validate import validate
from tests.issuer.web.ob_host import (ALL_SCOPES, BACKPACK, JANE, SAM, Browser, pkce, serve_site,
                                      achievement_id, open_division, status_documents)

# 1EdTech's published schema (../shared/spec/schemas/ob-v3p0/json), copied beside this test.
IMSX = json.loads((Path(__file__).with_name("ob_v3p0_imsx_statusinfo_schema.json")).read_text("utf-8"))
READ, UPSERT = SCOPE_BASE + "credential.readonly", SCOPE_BASE + "credential.upsert"
PROFILE_READ, PROFILE_UPDATE = SCOPE_BASE + "profile.readonly", SCOPE_BASE + "profile.update"
REDIRECT = BACKPACK["redirect_uris"][0]


@pytest.fixture(scope="module")
def site(tmp_path_factory, other_issuer):
    # The other division's status lists come from a --documents folder: nothing reaches the network.
    site = serve_site(tmp_path_factory.mktemp("ob") / "instance", DOCUMENTS=str(other_issuer["documents"]),
                      OFFLINE=True)
    yield site
    site.stop()


@pytest.fixture(scope="module")
def client(site):
    answer = requests.post(site.base + "/ob/oauth/register", json=BACKPACK, timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()


def _authorization_url(site, client, *, scope=ALL_SCOPES, challenge=None, state="s-123", **extra):
    params = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": REDIRECT, "scope": scope,
              "state": state, "code_challenge": challenge, "code_challenge_method": "S256", **extra}
    return site.base + "/ob/oauth/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


def _code(site, client, *, scope=ALL_SCOPES, email=JANE) -> tuple[str, str]:
    """(code, verifier) from a flow a browser drives."""
    verifier, challenge = pkce()
    location = Browser(site, email).authorize(_authorization_url(site, client, scope=scope, challenge=challenge))
    query = parse_qs(urlsplit(location).query)
    assert location.startswith(REDIRECT) and query["state"] == ["s-123"], location
    return query["code"][0], verifier


def _token(site, client, **form):
    return requests.post(site.base + "/ob/oauth/token", data=form, auth=(client["client_id"], client["client_secret"]),
                         timeout=30)


def _tokens(site, client, *, scope=ALL_SCOPES, email=JANE) -> dict:
    code, verifier = _code(site, client, scope=scope, email=email)
    answer = _token(site, client, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                    code_verifier=verifier)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _bearer(token: dict) -> dict:
    return {"Authorization": f"Bearer {token['access_token']}"}


def _imsx(answer: requests.Response, status: int, minor: str, code: str | None = None) -> dict:
    assert answer.status_code == status, answer.text
    body = answer.json()
    jsonschema.validate(body, IMSX)
    field = body["imsx_codeMinor"]["imsx_codeMinorField"][0]
    assert (body["imsx_codeMajor"], body["imsx_severity"], field["imsx_codeMinorFieldValue"]) == \
        ("failure", "error", minor)
    if code:
        assert field["imsx_codeMinorFieldName"] == code
    return body


# -- discovery and registration ---------------------------------------------------------------


def test_discovery_describes_the_oauth_flow_and_the_scopes(site):
    document = requests.get(site.base + "/ims/ob/v3p0/discovery", timeout=30).json()
    assert document["openapi"].startswith("3.0")
    info = document["info"]
    assert info["termsOfService"] and info["x-imssf-privacyPolicyUrl"] and info["x-imssf-image"]
    scheme = document["components"]["securitySchemes"]["OAuth2ACG"]
    flow = scheme["flows"]["authorizationCode"]
    assert scheme["type"] == "oauth2"
    assert scheme["x-imssf-registrationUrl"] == site.base + "/ob/oauth/register"
    assert (flow["authorizationUrl"], flow["tokenUrl"], flow["refreshUrl"]) == (
        site.base + "/ob/oauth/authorize", site.base + "/ob/oauth/token", site.base + "/ob/oauth/token")
    assert set(flow["scopes"]) == {READ, UPSERT, PROFILE_READ, PROFILE_UPDATE}
    assert document["servers"] == [{"url": site.base + "/ims/ob/v3p0"}]
    assert requests.get(info["x-imssf-image"], timeout=30).status_code == 200


def test_registration_gives_a_client_whose_secret_is_stored_only_as_a_hash(site, client):
    assert client["client_id"] and client["client_secret"] and client["client_secret_expires_at"] == 0
    assert client["client_name"] == "Example Backpack" and client["redirect_uris"] == [REDIRECT]
    assert client["token_endpoint_auth_method"] == "client_secret_basic"
    database = Path(site.issuer.settings.database_url.removeprefix("sqlite:///"))
    assert client["client_secret"].encode() not in database.read_bytes()
    with sqlite3.connect(database) as db:
        (stored,) = db.execute("SELECT secret_hash FROM ob_clients WHERE client_id = ?", (client["client_id"],)).fetchone()
    assert len(stored) == 64 and stored != client["client_secret"]


@pytest.mark.parametrize("change, says", [
    ({"client_uri": None}, "client_uri"),
    ({"software_version": None}, "software_version"),
    ({"grant_types": ["client_credentials"]}, "grant_types"),
    ({"grant_types": ["implicit"], "response_types": ["token"]}, ""),
    ({"token_endpoint_auth_method": "client_secret_post"}, "token_endpoint_auth_method"),
    ({"scope": "https://purl.imsglobal.org/spec/ob/v3p0/scope/everything"}, "scope"),
    ({"redirect_uris": ["http://backpack.example/callback"]}, "redirect"),
    ({"redirect_uris": "https://backpack.example/callback"}, "redirect_uris"),
    ({"logo_uri": "javascript:alert(1)"}, "logo_uri"),
])
def test_registration_refuses_what_ob_3_does_not_allow(site, change, says):
    metadata = {**BACKPACK, **change}
    answer = requests.post(site.base + "/ob/oauth/register", json={k: v for k, v in metadata.items() if v is not None},
                           timeout=30)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] in ("invalid_client_metadata", "invalid_redirect_uri")
    assert says in answer.json().get("error_description", "")


def test_registration_body_is_bounded(site):
    answer = requests.post(site.base + "/ob/oauth/register", data=b"{" + b'"a":[' * 100 + b"]" * 100 + b"}",
                           headers={"Content-Type": "application/json"}, timeout=30)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_client_metadata"
    big = {**BACKPACK, "client_name": "x" * 20_000}
    answer = requests.post(site.base + "/ob/oauth/register", json=big, timeout=30)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_client_metadata"


# -- the authorization code flow with PKCE ------------------------------------------------------


def test_pkce_flow_as_a_browser_drives_it_then_get_credentials(site, client):
    verifier, challenge = pkce()
    browser = Browser(site)
    link = browser.sign_in(_authorization_url(site, client, challenge=challenge))
    answer = browser.consent(link)
    page = browser.consent_page.text
    assert "Example Backpack" in page and "https://backpack.example/logo.png" in page
    assert "read the badges and credentials you hold here" in page and "change your profile here" in page
    assert "backpack.example" in browser.consent_page.headers["Content-Security-Policy"]
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == ["s-123"]
    token = _token(site, client, grant_type="authorization_code", code=query["code"][0], redirect_uri=REDIRECT,
                   code_verifier=verifier)
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["token_type"].lower() == "bearer" and body["expires_in"] == 3600 and body["refresh_token"]
    assert token.headers["Cache-Control"] == "no-store"
    listing = requests.get(site.base + "/ims/ob/v3p0/credentials", headers=_bearer(body), timeout=30)
    assert listing.status_code == 200
    ours = {record.id for record in site.issuer.registry.find_credentials(
        site.issuer.issuer_id, lookup_key=_key(site, JANE)) if record.superseded_by is None}
    got = listing.json()
    assert {c["id"] for c in got["credential"]} == ours and got["compactJwsString"] == []
    assert listing.headers["X-Total-Count"] == str(len(ours))
    # The same link cannot be used twice.
    again = browser.session.post(link, data={"decision": "allow"}, allow_redirects=False, timeout=30)
    assert again.status_code == 404 and "OB_SIGN_IN_INVALID" in again.text


def _key(site, email):
    from issuer.records.hosted import learner_key

    return learner_key(site.issuer, email)


def test_a_wrong_code_verifier_is_refused_and_spends_the_code(site, client):
    code, verifier = _code(site, client)
    wrong = _token(site, client, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                   code_verifier=pkce()[0])
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    right = _token(site, client, grant_type="authorization_code", code=code, redirect_uri=REDIRECT,
                   code_verifier=verifier)
    assert right.status_code == 400 and right.json()["error"] == "invalid_grant"


def test_a_reused_code_is_refused(site, client):
    code, verifier = _code(site, client)
    form = dict(grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier=verifier)
    first = _token(site, client, **form)
    assert first.status_code == 200
    refreshed = _token(site, client, grant_type="refresh_token", refresh_token=first.json()["refresh_token"]).json()
    url = site.base + "/ims/ob/v3p0/credentials"
    assert requests.get(url, headers=_bearer(refreshed), timeout=30).status_code == 200
    reused = _token(site, client, **form)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    # RFC 6749 §4.1.2: what the code gave (through its refreshes too) is revoked.
    _imsx(requests.get(url, headers=_bearer(refreshed), timeout=30), 401, "unauthorizedrequest")
    assert _token(site, client, grant_type="refresh_token",
                  refresh_token=refreshed["refresh_token"]).json()["error"] == "invalid_grant"


def test_a_code_is_bound_to_its_client_and_the_secret_is_checked(site, client):
    other = requests.post(site.base + "/ob/oauth/register", json=BACKPACK, timeout=30).json()
    code, verifier = _code(site, client)
    form = dict(grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier=verifier)
    assert _token(site, other, **form).json()["error"] == "invalid_grant"
    wrong_secret = requests.post(site.base + "/ob/oauth/token", data=form, timeout=30,
                                 auth=(client["client_id"], "not-the-secret"))
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    in_body = requests.post(site.base + "/ob/oauth/token", timeout=30,
                            data={**form, "client_id": client["client_id"], "client_secret": client["client_secret"]})
    assert in_body.status_code in (400, 401) and in_body.json()["error"] == "invalid_client"


def test_a_scope_the_host_did_not_register_is_refused(site):
    narrow = requests.post(site.base + "/ob/oauth/register", json={**BACKPACK, "scope": READ}, timeout=30).json()
    verifier, challenge = pkce()
    answer = requests.get(_authorization_url(site, narrow, scope=f"{READ} {UPSERT}", challenge=challenge),
                          allow_redirects=False, timeout=30)
    assert answer.status_code == 302
    assert parse_qs(urlsplit(answer.headers["Location"]).query)["error"] == ["invalid_scope"]
    unknown = requests.get(_authorization_url(site, narrow, scope=SCOPE_BASE + "everything", challenge=challenge),
                           allow_redirects=False, timeout=30)
    assert parse_qs(urlsplit(unknown.headers["Location"]).query)["error"] == ["invalid_scope"]


def test_a_token_is_limited_to_its_scopes(site, client):
    token = _tokens(site, client, scope=READ)
    assert token["scope"] == READ
    assert requests.get(site.base + "/ims/ob/v3p0/credentials", headers=_bearer(token), timeout=30).status_code == 200
    refused = requests.post(site.base + "/ims/ob/v3p0/credentials", headers=_bearer(token), timeout=30,
                            json={"id": "x"})
    _imsx(refused, 403, "forbidden", "FORBIDDEN")
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
    _imsx(requests.get(site.base + "/ims/ob/v3p0/profile", headers=_bearer(token), timeout=30), 403, "forbidden")
    # Nor can a refresh widen it.
    wider = _token(site, client, grant_type="refresh_token", refresh_token=token["refresh_token"], scope=ALL_SCOPES)
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"


@pytest.mark.parametrize("extra", [{"code_challenge": None, "code_challenge_method": None},
                                   {"code_challenge_method": "plain"}])
def test_authorization_without_s256_pkce_is_refused(site, client, extra):
    url = _authorization_url(site, client, challenge=pkce()[1], **extra)
    answer = requests.get(url, allow_redirects=False, timeout=30)
    assert answer.status_code == 302
    assert parse_qs(urlsplit(answer.headers["Location"]).query)["error"] == ["invalid_request"]


def test_authorization_for_an_unknown_client_or_redirect_is_a_page_not_a_redirect(site, client):
    unknown = requests.get(_authorization_url(site, {"client_id": "nobody"}, challenge=pkce()[1]),
                           allow_redirects=False, timeout=30)
    assert unknown.status_code == 400 and "OB_AUTHORIZATION_INVALID" in unknown.text
    elsewhere = requests.get(_authorization_url(site, client, challenge=pkce()[1]).replace(
        "backpack.example%2Fcallback", "evil.example%2Fcallback"), allow_redirects=False, timeout=30)
    assert elsewhere.status_code == 400 and "Location" not in elsewhere.headers


def test_a_learner_who_declines_sends_the_host_access_denied(site, client):
    verifier, challenge = pkce()
    location = Browser(site).authorize(_authorization_url(site, client, challenge=challenge), decision="deny")
    assert parse_qs(urlsplit(location).query)["error"] == ["access_denied"]


# -- getCredentials paging ------------------------------------------------------------------------


def test_paging_headers(site, client):
    token = _tokens(site, client, scope=READ)
    url = site.base + "/ims/ob/v3p0/credentials"
    everything = requests.get(url, headers=_bearer(token), timeout=30)
    total = int(everything.headers["X-Total-Count"])
    assert total >= 5 and "Link" not in everything.headers
    first = requests.get(url, params={"limit": 2}, headers=_bearer(token), timeout=30)
    assert first.headers["X-Total-Count"] == str(total) and len(first.json()["credential"]) == 2
    links = _links(first.headers["Link"])
    assert set(links) == {"next", "first", "last"}
    assert parse_qs(urlsplit(links["next"]).query) == {"limit": ["2"], "offset": ["2"]}
    assert parse_qs(urlsplit(links["last"]).query)["offset"] == [str((total - 1) // 2 * 2)]
    seen = []
    page_url = links["first"]
    while page_url:
        page = requests.get(page_url, headers=_bearer(token), timeout=30)
        seen += [c["id"] for c in page.json()["credential"]]
        page_links = _links(page.headers.get("Link", ""))
        page_url = page_links.get("next")
    assert seen == [c["id"] for c in everything.json()["credential"]]
    middle = requests.get(url, params={"limit": 2, "offset": 2}, headers=_bearer(token), timeout=30)
    assert parse_qs(urlsplit(_links(middle.headers["Link"])["prev"]).query)["offset"] == ["0"]
    later = requests.get(url, params={"since": "2999-01-01T00:00:00Z"}, headers=_bearer(token), timeout=30)
    assert later.json() == {"credential": [], "compactJwsString": []} and later.headers["X-Total-Count"] == "0"


def _links(header: str) -> dict[str, str]:
    found = {}
    for part in filter(None, (p.strip() for p in header.split(","))):
        target, rel = part.split(";")
        found[rel.strip().removeprefix('rel="').removesuffix('"')] = target.strip("<> ")
    return found


@pytest.fixture(scope="module")
def reader(site, client):
    return _tokens(site, client, scope=READ)


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "101"}, {"limit": "two"}, {"offset": "-1"},
                                   {"offset": "99999999999"}, {"since": "yesterday"}, {"limit": "1e3"}])
def test_bad_paging_parameters_are_imsx_errors(site, reader, query):
    token = reader
    answer = requests.get(site.base + "/ims/ob/v3p0/credentials", params=query, headers=_bearer(token), timeout=30)
    _imsx(answer, 400, "invalid_query_parameter", "OB_QUERY_INVALID")


# -- upsertCredential and profiles ---------------------------------------------------------------


@pytest.fixture(scope="module")
def other_issuer(tmp_path_factory):
    """Another division, offline-verifiable (did:key), that issued Jane and Sam a badge each (JSON and JWT)."""
    home = tmp_path_factory.mktemp("other") / "instance"
    issuer = open_division(home, "Metro Library Division", "https://metro.example", ("ceu-course", "attendance"))
    texts = {}
    for key, email, slug, fmt in ((JANE, JANE, "ceu-course", "di"), (SAM, SAM, "ceu-course", "di"),
                                  ("jwt", JANE, "attendance", "jwt")):
        awarded = issue_single(issuer, achievement_id(slug), IssueRequest(email=email, name="L", date=date.today(),
                                                                        format=fmt))
        texts[key] = awarded.record.credential
    documents = status_documents(issuer, home.parent / "documents")  # the host's verifier reads these, not the network
    issuer.close()
    return {**texts, "documents": documents}


def test_upsert_then_get_returns_it_equal(site, client, other_issuer):
    token = _tokens(site, client)
    url = site.base + "/ims/ob/v3p0/credentials"
    pushed = json.loads(other_issuer[JANE])
    created = requests.post(url, data=other_issuer[JANE], headers={**_bearer(token), "Content-Type":
                                                                   "application/json"}, timeout=60)
    assert created.status_code == 201, created.text
    assert created.json() == pushed
    again = requests.post(url, data=other_issuer[JANE], headers={**_bearer(token), "Content-Type":
                                                                 "application/vc+ld+json"}, timeout=60)
    assert again.status_code == 200
    listing = requests.get(url, headers=_bearer(token), timeout=30).json()
    assert [c for c in listing["credential"] if c["id"] == pushed["id"]] == [pushed]
    # A VC-JWT goes in as text and comes back as the same compact JWS.
    jws = requests.post(url, data=other_issuer["jwt"], timeout=60,
                        headers={**_bearer(token), "Content-Type": "text/plain"})
    assert jws.status_code == 201 and jws.text == other_issuer["jwt"]
    listing = requests.get(url, headers=_bearer(token), timeout=30).json()
    assert listing["compactJwsString"] == [other_issuer["jwt"]]


def test_upsert_refuses_a_credential_awarded_to_someone_else(site, client, other_issuer):
    token = _tokens(site, client)
    answer = requests.post(site.base + "/ims/ob/v3p0/credentials", data=other_issuer[SAM], timeout=60,
                           headers={**_bearer(token), "Content-Type": "application/json"})
    _imsx(answer, 400, "invalid_data", "OB_CREDENTIAL_REFUSED")
    listing = requests.get(site.base + "/ims/ob/v3p0/credentials", headers=_bearer(token), timeout=30).json()
    assert json.loads(other_issuer[SAM])["id"] not in [c["id"] for c in listing["credential"]]


def test_upsert_refuses_a_tampered_credential(site, client, other_issuer):
    token = _tokens(site, client)
    tampered = json.loads(other_issuer[JANE])
    tampered["name"] = "Something else entirely"
    answer = requests.post(site.base + "/ims/ob/v3p0/credentials", json=tampered, headers=_bearer(token), timeout=60)
    _imsx(answer, 400, "invalid_data", "OB_CREDENTIAL_REFUSED")


@pytest.mark.parametrize("body, kind, status, minor", [
    (b"not json", "application/json", 400, "invalid_data"),
    (b"[1, 2]", "application/json", 400, "invalid_data"),
    (b"{" + b'"a":[' * 200 + b"]" * 200 + b"}", "application/json", 413, "invalid_data"),
    (b"x" * (1024 * 1024 + 10), "application/json", 413, "invalid_data"),
    (b"hello there", "text/plain", 400, "invalid_data"),
    (b"<credential/>", "application/xml", 415, "invalid_data"),
])
def test_upsert_bad_bodies_are_imsx_errors_never_500(site, client, body, kind, status, minor):
    token = _tokens(site, client, scope=UPSERT)
    answer = requests.post(site.base + "/ims/ob/v3p0/credentials", data=body, timeout=60,
                           headers={**_bearer(token), "Content-Type": kind})
    assert answer.status_code in (status, 400, 413), answer.text
    _imsx(answer, answer.status_code, "invalid_data")


def test_profile_get_and_put(site, client):
    token = _tokens(site, client, scope=f"{PROFILE_READ} {PROFILE_UPDATE}")
    url = site.base + "/ims/ob/v3p0/profile"
    profile = requests.get(url, headers=_bearer(token), timeout=30).json()
    assert profile["email"] == JANE and profile["type"] == ["Profile"] and profile["name"] == "Jane Doe"
    assert validate(profile, kind="profile") == []
    new = {"@context": ["https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"], "id": "mailto:" + JANE,
           "type": ["Profile"], "name": "Jane A. Doe", "email": JANE}
    put = requests.put(url, json=new, headers=_bearer(token), timeout=30)
    assert put.status_code == 200 and put.json() == new
    assert requests.get(url, headers=_bearer(token), timeout=30).json() == new
    bad = requests.put(url, json={"name": "no id, no type"}, headers=_bearer(token), timeout=30)
    _imsx(bad, 400, "invalid_data", "OB_PROFILE_INVALID")


# -- refresh and revocation ----------------------------------------------------------------------


def test_refresh_rotates_and_revocation_stops_both_tokens(site, client):
    token = _tokens(site, client)
    url = site.base + "/ims/ob/v3p0/credentials"
    fresh = _token(site, client, grant_type="refresh_token", refresh_token=token["refresh_token"])
    assert fresh.status_code == 200, fresh.text
    new = fresh.json()
    assert new["access_token"] != token["access_token"] and new["refresh_token"] != token["refresh_token"]
    assert requests.get(url, headers=_bearer(new), timeout=30).status_code == 200
    # The old pair is gone: a refresh token is good once.
    assert _token(site, client, grant_type="refresh_token",
                  refresh_token=token["refresh_token"]).json()["error"] == "invalid_grant"
    _imsx(requests.get(url, headers=_bearer(token), timeout=30), 401, "unauthorizedrequest", "UNAUTHORIZED")
    revoked = requests.post(site.base + "/ob/oauth/revoke", data={"token": new["access_token"]}, timeout=30,
                            auth=(client["client_id"], client["client_secret"]))
    assert revoked.status_code == 200
    answer = requests.get(url, headers=_bearer(new), timeout=30)
    _imsx(answer, 401, "unauthorizedrequest")
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]
    assert _token(site, client, grant_type="refresh_token",
                  refresh_token=new["refresh_token"]).json()["error"] == "invalid_grant"


def test_revoking_a_refresh_token_needs_the_client_that_holds_it(site, client):
    token = _tokens(site, client)
    other = requests.post(site.base + "/ob/oauth/register", json=BACKPACK, timeout=30).json()
    requests.post(site.base + "/ob/oauth/revoke", data={"token": token["refresh_token"],
                                                        "token_type_hint": "refresh_token"},
                  auth=(other["client_id"], other["client_secret"]), timeout=30)
    assert requests.get(site.base + "/ims/ob/v3p0/credentials", headers=_bearer(token), timeout=30).status_code == 200
    requests.post(site.base + "/ob/oauth/revoke", data={"token": token["refresh_token"],
                                                        "token_type_hint": "refresh_token"},
                  auth=(client["client_id"], client["client_secret"]), timeout=30)
    _imsx(requests.get(site.base + "/ims/ob/v3p0/credentials", headers=_bearer(token), timeout=30), 401,
          "unauthorizedrequest")


# -- errors ---------------------------------------------------------------------------------------


def test_errors_under_the_api_are_imsx_status_info(site):
    base = site.base + "/ims/ob/v3p0"
    no_token = requests.get(base + "/credentials", timeout=30)
    _imsx(no_token, 401, "unauthorizedrequest", "UNAUTHORIZED")
    assert no_token.headers["WWW-Authenticate"].startswith("Bearer")
    _imsx(requests.get(base + "/credentials", headers={"Authorization": "Bearer nonsense"}, timeout=30), 401,
          "unauthorizedrequest")
    _imsx(requests.get(base + "/nothing-here", timeout=30), 404, "not_found")
    _imsx(requests.delete(base + "/credentials", timeout=30), 405, "not_allowed")
    _imsx(requests.post(base + "/discovery", timeout=30), 405, "not_allowed")


@pytest.mark.parametrize("field", [*BACKPACK, "jwks", "jwks_uri", "software_statement", "contacts"])
def test_registration_with_any_value_of_the_wrong_shape_is_a_400_never_a_500(site, field):
    for value in (None, 1, 1.5, True, [], {}, ["x"], [1], "", "x" * 3000, {"a": 1}, "https://", "ftp://x.example/a"):
        answer = requests.post(site.base + "/ob/oauth/register", json={**BACKPACK, field: value}, timeout=30)
        assert answer.status_code in (201, 400), (field, value, answer.text)
        if answer.status_code == 201:
            body = answer.json()
            assert all(isinstance(body[name], str) for name in ("client_name", "software_id", "scope"))
            assert "jwks" not in body and "software_statement" not in body


def test_oauth_over_plain_http_is_refused_not_served(site):
    client = site.app.test_client()  # http://localhost is loopback-like; another host over http is not
    answer = client.post("/ob/oauth/token", base_url="http://badges.lakeshore.example",
                         data={"grant_type": "authorization_code", "code": "x"})
    assert answer.status_code == 400 and answer.get_json()["error"] == "invalid_request"
    page = client.get("/ob/oauth/authorize?response_type=code&client_id=x", base_url="http://badges.lakeshore.example")
    assert page.status_code == 400


def test_a_host_with_one_redirect_may_leave_it_out_of_both_requests(site, client):
    verifier, challenge = pkce()
    url = _authorization_url(site, client, challenge=challenge).replace(
        "redirect_uri=" + requests.utils.quote(REDIRECT, safe=""), "redirect_uri=")
    url = url.replace("&redirect_uri=&", "&")
    assert "redirect_uri" not in url
    location = Browser(site).authorize(url)
    assert location.startswith(REDIRECT + "?")
    code = parse_qs(urlsplit(location).query)["code"][0]
    token = _token(site, client, grant_type="authorization_code", code=code, code_verifier=verifier)
    assert token.status_code == 200, token.text
