"""Another OAuth 2.0 implementation plays the learner's host: Authlib's requests client (OAuth2Session).

It finds our endpoints in the discovery document, registers (plain JSON POST: Authlib has no registration
client), runs the authorization code flow with PKCE S256 (its own verifier, challenge, state check and
client_secret_basic), reads credentials and the profile, refreshes and revokes. The learner is the same
browser-driven flow as in test_ob_api.py. Also here: sign-in mail over a real SMTP relay, the printed link
of a test deployment, and the sign-in rate limit.
"""

from __future__ import annotations

import re
import time

import pytest
import requests
from aiosmtpd.controller import Controller
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from tests.issuer.web.ob_host import ALL_SCOPES, BACKPACK, JANE, Browser, free_port, pkce, serve_site


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = serve_site(tmp_path_factory.mktemp("ob-clients") / "instance")
    yield site
    site.stop()


def _discover(site) -> dict:
    document = requests.get(site.base + "/ims/ob/v3p0/discovery", timeout=30).json()
    scheme = document["components"]["securitySchemes"]["OAuth2ACG"]
    return {"api": document["servers"][0]["url"], "register": scheme["x-imssf-registrationUrl"],
            **scheme["flows"]["authorizationCode"]}


def test_authlib_oauth2_session_plays_the_host(site):
    found = _discover(site)
    registration = requests.post(found["register"], json=BACKPACK, timeout=30).json()
    session = OAuth2Session(registration["client_id"], registration["client_secret"], scope=ALL_SCOPES,
                            redirect_uri=BACKPACK["redirect_uris"][0], code_challenge_method="S256",
                            token_endpoint_auth_method="client_secret_basic")
    verifier = generate_token(48)
    url, state = session.create_authorization_url(found["authorizationUrl"], code_verifier=verifier)
    location = Browser(site).authorize(url)
    token = session.fetch_token(found["tokenUrl"], authorization_response=location, code_verifier=verifier)
    assert token["refresh_token"] and token["expires_in"] == 3600
    credentials = session.get(found["api"] + "/credentials", params={"limit": 3}, timeout=30)
    assert credentials.status_code == 200 and len(credentials.json()["credential"]) == 3
    assert int(credentials.headers["X-Total-Count"]) > 3 and 'rel="next"' in credentials.headers["Link"]
    assert session.get(found["api"] + "/profile", timeout=30).json()["email"] == JANE
    old = token["access_token"]
    fresh = session.refresh_token(found["refreshUrl"])
    assert fresh["access_token"] != old
    assert session.get(found["api"] + "/credentials", timeout=30).status_code == 200
    revoke_url = found["tokenUrl"].rsplit("/", 1)[0] + "/revoke"
    assert session.revoke_token(revoke_url, token=fresh["access_token"]).status_code == 200
    assert session.get(found["api"] + "/credentials", timeout=30).status_code == 401


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(envelope.content)
        return "250 OK"


def test_the_sign_in_link_goes_through_the_smtp_relay(tmp_path):
    """No mailer injected: the instance's [smtp] relay (a real SMTP server on loopback) carries the link."""
    inbox, port = _Inbox(), free_port()
    relay = Controller(inbox, hostname="127.0.0.1", port=port)
    relay.start()
    try:
        site = serve_site(tmp_path / "instance", smtp_port=port, OB_SIGN_IN_MAILER=None)
        registration = requests.post(site.base + "/ob/oauth/register", json=BACKPACK, timeout=30).json()
        verifier, challenge = pkce()
        url = site.base + "/ob/oauth/authorize?" + requests.compat.urlencode({
            "response_type": "code", "client_id": registration["client_id"], "scope": ALL_SCOPES,
            "redirect_uri": BACKPACK["redirect_uris"][0], "state": "x", "code_challenge": challenge,
            "code_challenge_method": "S256"})
        browser = requests.Session()
        page = browser.get(url, timeout=30)
        action = re.search(r'action="([^"]+)"', page.text).group(1).replace("&amp;", "&")
        answer = browser.post(site.base + action, data={"email": JANE}, timeout=30)
        assert answer.status_code == 200 and "Check your e-mail" in answer.text
        for _ in range(50):
            if inbox.messages:
                break
            time.sleep(0.1)
        text = inbox.messages[0].decode()
        assert f"To: {JANE}" in text and "From: Lakeshore Library Association <ce-office@lakeshore.example>" in text
        link = re.search(r"(http://\S+/ob/sign-in/\S+)", text).group(1)
        consent = browser.get(link, timeout=30)
        assert consent.status_code == 200 and "Allow Example Backpack" in consent.text
        site.stop()
    finally:
        relay.stop()


def test_a_test_deployment_prints_the_sign_in_link(tmp_path, capfd):
    site = serve_site(tmp_path / "instance", OB_SIGN_IN="print", OB_SIGN_IN_MAILER=None)
    try:
        registration = requests.post(site.base + "/ob/oauth/register", json=BACKPACK, timeout=30).json()
        url = site.base + "/ob/oauth/authorize?" + requests.compat.urlencode({
            "response_type": "code", "client_id": registration["client_id"], "scope": ALL_SCOPES,
            "redirect_uri": BACKPACK["redirect_uris"][0], "code_challenge": pkce()[1],
            "code_challenge_method": "S256"})
        answer = requests.post(url, data={"email": JANE}, timeout=30)
        assert answer.status_code == 200
        printed = capfd.readouterr().err
        link = re.search(rf"sign-in link for {re.escape(JANE)} \(valid 15 minutes\): (\S+)", printed).group(1)
        assert requests.get(link, timeout=30).status_code == 200
    finally:
        site.stop()


def test_sign_in_mails_and_registrations_are_rate_limited(tmp_path):
    site = serve_site(tmp_path / "instance", OB_SIGN_IN_RATE_LIMIT="2/hour", OB_REGISTER_RATE_LIMIT="2/hour")
    try:
        registration = requests.post(site.base + "/ob/oauth/register", json=BACKPACK, timeout=30).json()
        assert requests.post(site.base + "/ob/oauth/register", json=BACKPACK, timeout=30).status_code == 201
        third = requests.post(site.base + "/ob/oauth/register", json=BACKPACK, timeout=30)
        assert third.status_code == 429 and third.headers["Retry-After"] and third.json()["error"]
        url = site.base + "/ob/oauth/authorize?" + requests.compat.urlencode({
            "response_type": "code", "client_id": registration["client_id"], "scope": ALL_SCOPES,
            "redirect_uri": BACKPACK["redirect_uris"][0], "code_challenge": pkce()[1],
            "code_challenge_method": "S256"})
        answers = [requests.post(url, data={"email": JANE.upper()}, timeout=30) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert answers[2].headers["Retry-After"] and len(site.mails) == 2
        # Another address is not held back by Jane's budget.
        assert requests.post(url, data={"email": "sam.lee@example.org"}, timeout=30).status_code == 200
        bad = requests.post(url, data={"email": "not an address"}, timeout=30)
        assert bad.status_code == 400 and 'aria-invalid="true"' in bad.text and len(site.mails) == 3
    finally:
        site.stop()
