"""Each page's footer says what is true of that page: only the verifier's pages say they verify what is
checked there (and store nothing of it); a learner's wallet and claim pages speak of their badge; the
issuer's pages and error pages say what the site awards (a verifier-only site's say it awards nothing).
base.html's default is the last of these."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

import pytest

from app import create_app
from issuer.awarding import wallet_links
from issuer.records import learners

from .test_learner_pages import JANE, build_learner_instance

VERIFIER = "This page verifies Open Badges 3.0 credentials. Files and text you check here are not stored."
BRAND = "Lakeshore Library Association"  # the learner instance's brand, as its pages show it
SITE = f"{BRAND} awards Open Badges 3.0 credentials, each signed so that anyone can check it."
YOUR_BADGE = (f"Your badge from {BRAND} is an Open Badges 3.0 credential, signed so that anyone can check it; "
              "a wallet keeps a copy of its own.")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    home = tmp_path_factory.mktemp("footers") / "instance"
    ids = build_learner_instance(home)
    app = create_app({"TESTING": True, "HOME": str(home), "RATE_LIMIT": "off", "CLAIM_RATE_LIMIT": "off"})
    yield app, app.extensions["badgesmith"].issuer, ids
    app.extensions["badgesmith"].issuer.close()


def footer(response) -> str:
    """The footer's first paragraph, as a reader hears it (tags dropped, white space collapsed)."""
    page = response.get_data(as_text=True)
    found = re.search(r'<footer class="site-footer">.*?<p>(.*?)</p>', page, re.S)
    assert found, page[:300]
    return " ".join(unescape(re.sub(r"<[^>]+>", "", found.group(1))).split())


def test_the_verifier_pages_say_they_verify_and_store_nothing(site):
    app, _, ids = site
    client = app.test_client()
    assert footer(client.get("/verify")) == VERIFIER
    result = client.get("/verify", query_string={"credential": ids["course"]})
    assert result.status_code == 200 and "Verified" in result.get_data(as_text=True)
    assert footer(result) == VERIFIER


def test_the_wallet_and_claim_pages_speak_of_the_learners_badge(site):
    app, issuer, ids = site
    client = app.test_client()
    token, _ = learners.create_link(issuer, JANE)
    wallet = client.get(f"/learners/{token}/wallet/{ids['course'].removeprefix('urn:uuid:')}")
    assert wallet.status_code == 200 and footer(wallet) == YOUR_BADGE
    page = wallet_links.claim_page(issuer, ids["course"])
    path = urlsplit(page.url).path
    form = client.get(path)
    assert 'name="pin"' in form.get_data(as_text=True) and footer(form) == YOUR_BADGE
    opened = client.post(path, data={"pin": page.pin})
    assert "openid-credential-offer://" in opened.get_data(as_text=True) and footer(opened) == YOUR_BADGE


def test_the_issuer_and_error_pages_say_what_the_site_awards(site):
    app, _, _ = site
    client = app.test_client()
    profile = client.get("/issuer", headers={"Accept": "text/html"})
    assert profile.status_code == 200 and footer(profile) == SITE
    slug = re.search(r'href="/achievements/([^"/]+)"', profile.get_data(as_text=True)).group(1)
    achievement = client.get(f"/achievements/{slug}", headers={"Accept": "text/html"})
    assert achievement.status_code == 200 and footer(achievement) == SITE
    missing = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and footer(missing) == SITE


def test_no_page_but_the_verifiers_says_it_verifies(site):
    app, issuer, ids = site
    client = app.test_client()
    token, _ = learners.create_link(issuer, JANE)
    uid = ids["course"].removeprefix("urn:uuid:")
    for path in (f"/credentials/{uid}", f"/learners/{token}", "/issuer", "/catalog", "/no-such-page",
                 f"/learners/{token}/wallet/{uid}"):
        answer = client.get(path, headers={"Accept": "text/html"})
        assert "This page verifies" not in answer.get_data(as_text=True), path


def test_a_verifier_only_site_does_not_claim_to_award_anything(tmp_path):
    (tmp_path / "badgesmith.toml").write_text('[web]\nrate_limit = "off"\n', "utf-8")
    client = create_app({"TESTING": True, "HOME": str(tmp_path)}).test_client()
    assert footer(client.get("/verify")) == VERIFIER
    for answer in (client.get("/no-such-page", headers={"Accept": "text/html"}),
                   client.get("/credentials/no-such-credential", headers={"Accept": "text/html"})):
        assert answer.status_code == 404 and footer(answer) == (
            "This site verifies Open Badges 3.0 credentials; it awards none itself.")
