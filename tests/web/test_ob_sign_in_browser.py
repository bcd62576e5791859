"""The Open Badges API's sign-in, check-your-mail and consent pages in real headless Chromium, at 1280 px and
390 px: screenshots, no sideways scroll, an axe-core scan; then, without bypassing the page's
Content-Security-Policy, the learner clicks Allow and Chromium follows the redirect to the host's loopback
address (the page's form-action names it), which receives the code.
"""

from __future__ import annotations

import re

import pytest
import requests

from issuer.records.push import LoopbackReceiver
from tests.issuer.web.ob_host import ALL_SCOPES, BACKPACK, JANE, pkce, serve_site

from .test_public_face_browser import _check, shots, tab  # noqa: F401 (shots, tab: the fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def ob_site(tmp_path_factory):
    site = serve_site(tmp_path_factory.mktemp("ob-browser") / "instance")
    client = requests.post(site.base + "/ob/oauth/register", timeout=30, json={
        **BACKPACK, "logo_uri": site.base + "/static/ob-api.svg", "redirect_uris": ["http://127.0.0.1/callback"]}
    ).json()
    yield site, client
    site.stop()


def _authorization_url(site, client, redirect_uri: str, state: str = "st-1") -> str:
    return site.base + "/ob/oauth/authorize?" + requests.compat.urlencode({
        "response_type": "code", "client_id": client["client_id"], "redirect_uri": redirect_uri,
        "scope": ALL_SCOPES, "state": state, "code_challenge": pkce()[1], "code_challenge_method": "S256"})


def test_sign_in_and_consent_pages_pass_the_scan(tab, ob_site, shots):
    site, client = ob_site
    tab.goto(_authorization_url(site, client, "http://127.0.0.1:9/callback"))
    assert tab.get_by_role("heading", level=1).inner_text() == "Connect Example Backpack to your badges"
    _check(tab, shots, "ob-sign-in")
    tab.get_by_label("Your e-mail address").fill("not an address")
    tab.get_by_role("button", name="E-mail me a sign-in link").click()
    assert tab.get_by_role("alert").is_visible()
    _check(tab, shots, "ob-sign-in-error")
    tab.get_by_label("Your e-mail address").fill(JANE)
    tab.get_by_role("button", name="E-mail me a sign-in link").click()
    assert tab.get_by_role("heading", level=1).inner_text() == "Check your e-mail"
    _check(tab, shots, "ob-check-mail")
    link = re.search(r"(http://\S+/ob/sign-in/\S+)", site.mails[-1].get_content()).group(1)
    tab.goto(link)
    assert tab.get_by_role("heading", level=1).inner_text() == "Allow Example Backpack to reach your badges?"
    assert tab.get_by_role("listitem").filter(has_text="read the badges and credentials you hold here").count() == 1
    _check(tab, shots, "ob-consent")


def test_allow_sends_chromium_back_to_the_host_under_the_pages_own_csp(browser, ob_site):
    site, client = ob_site
    context = browser.new_context()  # the real CSP: form-action must name the host's redirect address
    page = context.new_page()
    try:
        with LoopbackReceiver() as receiver:
            page.goto(_authorization_url(site, client, receiver.redirect_uri, state="st-2"))
            page.get_by_label("Your e-mail address").fill(JANE)
            page.get_by_role("button", name="E-mail me a sign-in link").click()
            page.get_by_role("heading", name="Check your e-mail").wait_for()
            page.goto(re.search(r"(http://\S+/ob/sign-in/\S+)", site.mails[-1].get_content()).group(1))
            page.get_by_role("button", name="Allow", exact=True).click()
            answer = receiver.wait(30)
        assert answer is not None and answer["state"] == "st-2" and answer["code"]
        assert "you can close this window" in page.content()
    finally:
        context.close()
