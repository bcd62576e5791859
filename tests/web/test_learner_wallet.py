""""Add to wallet" (issue 20) where only the recipient reaches it: the learner's private page and the
claim page of an e-mail or roster summary (PIN sent separately). Never on the public badge page."""

from __future__ import annotations

import base64
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from app import create_app
from issuer.awarding import claims, wallet_links
from issuer.records import learners

from .test_learner_pages import JANE, SAM, build_learner_instance


@pytest.fixture
def site(tmp_path):
    ids = build_learner_instance(tmp_path / "instance")
    app = create_app({"TESTING": True, "HOME": str(tmp_path / "instance"), "RATE_LIMIT": "off",
                      "CLAIM_RATE_LIMIT": "off"})
    yield app, app.extensions["badgesmith"].issuer, ids
    app.extensions["badgesmith"].issuer.close()


def _uid(credential_id: str) -> str:
    return credential_id.removeprefix("urn:uuid:")


def _wallet_hrefs(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'<a class="button button--small add-to-wallet" href="([^"]+)"', html)]


def test_the_learner_page_offers_add_to_wallet_for_current_badges_only(site):
    app, issuer, ids = site
    token, _ = learners.create_link(issuer, JANE)
    html = app.test_client().get(f"/learners/{token}").get_data(as_text=True)
    hrefs = _wallet_hrefs(html)
    current = {_uid(ids[name]) for name in ("teen", "literacy", "course", "cert")}
    assert {h.rsplit("/", 1)[-1] for h in hrefs} == current  # not the revoked or the suspended badge
    assert all(h.startswith(f"/learners/{token}/wallet/") for h in hrefs)


def test_the_public_badge_page_never_offers_a_wallet_claim(site):
    app, issuer, ids = site
    html = app.test_client().get(f"/credentials/{_uid(ids['course'])}", headers={"Accept": "text/html"})
    text = html.get_data(as_text=True)
    assert html.status_code == 200
    for claim_sign in ("lcw.app", "dccrequest:", "openid-credential-offer", "/wallet/", "add-to-wallet", "Add to wallet"):
        assert claim_sign not in text


def test_the_wallet_page_shows_fresh_single_use_offers_privately(site):
    app, issuer, ids = site
    token, _ = learners.create_link(issuer, JANE)
    response = app.test_client().get(f"/learners/{token}/wallet/{_uid(ids['course'])}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Referrer-Policy"] == "no-referrer"
    html = response.get_data(as_text=True)
    lcw = unescape(re.search(r'href="(https://lcw\.app/request\.html\?[^"]+)"', html).group(1))
    query = parse_qs(urlsplit(lcw).query)
    exchange = urlsplit(query["vc_request_url"][0]).path
    assert app.test_client().get(exchange).get_json() == {"protocols": {"vcapi": query["vc_request_url"][0]}}
    assert 'href="openid-credential-offer://?credential_offer=' in html
    qrs = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)
    assert len(qrs) == 2 and all(base64.b64decode(q).startswith(b"<svg") for q in qrs)
    again = app.test_client().get(f"/learners/{token}/wallet/{_uid(ids['course'])}").get_data(as_text=True)
    assert re.search(r"challenge=([^&\"]+)", again).group(1) != query["challenge"][0]  # a fresh offer each time


def test_another_learners_badge_or_an_unknown_one_is_404(site):
    app, issuer, ids = site
    token, _ = learners.create_link(issuer, JANE)
    client = app.test_client()
    assert client.get(f"/learners/{token}/wallet/{_uid(ids['sam'])}").status_code == 404
    assert client.get(f"/learners/{token}/wallet/not-a-uuid").status_code == 404
    sam, _ = learners.create_link(issuer, SAM)
    assert client.get(f"/learners/{sam}/wallet/{_uid(ids['sam'])}").status_code == 200
    assert client.get(f"/learners/{'x' * 43}/wallet/{_uid(ids['sam'])}").status_code == 404


def test_a_revoked_badge_has_no_wallet_offer(site):
    app, issuer, ids = site
    token, _ = learners.create_link(issuer, JANE)
    response = app.test_client().get(f"/learners/{token}/wallet/{_uid(ids['revoked'])}")
    assert response.status_code == 409 and "AWARD_NOT_CLAIMABLE" in response.get_data(as_text=True)


def test_the_claim_page_opens_with_its_pin_and_closes_after_five_wrong_ones(site):
    app, issuer, ids = site
    page = wallet_links.claim_page(issuer, ids["course"])
    path = urlsplit(page.url).path
    client = app.test_client()
    form = client.get(path)
    assert form.status_code == 200 and 'name="pin"' in form.get_data(as_text=True)
    assert "lcw.app" not in form.get_data(as_text=True)
    wrong = "000000" if page.pin != "000000" else "111111"
    refused = client.post(path, data={"pin": wrong})
    assert refused.status_code == 400 and "does not match" in refused.get_data(as_text=True)
    opened = client.post(path, data={"pin": page.pin}).get_data(as_text=True)
    assert "https://lcw.app/request.html?" in opened and "openid-credential-offer://" in opened
    assert client.post(path, data={"pin": page.pin}).status_code == 200  # the page itself is not used up
    for _ in range(claims.MAX_TX_CODE_FAILURES - 1):
        client.post(path, data={"pin": wrong})
    closed = client.post(path, data={"pin": page.pin})
    assert closed.status_code == 409 and "OFFER_USED" in closed.get_data(as_text=True)


def test_a_claim_page_secret_is_no_exchange_and_an_exchange_secret_no_claim_page(site):
    app, issuer, ids = site
    page = wallet_links.claim_page(issuer, ids["course"])
    secret = urlsplit(page.url).path.rsplit("/", 1)[-1]
    assert app.test_client().post(f"/wallet/exchanges/{secret}", json={}).status_code == 404
    vcapi = claims.create_offer(issuer, ids["course"], protocol="vcapi")
    assert app.test_client().get(f"/wallet/claim/{vcapi.secret}").status_code == 404


def test_the_wallet_page_is_rate_limited(site):
    app, issuer, ids = site
    app.config["CLAIM_RATE_LIMIT"] = "2/minute"
    app.extensions.pop("badgesmith.claim_limiter", None)
    token, _ = learners.create_link(issuer, JANE)
    client = app.test_client()
    codes = [client.get(f"/learners/{token}/wallet/{_uid(ids['course'])}").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


@pytest.fixture
def mailing_site(tmp_path, mail_server):
    """The learner instance with a sender address and its [smtp] relay: a real SMTP server on loopback."""
    host, port, inbox = mail_server()
    home = tmp_path / "instance"
    ids = build_learner_instance(home)
    settings = home / "badgesmith.toml"
    text = settings.read_text().replace('# email = "continuing-ed@example.org"', 'email = "ce@lakeshore.example"')
    settings.write_text(text + f'\n[smtp]\nhost = "{host}"\nport = {port}\nsecurity = "none"\n')
    app = create_app({"TESTING": True, "HOME": str(home), "RATE_LIMIT": "off", "CLAIM_RATE_LIMIT": "off"})
    yield app, app.extensions["badgesmith"].issuer, ids, inbox
    app.extensions["badgesmith"].issuer.close()


def test_the_claim_page_e_mails_a_pin_to_the_awards_address_a_few_times_at_most(mailing_site):
    from email.parser import BytesParser
    from email.policy import default

    app, issuer, ids, inbox = mailing_site
    assert issuer.settings.email == "ce@lakeshore.example"
    page = wallet_links.claim_page(issuer, ids["course"])
    path = urlsplit(page.url).path
    client = app.test_client()
    assert "E-mail me a PIN" in client.get(path).get_data(as_text=True)
    sent = client.post(path, data={"action": "email-pin"})
    assert sent.status_code == 200 and "We sent a new PIN to j•••@example.org" in sent.get_data(as_text=True)
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == [JANE]
    pin = re.search(r"is:\s+(\d{6})\s", BytesParser(policy=default).parsebytes(envelope.content).get_content())[1]
    opened = client.post(path, data={"pin": pin}).get_data(as_text=True)
    assert "https://lcw.app/request.html?" in opened
    assert [client.post(path, data={"action": "email-pin"}).status_code for _ in range(3)] == [200, 200, 429]
    assert len(inbox.envelopes) == 3  # three per page an hour, whoever asks
