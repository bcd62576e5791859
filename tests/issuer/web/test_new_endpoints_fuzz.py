"""Hostile input at the endpoints of the OB 3.0 API, its OAuth server, OID4VCI, the VC-API wallet exchange,
the learner's wallet and claim pages and the association catalog: never a 500, always the endpoint's own error
shape with a stable code and one sentence, and nothing stored on a refusal.

Each endpoint gets hand-picked inputs (wrong methods and content types, bodies over the limit, deep or
non-object JSON, invalid UTF-8, NUL and bidi controls, numbers where strings belong, repeated and overlong
parameters, odd ``Authorization`` headers, malformed JWTs and base64, replays) and Hypothesis-drawn ones,
sent through the Flask test client to a real instance on a real SQLite file; row counts are read before and
after. The error shapes are the documented ones: ``Imsx_StatusInfo`` (checked against 1EdTech's schema) under
``/ims/ob/v3p0``, RFC 6749 JSON (``error``, ``error_description``) at the OAuth and OID4VCI endpoints, and the
project's ``{"error": {"code", "message"}}`` elsewhere. A 405 at the OID4VCI endpoints is the project's shape
(test_oid4vci.py's decision: the routing refuses before the endpoint is known).
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from app import create_app
from issuer.awarding import claims, wallet_links
from issuer.awarding.oid4vci import JWT_VC_JSON, LDP_VC, PRE_AUTHORIZED_GRANT
from issuer.records import learners
from keys.ed25519 import KeyPair
from tests.issuer.web.ob_host import ALL_SCOPES, BACKPACK, JANE, _set_sender, learner_fixtures, pkce
from tests.verifier.test_pipeline_fuzz import _values as json_values, mutate

BASE = "https://badges.lakeshore.example"  # build_learner_instance's URL; https, as OAuth requires
PREFIX = "/ims/ob/v3p0"
REDIRECT = BACKPACK["redirect_uris"][0]
IMSX = json.loads((Path(__file__).with_name("ob_v3p0_imsx_statusinfo_schema.json")).read_text("utf-8"))
TABLES = ("ob_clients", "ob_sign_ins", "ob_codes", "ob_tokens", "hosted_credentials", "ob_profiles",
          "wallet_offers", "wallet_copies", "credentials")
FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])

# Strings a hostile client puts where text belongs (no lone surrogates: a URL or a form cannot carry them).
NASTY = ["", " ", "\x00", "a\x00b", "\u202egnp.exe", "\u200b", "\ufeff", "%00", "%FF", "../../etc/passwd", "x" * 5000,
         "1e400", "-1", "NaN", "null", "[]", "{}", "\r\nSet-Cookie: x=1", "<script>alert(1)</script>", "😀" * 50]
hostile_text = st.sampled_from(NASTY) | st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
header_text = hostile_text.filter(lambda t: "\r" not in t and "\n" not in t)  # what a header line can carry
invalid_utf8 = st.sampled_from([b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b'{"a": "\xff"}', b"\x00" * 8])


# -- the instance, and what every answer must look like ---------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The learner-page instance (Jane's badges), a registered host and Jane's tokens for it."""
    home = tmp_path_factory.mktemp("hostile") / "instance"
    ids = learner_fixtures.build_learner_instance(home, base_url=BASE)
    _set_sender(home, "ce-office@lakeshore.example", None)
    mails: list = []
    app = create_app({"HOME": str(home), "TESTING": True, "RATE_LIMIT": "off", "OFFLINE": True,
                      "OB_SIGN_IN_MAILER": mails.append, "OB_SIGN_IN_RATE_LIMIT": "off",
                      "OB_SIGN_IN_ADDRESS_RATE_LIMIT": "off", "OB_REGISTER_RATE_LIMIT": "off",
                      "CLAIM_RATE_LIMIT": "off"})
    client = app.test_client()
    host = client.post("/ob/oauth/register", json=BACKPACK, base_url=BASE).get_json()
    site = {"app": app, "client": client, "issuer": app.extensions["badgesmith"].issuer, "ids": ids,
            "mails": mails, "host": host}
    code, verifier = _code(site)
    tokens = client.post("/ob/oauth/token", data={"grant_type": "authorization_code", "code": code,
                                                  "redirect_uri": REDIRECT, "code_verifier": verifier},
                         headers=_basic(host["client_id"], host["client_secret"]), base_url=BASE).get_json()
    site["tokens"] = tokens
    site["bearer"] = {"Authorization": f"Bearer {tokens['access_token']}"}
    yield site
    site["issuer"].close()


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def _authorize_query(site, **extra) -> tuple[str, str]:
    verifier, challenge = pkce()
    params = {"response_type": "code", "client_id": site["host"]["client_id"], "redirect_uri": REDIRECT,
              "scope": ALL_SCOPES, "state": "s-1", "code_challenge": challenge, "code_challenge_method": "S256",
              **extra}
    return urlencode(params), verifier


def _sign_in_link(site) -> tuple[str, str]:
    """(the consent page's path from the mailed link, the PKCE verifier) for a fresh authorization request."""
    query, verifier = _authorize_query(site)
    answer = site["client"].post(f"/ob/oauth/authorize?{query}", data={"email": JANE}, base_url=BASE)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    link = re.search(r"(https://\S+/ob/sign-in/\S+)", site["mails"][-1].get_content()).group(1)
    return urlsplit(link).path, verifier


def _code(site) -> tuple[str, str]:
    path, verifier = _sign_in_link(site)
    answer = site["client"].post(path, data={"decision": "allow"}, base_url=BASE)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    return parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0], verifier


def counts(site) -> dict[str, int]:
    with site["issuer"].registry.session(write=False) as s:
        return {table: s.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one() for table in TABLES}


def _sentence(message) -> None:
    assert isinstance(message, str) and message.strip(), message
    assert len(message) < 1000 and "Traceback" not in message, message[:300]


def imsx(answer) -> dict:
    """An OB API refusal: 4xx, an Imsx_StatusInfo that 1EdTech's schema accepts, our code as the field name."""
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.get_data(as_text=True)[:500])
    body = answer.get_json()
    jsonschema.validate(body, IMSX)
    assert (body["imsx_codeMajor"], body["imsx_severity"]) == ("failure", "error")
    assert body["imsx_codeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldName"]
    _sentence(body["imsx_description"])
    return body


def oauth_error(answer) -> dict:
    """An RFC 6749 §5.2 refusal: 4xx JSON with ``error`` (a string) and one sentence as ``error_description``."""
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.get_data(as_text=True)[:500])
    body = answer.get_json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and re.fullmatch(r"[a-z_]+", body["error"])
    _sentence(body.get("error_description"))
    assert answer.headers.get("Cache-Control") == "no-store"
    return body


def project_error(answer) -> dict:
    """The project's refusal: 4xx JSON ``{"error": {"code", "message"}}``."""
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.get_data(as_text=True)[:500])
    body = answer.get_json()
    assert isinstance(body, dict) and isinstance(body.get("error"), dict), answer.get_data(as_text=True)[:300]
    assert re.fullmatch(r"[A-Z_]+", body["error"]["code"])
    _sentence(body["error"]["message"])
    return body["error"]


def _send(site, method, path, *, body=None, content_type=None, headers=None, query=""):
    return site["client"].open(path + (f"?{query}" if query else ""), method=method, data=body,
                               content_type=content_type, headers=headers or {}, base_url=BASE)


DEEP = b"[" * 5000 + b"]" * 5000
DEEP_OBJECT = b'{"a":' * 3000 + b"1" + b"}" * 3000
BODIES = [  # (body, content type): each one refused wherever a JSON object is expected
    (b"\xff\xfe\xc3\x28", "application/json"), (DEEP, "application/json"), (DEEP_OBJECT, "application/json"),
    (b"[]", "application/json"), (b"1", "application/json"), (b'"x"', "application/json"),
    (b"null", "application/json"), (b'{"a": 1, "a": 2}', "application/json"), (b'{"x": "\\ud800"}', "application/json"),
    (b"{", "application/json"), (b"<a/>", "application/xml"), (b"x", "multipart/form-data"),
    (b"{}", "application/x-www-form-urlencoded"),
]


# -- the OB 3.0 API (/ims/ob/v3p0): Imsx_StatusInfo, never a 500, nothing kept on a refusal ----------------


@pytest.mark.parametrize("method, path", [
    ("DELETE", "/credentials"), ("PATCH", "/credentials"), ("PUT", "/credentials"), ("POST", "/profile"),
    ("DELETE", "/profile"), ("POST", "/discovery"), ("GET", ""), ("GET", "/"), ("GET", "/nope"), ("GET", "/%00"),
])
def test_ob_api_wrong_methods_and_addresses_are_imsx(site, method, path):
    before = counts(site)
    imsx(_send(site, method, PREFIX + path, headers=site["bearer"]))
    assert counts(site) == before


@pytest.mark.parametrize("body, content_type", [
    *BODIES, (b"a.b.c", "text/plain"), (b"\xff.\xfe.\x00", "text/plain"), ("\u202ea.b.c".encode(), "text/plain"),
    (b"x" * (1024 * 1024 + 1), "application/json"), (b'{"@context": 1, "type": ["VerifiableCredential"]}',
                                                     "application/json"),
    (b'{"\\u0000": "\\u0000"}', "application/json"), (b'{"a": "\xe9"}', "application/json; charset=latin-1"),
])
def test_ob_api_refuses_bodies_it_cannot_take_and_keeps_nothing(site, body, content_type):
    before = counts(site)
    imsx(_send(site, "POST", PREFIX + "/credentials", body=body, content_type=content_type, headers=site["bearer"]))
    imsx(_send(site, "PUT", PREFIX + "/profile", body=body, content_type=content_type, headers=site["bearer"]))
    assert counts(site) == before


AUTHORIZATIONS = ["", "Bearer", "Bearer ", "Bearer \x00", "Bearer " + "a" * 5000, "Basic abc", "Bearer a.b.c",
                  "Bearer \u202e", "Bearer %00", "Token x", "Bearer x y", "bearer", "Bearer ====", "DPoP x"]


@FUZZ
@given(data=st.data())
def test_ob_api_bearer_headers_of_any_shape_are_401_or_403(site, data):
    header = data.draw(st.sampled_from(AUTHORIZATIONS) | header_text.map(lambda t: "Bearer " + t)
                       | st.binary(max_size=40).map(lambda b: "Bearer " + base64.b64encode(b).decode()))
    for method, path in (("GET", "/credentials"), ("GET", "/profile"), ("POST", "/credentials"), ("PUT", "/profile")):
        answer = _send(site, method, PREFIX + path, body=b"{}", content_type="application/json",
                       headers={"Authorization": header})
        assert answer.status_code in (401, 403)
        imsx(answer)
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")


_QUERY_VALUES = (st.integers(-10**12, 10**12).map(str) | st.sampled_from(
    ["0", "-1", "101", "1e3", "0x10", "1.0", "١", "１", " 5", "5 ", "2026-01-01T00:00:00Z", "2026-13-01",
     "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00-14:00", "2026-01-01T00:00:00+99:00"]) | hostile_text)


@FUZZ
@given(params=st.lists(st.tuples(st.sampled_from(["limit", "offset", "since", "other"]), _QUERY_VALUES),
                       max_size=4))
def test_ob_api_paging_parameters_of_any_value_are_a_page_or_invalid_query_parameter(site, params):
    answer = _send(site, "GET", PREFIX + "/credentials", headers=site["bearer"], query=urlencode(params))
    if answer.status_code == 200:
        body = answer.get_json()
        total = int(answer.headers["X-Total-Count"])
        assert len(body["credential"]) + len(body["compactJwsString"]) <= min(total, 100)
    else:
        minor = imsx(answer)["imsx_codeMinor"]["imsx_codeMinorField"][0]
        assert (answer.status_code, minor["imsx_codeMinorFieldValue"]) == (400, "invalid_query_parameter")


@pytest.mark.parametrize("query", ["limit=\u0661", "limit=\uff11", "offset=\u0660", "limit=\uff15\uff10"])
def test_ob_api_paging_takes_ascii_digits_only(site, query):
    """Found here: \\d matched any script's digits, and int() read "１" (fullwidth) as 1."""
    answer = _send(site, "GET", PREFIX + "/credentials", headers=site["bearer"], query=query)
    minor = imsx(answer)["imsx_codeMinor"]["imsx_codeMinorField"][0]
    assert (answer.status_code, minor["imsx_codeMinorFieldValue"]) == (400, "invalid_query_parameter")


PROFILE = {"@context": ["https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
           "id": "mailto:jane.doe@example.org", "type": ["Profile"], "name": "Jane Doe"}


@FUZZ
@given(data=st.data())
def test_ob_api_any_json_as_a_credential_or_profile_is_kept_only_when_it_is_one(site, data):
    before = counts(site)
    shape = data.draw(st.sampled_from(["any JSON", "mutated profile", "invalid UTF-8"]))
    if shape == "invalid UTF-8":
        body = data.draw(invalid_utf8)
    else:
        value = data.draw(json_values) if shape == "any JSON" else mutate(data.draw, PROFILE)
        body = json.dumps(value).encode()
    content_type = data.draw(st.sampled_from(["application/json", "application/ld+json", "text/plain"]))
    upsert = _send(site, "POST", PREFIX + "/credentials", body=body, content_type=content_type,
                   headers=site["bearer"])
    imsx(upsert)  # none of these is a credential awarded to Jane
    assert counts(site) == before
    answer = _send(site, "PUT", PREFIX + "/profile", body=body, content_type=content_type, headers=site["bearer"])
    if answer.status_code == 200:
        assert answer.get_json() == json.loads(body)
    else:
        imsx(answer)
        assert counts(site) == before


# -- the OAuth server (/ob/oauth/register, token, revoke): RFC 6749 JSON ------------------------------------


@pytest.mark.parametrize("body, content_type", [
    *BODIES, (json.dumps(BACKPACK).encode(), "text/plain"), (b"x" * 20000, "application/json"),
    (b"", "application/json"),
])
def test_registration_refuses_what_is_no_json_object_and_registers_nothing(site, body, content_type):
    before = counts(site)
    oauth_error(_send(site, "POST", "/ob/oauth/register", body=body, content_type=content_type))
    assert counts(site) == before


_URLS = st.sampled_from(["https://backpack.example/cb", "http://127.0.0.1:8080/cb", "http://[::1]/cb",
                         "http://backpack.example/cb", "javascript:alert(1)", "data:text/html,x", "https://",
                         "https://backpack.example/cb#frag", "//backpack.example", "https://\u202eelpmaxe.com/",
                         "https://a.example:0/", "ftp://a.example/", "https://a.example/" + "a" * 3000,
                         "https://[::1/cb", "https://[bad", "http://[::1]:99999/cb", "http://127.0.0.1:abc/",
                         "https://a.example:99999/cb"])


@pytest.mark.parametrize("name, url", [
    ("redirect_uris", "https://[::1/cb"), ("redirect_uris", "http://[::1]:99999/"), ("client_uri", "https://[bad"),
    ("logo_uri", "http://127.0.0.1:abc/"), ("tos_uri", "https://a.example:99999/"),
    ("redirect_uris", "https://a.example:99999/cb"),
])
def test_registration_urls_whose_host_or_port_cannot_be_read_are_invalid_client_metadata(site, name, url):
    """Found here: urlsplit raises on an unclosed [ and the port on 99999, and registration answered 500."""
    before = counts(site)
    metadata = {**BACKPACK, name: [url] if name == "redirect_uris" else url}
    answer = _send(site, "POST", "/ob/oauth/register", body=json.dumps(metadata).encode(),
                   content_type="application/json")
    assert oauth_error(answer)["error"] == "invalid_client_metadata"
    assert counts(site) == before


@FUZZ
@given(data=st.data())
def test_registration_of_any_metadata_is_a_client_or_invalid_client_metadata(site, data):
    metadata = mutate(data.draw, BACKPACK)
    for name in data.draw(st.lists(st.sampled_from(["redirect_uris", "client_uri", "logo_uri", "tos_uri",
                                                    "policy_uri"]), max_size=2)):
        url = data.draw(_URLS | hostile_text)
        metadata[name] = [url] if name == "redirect_uris" else url
    before = counts(site)
    answer = _send(site, "POST", "/ob/oauth/register", body=json.dumps(metadata).encode(),
                   content_type="application/json")
    if answer.status_code == 201:
        assert counts(site)["ob_clients"] == before["ob_clients"] + 1
        for uri in answer.get_json()["redirect_uris"]:
            parts = urlsplit(uri)
            assert not parts.fragment and (parts.scheme == "https" or parts.hostname in ("127.0.0.1", "::1"))
    else:
        assert oauth_error(answer)["error"] in ("invalid_client_metadata", "invalid_request")
        assert counts(site) == before


@pytest.mark.parametrize("name, value", [("client_name", "Evil\r\nBcc: x@example.org"), ("client_name", "Evil\x00Host"),
                                         ("client_name", "\u202ekcapkcaB"), ("software_id", "a\u200bb"),
                                         ("contacts", ["ops@backpack.example\n"])])
def test_registration_refuses_control_and_invisible_characters_the_learner_would_read(site, name, value):
    """Found here: a client_name with a line break was registered, and the sign-in mail's Subject then could not
    be made (a 500, after the sign-in link was stored); NUL and bidi overrides reached the consent page."""
    before = counts(site)
    answer = _send(site, "POST", "/ob/oauth/register", body=json.dumps({**BACKPACK, name: value}).encode(),
                   content_type="application/json")
    assert oauth_error(answer)["error"] == "invalid_client_metadata"
    assert counts(site) == before


def _basic_values(site):
    known = f"{site['host']['client_id']}:{site['host']['client_secret']}".encode()
    raw = st.binary(max_size=40) | invalid_utf8 | st.sampled_from([known, b":", b"", b"nocolon", b"\x00:\x00",
                                                                     site["host"]["client_id"].encode() + b":wrong"])
    value = raw.map(lambda b: base64.b64encode(b).decode()) | st.sampled_from(["!!!", "", "A" * 5000, "=="])
    return st.builds(lambda kind, v: f"{kind} {v}", st.sampled_from(["Basic", "basic", "Bearer"]), value)


_TOKEN_FIELDS = ("grant_type", "code", "code_verifier", "redirect_uri", "refresh_token", "scope", "client_id",
                 "client_secret", "token", "token_type_hint")


@FUZZ
@given(data=st.data())
def test_token_and_revocation_requests_of_any_shape_get_rfc_6749_answers(site, data):
    """Any form, any Basic header (base64 of bytes that are no UTF-8 among them): a 200 or an OAuth error."""
    values = hostile_text | st.sampled_from(["authorization_code", "refresh_token", "client_credentials",
                                             "urn:ietf:params:oauth:grant-type:pre-authorized_code", REDIRECT,
                                             site["tokens"]["refresh_token"], site["tokens"]["access_token"]])
    form = data.draw(st.fixed_dictionaries({}, optional={name: values for name in _TOKEN_FIELDS}))
    header = data.draw(st.none() | _basic_values(site))
    headers = {"Authorization": header} if header is not None else {}
    before = counts(site)
    for path in ("/ob/oauth/token", "/ob/oauth/revoke"):
        answer = _send(site, "POST", path, body=urlencode(form), headers=headers,
                       content_type="application/x-www-form-urlencoded")
        if answer.status_code != 200:
            body = oauth_error(answer)
            assert body["error"] in ("invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
                                     "unsupported_grant_type", "invalid_scope", "unsupported_token_type")
            assert counts(site)["ob_tokens"] == before["ob_tokens"]


@pytest.mark.parametrize("value", [*("Basic " + base64.b64encode(raw).decode()
                                     for raw in (b"\xff\xfe:\xff", b"\xc3\x28:secret", b"client:\xed\xa0\x80")),
                                   "Basic ", "Bearer ", " "])
def test_authorization_headers_authlib_cannot_read_are_invalid_client(site, value):
    """Found here: Authlib decoded Basic credentials unguarded and split 'Basic ' into one part, and the token
    and revocation endpoints answered 500."""
    header = {"Authorization": value}
    for path, form in (("/ob/oauth/token", {"grant_type": "refresh_token", "refresh_token": "x"}),
                       ("/ob/oauth/revoke", {"token": site["tokens"]["access_token"]})):
        answer = _send(site, "POST", path, body=urlencode(form), headers=header,
                       content_type="application/x-www-form-urlencoded")
        assert (answer.status_code, oauth_error(answer)["error"]) == (401, "invalid_client")
        assert answer.headers["WWW-Authenticate"].startswith("Basic")
    assert _send(site, "GET", PREFIX + "/profile", headers=site["bearer"]).status_code == 200  # not revoked


@pytest.mark.parametrize("body, content_type", [
    (b"\xff\xfe", "application/x-www-form-urlencoded"), (b"%%%%&&&===", "application/x-www-form-urlencoded"),
    (b"grant_type=refresh_token&grant_type=authorization_code", "application/x-www-form-urlencoded"),
    (b"grant_type=refresh_token&refresh_token=%FF%FE", "application/x-www-form-urlencoded"),
    (b"&".join(b"k%d=v" % i for i in range(3000)), "application/x-www-form-urlencoded"),
    (b'{"grant_type": "refresh_token"}', "application/json"), (b"grant_type=x", "text/plain"),
])
def test_token_requests_that_are_no_form_are_refused(site, body, content_type):
    before = counts(site)
    for path in ("/ob/oauth/token", "/ob/oauth/revoke"):
        oauth_error(_send(site, "POST", path, body=body, content_type=content_type,
                          headers=_basic(site["host"]["client_id"], site["host"]["client_secret"])))
    assert counts(site) == before


# -- authorization, sign-in and consent (pages: HTML for a browser, the project's JSON when asked) ---------


@FUZZ
@given(data=st.data())
def test_authorization_requests_of_any_shape_never_redirect_anywhere_unregistered(site, data):
    """A hostile value in any parameter: the sign-in page, a 400 with a code, or a redirect to the host's
    registered URI with an error; a sign-in link is stored only for a real address sent by POST."""
    query, _ = _authorize_query(site)
    params = dict(parse_qs(query))
    for name in data.draw(st.lists(st.sampled_from([*params, "request", "request_uri", "prompt"]), min_size=1,
                                   max_size=3)):
        params[name] = [data.draw(hostile_text | st.sampled_from(["https://evil.example/cb", "token", "plain"]))]
    method = data.draw(st.sampled_from(["GET", "POST"]))
    email = data.draw(st.sampled_from([JANE, "", "not an address", "ja\r\nne@example.org", "a@b"]) | hostile_text)
    before = counts(site)
    answer = site["client"].open(f"/ob/oauth/authorize?{urlencode(params, doseq=True)}", method=method,
                                 data={"email": email}, headers={"Accept": "application/json"}, base_url=BASE)
    assert answer.status_code in (200, 302, 400), answer.get_data(as_text=True)[:300]
    if answer.status_code == 302:
        location = answer.headers["Location"]
        assert location.startswith(REDIRECT + "?") and "error=" in location, location
    elif answer.status_code == 400 and answer.mimetype == "application/json":
        assert project_error(answer)["code"] == "OB_AUTHORIZATION_INVALID"
    stored = counts(site)["ob_sign_ins"] - before["ob_sign_ins"]
    assert stored == (1 if method == "POST" and answer.status_code == 200 and "Check your e-mail" in
                      answer.get_data(as_text=True) else 0)


@pytest.mark.parametrize("email", ["ja\x00ne@example.org", "\u202ejane.doe@example.org", "jane\u200b@example.org",
                                   "ja\x1bne@example.org", "jane.doe@example.org\r\nBcc: x@example.org"])
def test_sign_in_refuses_addresses_with_control_or_invisible_characters(site, email):
    """Found here: normalise_email let NUL, ESC, bidi overrides and zero widths through the local part, and the
    sign-in page stored the link and mailed it to such an address."""
    query, _ = _authorize_query(site)
    before, sent = counts(site), len(site["mails"])
    answer = site["client"].post(f"/ob/oauth/authorize?{query}", data={"email": email}, base_url=BASE)
    assert answer.status_code == 400 and "Type the address your badges were sent to" in answer.get_data(as_text=True)
    assert counts(site) == before and len(site["mails"]) == sent


@pytest.mark.parametrize("token", ["x", "x" * 20, "x" * 100, "x" * 101, "\u202e" * 30, "%00" * 30, "a/b",
                                   "..", "%FF" * 25])
def test_sign_in_links_that_were_never_made_are_404_and_spend_nothing(site, token):
    before = counts(site)
    for method in ("GET", "POST"):
        answer = site["client"].open(f"/ob/sign-in/{token}", method=method, data={"decision": "allow"},
                                     headers={"Accept": "application/json"}, base_url=BASE)
        assert answer.status_code == 404
        assert project_error(answer)["code"] in ("OB_SIGN_IN_INVALID", "NOT_FOUND")
    assert counts(site) == before


@pytest.mark.parametrize("method, path", [("GET", "/ob/oauth/register"), ("GET", "/ob/oauth/token"),
                                          ("PUT", "/ob/oauth/revoke"), ("PUT", "/wallet/exchanges/x"),
                                          ("DELETE", "/wallet/exchanges/x")])
def test_wrong_methods_at_machine_read_endpoints_are_json_whatever_accept_says(site, method, path):
    """Found here: the routing's 405 has no blueprint, so these answered an HTML page to a JSON client."""
    answer = _send(site, method, path, headers={"Accept": "text/html"})
    assert (answer.status_code, project_error(answer)["code"]) == (405, "METHOD_NOT_ALLOWED")


def test_a_sign_in_link_gives_one_code_however_often_it_is_posted(site):
    path, _ = _sign_in_link(site)
    before = counts(site)
    first = site["client"].post(path, data={"decision": ["allow", "deny"]}, base_url=BASE)
    assert first.status_code == 302
    for _ in range(3):
        again = site["client"].post(path, data={"decision": "allow"}, headers={"Accept": "application/json"},
                                    base_url=BASE)
        assert project_error(again)["code"] == "OB_SIGN_IN_INVALID"
    assert counts(site)["ob_codes"] - before["ob_codes"] <= 1


def test_a_replayed_code_gives_no_second_token(site):
    code, verifier = _code(site)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    auth = _basic(site["host"]["client_id"], site["host"]["client_secret"])
    first = _send(site, "POST", "/ob/oauth/token", body=urlencode(form), headers=auth,
                  content_type="application/x-www-form-urlencoded")
    assert first.status_code == 200
    before = counts(site)
    replay = _send(site, "POST", "/ob/oauth/token", body=urlencode(form), headers=auth,
                   content_type="application/x-www-form-urlencoded")
    assert oauth_error(replay)["error"] == "invalid_grant"
    assert counts(site)["ob_tokens"] == before["ob_tokens"]


# -- replays racing each other: one winner, one row ---------------------------------------------------------


def racing(site, send, n: int = 6) -> list:
    """``send(client, i)`` from ``n`` threads at once (each with its own test client), released together."""
    answers: list = [None] * n
    start = threading.Barrier(n)

    def run(i: int) -> None:
        client = site["app"].test_client()
        start.wait()
        answers[i] = send(client, i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return answers


def test_one_refresh_token_sent_by_racing_requests_gives_one_token(site):
    """Found here: the refresh token was read as unspent by every racing request and revoked after the new
    token was saved, so six requests at once got six tokens from a refresh token that is good once."""
    code, verifier = _code(site)
    auth = _basic(site["host"]["client_id"], site["host"]["client_secret"])
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    tokens = site["client"].post("/ob/oauth/token", headers=auth, base_url=BASE, data=form).get_json()
    before = counts(site)
    answers = racing(site, lambda client, i: client.post("/ob/oauth/token", headers=auth, base_url=BASE, data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}))
    assert sorted(a.status_code for a in answers) == [200, 400, 400, 400, 400, 400]
    assert {oauth_error(a)["error"] for a in answers if a.status_code == 400} == {"invalid_grant"}
    assert counts(site)["ob_tokens"] == before["ob_tokens"] + 1


def test_one_code_or_sign_in_link_sent_by_racing_requests_gives_one_grant(site):
    path, verifier = _sign_in_link(site)
    before = counts(site)
    answers = racing(site, lambda client, i: client.post(path, data={"decision": "allow"}, base_url=BASE))
    assert sorted(a.status_code for a in answers) == [302, 404, 404, 404, 404, 404]
    assert counts(site)["ob_codes"] == before["ob_codes"] + 1
    code = parse_qs(urlsplit(next(a for a in answers if a.status_code == 302).headers["Location"]).query)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    auth = _basic(site["host"]["client_id"], site["host"]["client_secret"])
    answers = racing(site, lambda client, i: client.post("/ob/oauth/token", data=form, headers=auth, base_url=BASE))
    assert sorted(a.status_code for a in answers) == [200, 400, 400, 400, 400, 400]
    assert counts(site)["ob_tokens"] == before["ob_tokens"] + 1


def test_one_credential_upserted_by_racing_requests_is_kept_once(site):
    held = _send(site, "GET", PREFIX + "/credentials", headers=site["bearer"], query="limit=1").get_json()
    credential = held["credential"][0]
    before = counts(site)["hosted_credentials"]
    answers = racing(site, lambda client, i: client.post(PREFIX + "/credentials", json=credential,
                                                          headers=site["bearer"], base_url=BASE))
    assert {a.status_code for a in answers} <= {200, 201, 304}
    assert counts(site)["hosted_credentials"] - before <= 1


# -- OID4VCI (/.well-known, /oid4vci/...): the specification's JSON errors ---------------------------------


def _offer(site, **kwargs) -> claims.Offer:
    return claims.create_offer(site["issuer"], site["ids"]["course"], protocol="oid4vci", **kwargs)


def _access_token(site, offer) -> str:
    answer = _send(site, "POST", "/oid4vci/token", body=urlencode({"grant_type": PRE_AUTHORIZED_GRANT,
                                                                   "pre-authorized_code": offer.secret}),
                   content_type="application/x-www-form-urlencoded")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return answer.get_json()["access_token"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signed(key: KeyPair, payload: bytes, header: dict | None = None) -> str:
    """A compact JWS whose signature is good, over any payload bytes: the claims are what is hostile."""
    header = header or {"alg": "EdDSA", "typ": "openid4vci-proof+jwt",
                        "kid": f"{key.did_key}#{key.did_key.removeprefix('did:key:')}"}
    signing_input = _b64(json.dumps(header).encode()) + "." + _b64(payload)
    return signing_input + "." + _b64(key.sign(signing_input.encode()))


def _nonce(site) -> str:
    return _send(site, "POST", "/oid4vci/nonce").get_json()["c_nonce"]


@pytest.mark.parametrize("method, path", [
    ("POST", "/.well-known/openid-credential-issuer"), ("DELETE", "/.well-known/oauth-authorization-server"),
    ("GET", "/oid4vci/token"), ("GET", "/oid4vci/nonce"), ("PUT", "/oid4vci/credential"),
    ("POST", "/oid4vci/offers/x"), ("GET", "/oid4vci/nope"),
])
def test_oid4vci_wrong_methods_and_addresses_are_json(site, method, path):
    project_error(_send(site, method, path, headers={"Accept": "text/html"}))


@pytest.mark.parametrize("code", ["x", "x" * 5000, "\u202e", "%00", "..%2F..%2Fetc"])
def test_oid4vci_offers_that_were_never_made_are_refused(site, code):
    before = counts(site)
    for path in (f"/oid4vci/offers/{code}", f"/oid4vci/offers/{code}/qr.png", f"/oid4vci/offers/{code}/qr.svg",
                 f"/oid4vci/offers/{code}/qr.gif"):
        answer = _send(site, "GET", path)
        assert answer.status_code == 404
        # The offer object answers in OAuth's shape; a QR code, or an address no route matches, in ours.
        body = answer.get_json()
        assert (oauth_error if isinstance(body.get("error"), str) else project_error)(answer)
    assert counts(site) == before


@pytest.mark.parametrize("body, content_type", [
    *BODIES, (b"a=" + b"x" * 70000, "application/x-www-form-urlencoded"),
    (b"&".join(b"k%d=v" % i for i in range(50)), "application/x-www-form-urlencoded"),
    (b'{"grant_type": 5, "pre-authorized_code": ["x"]}', "application/json"), (b"x", "text/plain"),
])
def test_oid4vci_token_requests_that_cannot_be_read_are_invalid_request(site, body, content_type):
    before = counts(site)
    assert oauth_error(_send(site, "POST", "/oid4vci/token", body=body, content_type=content_type))["error"] in \
        ("invalid_request", "unsupported_grant_type")
    assert counts(site) == before


@FUZZ
@given(data=st.data())
def test_oid4vci_token_requests_of_any_shape_are_a_token_or_an_oauth_error(site, data):
    offer = _offer(site, tx_code=data.draw(st.booleans()))
    strings = hostile_text | st.sampled_from([PRE_AUTHORIZED_GRANT, offer.secret, offer.tx_code or "123456"])
    params = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": offer.secret}
    for name in data.draw(st.lists(st.sampled_from(["grant_type", "pre-authorized_code", "tx_code", "user_pin",
                                                    "client_id"]), max_size=3)):
        params[name] = data.draw(strings | json_values)
    if data.draw(st.booleans()):
        answer = _send(site, "POST", "/oid4vci/token", body=json.dumps(params).encode(),
                       content_type="application/json")
    else:
        form = {name: value for name, value in params.items() if isinstance(value, str)}
        answer = _send(site, "POST", "/oid4vci/token", body=urlencode(form),
                       content_type="application/x-www-form-urlencoded")
    if answer.status_code == 200:
        assert answer.get_json()["token_type"] == "Bearer"
    else:
        assert oauth_error(answer)["error"] in ("invalid_request", "invalid_grant", "unsupported_grant_type")


@FUZZ
@given(data=st.data())
def test_credential_requests_with_any_proof_claims_are_refused_or_issue_once(site, data):
    """Proofs with good signatures over hostile claims (aud, iat, nonce of any JSON, 1e400 among them) and
    requests of any shape: an OAuth error and no copy, or one copy; the offer never gives a second."""
    key = KeyPair.generate()  # a new holder each time: one holder's second claim is its first copy again
    offer = _offer(site)
    access = _access_token(site, offer)
    claims_ = {"aud": BASE, "iat": int(time.time()), "nonce": _nonce(site)}
    for name in data.draw(st.lists(st.sampled_from(["aud", "iat", "nonce", "exp", "iss"]), max_size=2)):
        claims_[name] = data.draw(json_values | st.sampled_from(["1e400", -10**400, 10**30]))
    payload = data.draw(st.sampled_from(["claims", "raw"]))
    raw = (json.dumps(claims_).replace('"1e400"', "1e400").encode() if payload == "claims"
           else data.draw(invalid_utf8 | st.sampled_from([b"[]", b"1", b'{"iat": -1e400}', b'{"iat": 1e400}'])))
    jwt = _signed(key, raw)
    request = data.draw(st.sampled_from([
        {"credential_configuration_id": LDP_VC, "proofs": {"jwt": [jwt]}},
        {"credential_configuration_id": JWT_VC_JSON, "proof": {"proof_type": "jwt", "jwt": jwt}},
    ]))
    request = mutate(data.draw, request) if data.draw(st.booleans()) else request
    before = counts(site)
    answer = _send(site, "POST", "/oid4vci/credential", body=json.dumps(request).encode(),
                   content_type="application/json", headers={"Authorization": f"Bearer {access}"})
    if answer.status_code == 200:
        assert counts(site)["wallet_copies"] == before["wallet_copies"] + 1
        again = _send(site, "POST", "/oid4vci/credential", body=json.dumps(request).encode(),
                      content_type="application/json", headers={"Authorization": f"Bearer {access}"})
        oauth_error(again)
        assert counts(site)["wallet_copies"] == before["wallet_copies"] + 1
    else:
        oauth_error(answer)
        assert counts(site) == before


@pytest.mark.parametrize("iat", ["-1e400", "1e400", "-1" + "0" * 400, "1" + "0" * 400, "-1e300"])
def test_a_proof_whose_iat_overflows_is_invalid_proof(site, iat):
    """Found here: 1e400 reads as an infinite float and -10**400 as an int no float holds, and the proof's age
    check answered 500."""
    access = _access_token(site, _offer(site))
    jwt = _signed(KeyPair.from_seed(bytes([8]) * 32),
                  f'{{"aud": "{BASE}", "iat": {iat}, "nonce": "{_nonce(site)}"}}'.encode())
    answer = _send(site, "POST", "/oid4vci/credential", body=json.dumps(
        {"credential_configuration_id": LDP_VC, "proofs": {"jwt": [jwt]}}).encode(),
        content_type="application/json", headers={"Authorization": f"Bearer {access}"})
    assert oauth_error(answer)["error"] == "invalid_proof"


def test_two_tokens_for_one_offer_and_a_replayed_proof_give_one_credential(site):
    key = KeyPair.from_seed(bytes([9]) * 32)
    offer = _offer(site)
    first, second = _access_token(site, offer), _access_token(site, offer)
    before = counts(site)
    jwt = _signed(key, json.dumps({"aud": BASE, "iat": int(time.time()), "nonce": _nonce(site)}).encode())
    body = json.dumps({"credential_configuration_id": LDP_VC, "proofs": {"jwt": [jwt]}}).encode()
    answers = [_send(site, "POST", "/oid4vci/credential", body=body, content_type="application/json",
                     headers={"Authorization": f"Bearer {token}"}) for token in (first, second, first)]
    assert answers[0].status_code == 200
    assert [oauth_error(a)["error"] for a in answers[1:]] == ["invalid_nonce", "invalid_nonce"]
    fresh = _signed(key, json.dumps({"aud": BASE, "iat": int(time.time()), "nonce": _nonce(site)}).encode())
    late = _send(site, "POST", "/oid4vci/credential", content_type="application/json",
                 body=json.dumps({"credential_configuration_id": LDP_VC, "proofs": {"jwt": [fresh]}}).encode(),
                 headers={"Authorization": f"Bearer {second}"})
    assert (late.status_code, oauth_error(late)["error"]) == (401, "invalid_token")
    assert counts(site)["wallet_copies"] == before["wallet_copies"] + 1


def test_one_offer_claimed_by_racing_wallets_gives_one_copy(site):
    offer = _offer(site)
    tokens = [_access_token(site, offer) for _ in range(6)]
    bodies = []
    for _ in tokens:
        jwt = _signed(KeyPair.generate(), json.dumps({"aud": BASE, "iat": int(time.time()),
                                                      "nonce": _nonce(site)}).encode())
        bodies.append({"credential_configuration_id": LDP_VC, "proofs": {"jwt": [jwt]}})
    before = counts(site)
    answers = racing(site, lambda client, i: client.post("/oid4vci/credential", json=bodies[i], base_url=BASE,
                                                          headers={"Authorization": f"Bearer {tokens[i]}"}))
    assert sorted(a.status_code for a in answers) == [200, 401, 401, 401, 401, 401]
    assert counts(site)["wallet_copies"] == before["wallet_copies"] + 1
    vcapi = claims.create_offer(site["issuer"], site["ids"]["course"], protocol="vcapi")
    answers = racing(site, lambda client, i: client.post(f"/wallet/exchanges/{vcapi.secret}", json={}, base_url=BASE))
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409, 409, 409]
    assert counts(site)["wallet_copies"] == before["wallet_copies"] + 2


def test_racing_guesses_of_an_offers_pin_are_five_at_most(site):
    """Found here: each guess read the failure count before any of them wrote it, so a burst of twelve wrong
    PINs at once was twelve guesses (five is the limit), at the OID4VCI token endpoint and the claim page."""
    offer = _offer(site, tx_code=True)
    wrong = "000000" if offer.tx_code != "000000" else "111111"
    form = urlencode({"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": offer.secret, "tx_code": wrong})
    answers = racing(site, lambda client, i: client.post("/oid4vci/token", data=form, base_url=BASE,
                                                          content_type="application/x-www-form-urlencoded"), n=12)
    assert [oauth_error(a)["code"] for a in answers].count("TX_CODE_WRONG") == 5
    right = _send(site, "POST", "/oid4vci/token", content_type="application/x-www-form-urlencoded", body=urlencode(
        {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": offer.secret, "tx_code": offer.tx_code}))
    assert oauth_error(right)["code"] == "OFFER_USED"  # closed by the fifth wrong one
    page = wallet_links.claim_page(site["issuer"], site["ids"]["literacy"])
    path, wrong = urlsplit(page.url).path, "000000" if page.pin != "000000" else "111111"
    answers = racing(site, lambda client, i: client.post(path, data={"pin": wrong}, base_url=BASE), n=12)
    assert sorted(a.status_code for a in answers) == [400] * 5 + [409] * 7
    assert site["client"].post(path, data={"pin": page.pin}, base_url=BASE).status_code == 409


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer x", "Bearer " + "x" * 5000, "Basic abc", "Bearer a.b.c",
                                    "Bearer \u202e", "DPoP x", "Bearer bsv1.", "Bearer bsv1." + "A" * 200])
def test_credential_requests_without_a_real_token_are_invalid_token(site, header):
    answer = _send(site, "POST", "/oid4vci/credential", body=b"{}", content_type="application/json",
                   headers={"Authorization": header})
    assert (answer.status_code, oauth_error(answer)["error"]) == (401, "invalid_token")


# -- the VC-API wallet exchange (/wallet/exchanges/...): the project's JSON ----------------------------------


PRESENTATION = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
                "holder": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
                "proof": {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022",
                          "proofPurpose": "authentication", "challenge": "x", "proofValue": "z1111",
                          "verificationMethod": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#"
                                                "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}}


@pytest.mark.parametrize("body, content_type", [*BODIES, (b"x" * (3 * 1024 * 1024), "application/json"),
                                                (b"{}", "text/plain"),  # was claimed like JSON's {}
                                                (b'{"verifiablePresentation": 5}', "application/json"),
                                                (b'{"verifiablePresentation": null, "x": 1}', "application/json")])
def test_the_exchange_refuses_bodies_it_cannot_read_and_the_offer_stays_open(site, body, content_type):
    offer = claims.create_offer(site["issuer"], site["ids"]["course"], protocol="vcapi")
    before = counts(site)
    project_error(_send(site, "POST", f"/wallet/exchanges/{offer.secret}", body=body, content_type=content_type))
    assert counts(site) == before
    assert _send(site, "GET", f"/wallet/exchanges/{offer.secret}").status_code == 200


@FUZZ
@given(data=st.data())
def test_the_exchange_with_any_presentation_shape_gives_at_most_one_copy(site, data):
    offer = claims.create_offer(site["issuer"], site["ids"]["course"], protocol="vcapi")
    presentation = mutate(data.draw, {**PRESENTATION, "proof": {**PRESENTATION["proof"], "challenge": offer.challenge}})
    body = presentation if data.draw(st.booleans()) else {"verifiablePresentation": presentation}
    before = counts(site)
    path = f"/wallet/exchanges/{offer.secret}"
    answer = _send(site, "POST", path, body=json.dumps(body).encode(), content_type="application/json")
    if answer.status_code == 200:  # only {} and its like claim without a proof: the unbound copy
        assert counts(site)["wallet_copies"] == before["wallet_copies"] + 1
        assert project_error(_send(site, "POST", path, body=b"{}", content_type="application/json"))["code"] == \
            "OFFER_USED"
    else:
        project_error(answer)
        assert counts(site) == before


@pytest.mark.parametrize("secret", ["x", "x" * 5000, "\u202e", "%00"])
def test_exchanges_that_were_never_made_are_offer_unknown(site, secret):
    for method in ("GET", "POST"):
        answer = _send(site, method, f"/wallet/exchanges/{secret}", body=b"{}", content_type="application/json")
        assert project_error(answer)["code"] == "OFFER_UNKNOWN"


def test_an_oid4vci_secret_is_no_exchange(site):
    offer = _offer(site)
    before = counts(site)
    answer = _send(site, "POST", f"/wallet/exchanges/{offer.secret}", body=b"{}", content_type="application/json")
    assert project_error(answer)["code"] == "OFFER_UNKNOWN"
    assert counts(site) == before


# -- the learner's wallet page and claim pages: pages; nothing made on a refusal -----------------------------


def _uuid(credential_id: str) -> str:
    return credential_id.removeprefix("urn:uuid:")


def test_the_wallet_page_makes_offers_only_for_the_learners_current_badges(site):
    token, _ = learners.create_link(site["issuer"], JANE)
    ids = site["ids"]
    refused = [f"/learners/{token}/wallet/{_uuid(ids['sam'])}", f"/learners/{token}/wallet/{_uuid(ids['revoked'])}",
               f"/learners/{token}/wallet/{_uuid(ids['suspended'])}", f"/learners/{token}/wallet/x",
               f"/learners/{token}/wallet/{'x' * 5000}", f"/learners/{token}/wallet/%00",
               f"/learners/{token}/wallet/\u202e", f"/learners/{token}/wallet/{_uuid(ids['course']).upper()}",
               f"/learners/x/wallet/{_uuid(ids['course'])}", f"/learners/{'x' * 5000}/wallet/x"]
    before = counts(site)
    for path in refused:
        answer = _send(site, "GET", path, headers={"Accept": "application/json"})
        assert answer.status_code in (404, 409), path
        project_error(answer)
        assert project_error(_send(site, "POST", path, headers={"Accept": "application/json"}))["code"] == \
            "METHOD_NOT_ALLOWED"
    assert counts(site) == before
    assert _send(site, "GET", f"/learners/{token}/wallet/{_uuid(ids['course'])}").status_code == 200
    assert counts(site)["wallet_offers"] == before["wallet_offers"] + 2


@FUZZ
@given(pin=hostile_text | st.sampled_from(["000000", "12345", "1234567", "١٢٣٤٥٦"]),
       action=st.sampled_from([None, "open", "email-pin", "\u202e"]))
def test_claim_pages_take_any_pin_and_open_only_with_the_right_one(site, pin, action):
    page = wallet_links.claim_page(site["issuer"], site["ids"]["literacy"])
    path = urlsplit(page.url).path
    form = {"pin": pin, **({"action": action} if action else {})}
    before = counts(site)
    answer = _send(site, "POST", path, body=urlencode(form), content_type="application/x-www-form-urlencoded",
                   headers={"Accept": "application/json"})
    assert answer.status_code < 500, answer.get_data(as_text=True)[:300]
    if pin.strip()[:20] == page.pin and action != "email-pin":
        assert answer.status_code == 200
    else:
        assert answer.status_code in (200, 400, 429) and counts(site)["wallet_offers"] == before["wallet_offers"]
    assert _send(site, "POST", path, body=b"\xff\xfe", content_type="application/x-www-form-urlencoded",
                 headers={"Accept": "application/json"}).status_code < 500


# -- the association catalog (/catalog, /catalog.json, entry pages) ----------------------------------------


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    from tests.issuer.association.three_divisions import add_leadership_pathway, build_association

    root = tmp_path_factory.mktemp("hostile-catalog")
    divisions = build_association(root)
    add_leadership_pathway(divisions, root / "association-files")
    app = create_app({"HOME": str(divisions.association.issuer.settings.home), "RATE_LIMIT": "off",
                      "TESTING": True})
    yield app.test_client()
    app.extensions["badgesmith"].issuer.close()
    divisions.close()


_CATALOG_PARAMETERS = ["q", "division", "kind", "type", "tag", "alignment", "ceus_min", "ceus_max", "page", "other"]


@FUZZ
@given(params=st.lists(st.tuples(st.sampled_from(_CATALOG_PARAMETERS), _QUERY_VALUES | st.sampled_from(
    ["nan", "inf", "-inf", "1e400", "-0", "1_0", "pathway", "achievement", "a " * 30])), max_size=4))
def test_catalog_searches_of_any_shape_are_results_or_catalog_query_invalid(catalog, params):
    query = urlencode(params)
    feed = catalog.get(f"/catalog.json?{query}")
    if feed.status_code == 200:
        body = feed.get_json()
        assert body["total"] == len(body["entries"])
    else:
        assert (feed.status_code, project_error(feed)["code"]) == (400, "CATALOG_QUERY_INVALID")
    page = catalog.get(f"/catalog?{query}")
    assert page.status_code == feed.status_code and page.mimetype == "text/html"


@FUZZ
@given(division=st.integers(-10, 10**30).map(str) | hostile_text, slug=hostile_text,
       pathway=st.booleans())
def test_catalog_entries_of_any_address_are_a_page_or_404(catalog, division, slug, pathway):
    from urllib.parse import quote

    path = f"/catalog/{quote(division, safe='')}/{'pathways/' if pathway else ''}{quote(slug, safe='')}"
    answer = catalog.get(path, headers={"Accept": "application/json"})
    if answer.status_code != 200:
        assert answer.status_code == 404
        project_error(answer)


@pytest.mark.parametrize("query", ["page=\u0661", "division=\uff11", "ceus_min=\uff11", "ceus_max=\u0661.5"])
def test_catalog_numbers_are_ascii_digits_only(catalog, query):
    """Found here: \\d matched any script's digits, and int() and float() read "１" (fullwidth) as 1."""
    answer = catalog.get(f"/catalog.json?{query}")
    assert (answer.status_code, project_error(answer)["code"]) == (400, "CATALOG_QUERY_INVALID")


def test_the_feeds_wrong_method_is_json_whatever_accept_says(catalog):
    answer = catalog.post("/catalog.json", headers={"Accept": "text/html"})
    assert (answer.status_code, project_error(answer)["code"]) == (405, "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_the_catalog_takes_nothing(catalog, method):
    for path in ("/catalog", "/catalog.json", "/catalog/1/x"):
        answer = catalog.open(path, method=method, headers={"Accept": "application/json"})
        assert project_error(answer)["code"] == "METHOD_NOT_ALLOWED"
