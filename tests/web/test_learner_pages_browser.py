"""The learner page in real headless Chromium: badges with their images, pathway progress bars, CEUs,
certifications, badges no longer in force, the print view; a revoked link is gone.

Each state is screenshot at 1280 px and 390 px and scanned by axe-core, as the other pages are
(``_check`` of test_public_face_browser.py; ``make screenshots`` writes them to screenshots/).
"""

from __future__ import annotations

import importlib.util
import socket
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app
from issuer.records import learners

from .test_public_face_browser import WIDTHS, _check, shots  # noqa: F401 (shots: the fixture)

pytestmark = pytest.mark.browser

_spec = importlib.util.spec_from_file_location("learner_fixtures", Path(__file__).with_name("test_learner_pages.py"))
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)  # the same instance as the Flask-client tests
JANE, ROBIN = _fixtures.JANE, _fixtures.ROBIN


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def learner_site(tmp_path_factory):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    home = tmp_path_factory.mktemp("learners") / "instance"
    ids = _fixtures.build_learner_instance(home, base_url=base)
    app = create_app({"HOME": str(home), "RATE_LIMIT": "off"})
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base, app.extensions["badgesmith"].issuer, ids
    server.shutdown()
    thread.join(timeout=10)
    app.extensions["badgesmith"].issuer.close()


@pytest.fixture
def tab(browser):
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


def test_learner_page_lists_credentials_and_pathway_progress(tab, learner_site):
    base, issuer, ids = learner_site
    token, _ = learners.create_link(issuer, JANE)
    response = tab.goto(learners.learner_page_url(issuer, token))
    assert response.status == 200
    assert tab.locator("h1").inner_text().strip() == "Jane Doe"
    assert "4 current credentials" in tab.locator("#learner-summary").inner_text()
    pathway = tab.locator(".group--pathway")
    assert "Youth Services Certificate" in pathway.locator("h2").inner_text()
    bar = pathway.locator("progress")
    assert (bar.get_attribute("value"), bar.get_attribute("max")) == ("2.0", "4.0")
    assert tab.get_by_text("2 of 4 requirements met").is_visible()
    names = tab.locator(".group:not(.group--inactive) .credential-item__name").all_inner_texts()
    assert {"Inclusive Teen Programming", "Early Literacy Programming", "Storytime for Early Literacy"} <= set(names)
    assert "Family Engagement in Libraries" not in names  # revoked: below, under "No longer in force"
    revoked = tab.locator("#inactive .credential-item--revoked")
    assert "Revoked" in revoked.locator(".badge-state").inner_text()
    assert "grayscale" in revoked.locator("img").evaluate("e => getComputedStyle(e).filter")
    assert revoked.locator(".share-linkedin").count() == 0
    images = tab.locator(".credential-item__image")
    tab.wait_for_load_state("load")
    assert images.count() == 6 and all(images.nth(i).evaluate("e => e.complete && e.naturalWidth > 0")
                                       for i in range(images.count())), "this site's badge images load"
    assert tab.locator(".group:not(.group--inactive) .share-linkedin").count() == 4
    assert tab.locator(".group:not(.group--inactive) .add-to-wallet").count() == 4  # issue 20
    assert revoked.locator(".add-to-wallet").count() == 0
    assert tab.locator("#ceus tbody tr").count() >= 1
    # each credential links to its badge page
    tab.locator(".credential-item__name", has_text="Inclusive Teen Programming").click()
    tab.wait_for_url(f"{base}/credentials/{ids['teen'].removeprefix('urn:uuid:')}")
    assert tab.locator("#badge-title").inner_text().strip() == "Inclusive Teen Programming"


@pytest.fixture(params=list(WIDTHS))
def sized_tab(request, browser):
    context = browser.new_context(viewport=WIDTHS[request.param], is_mobile=request.param == "phone",
                                  bypass_csp=True)  # only so that the axe script can be injected
    page = context.new_page()
    page.width_name = request.param  # type: ignore[attr-defined]
    yield page
    context.close()


@pytest.mark.parametrize("email, name", [(JANE, "learner-pathway"), (ROBIN, "learner-expired-only")])
def test_learner_page_states_pass_the_scan(sized_tab, learner_site, shots, email, name):
    _, issuer, _ = learner_site
    sized_tab.goto(learners.learner_page_url(issuer, learners.create_link(issuer, email)[0]))
    sized_tab.wait_for_load_state("load")
    _check(sized_tab, shots, name)


def test_add_to_wallet_shows_two_scannable_codes_for_fresh_offers(tab, learner_site):
    """Issue 20: the learner page's "Add to wallet" opens QR codes and links for single-use offers."""
    base, issuer, ids = learner_site
    token, _ = learners.create_link(issuer, JANE)
    tab.goto(learners.learner_page_url(issuer, token))
    tab.locator(".credential-item", has_text="Storytime for Early Literacy").locator(".add-to-wallet").click()
    tab.wait_for_url(f"{base}/learners/{token}/wallet/{ids['course'].removeprefix('urn:uuid:')}")
    tab.wait_for_load_state("load")
    assert "Storytime for Early Literacy" in tab.locator("#wallet-title").inner_text()
    codes = tab.locator(".wallet-option__qr")
    assert codes.count() == 2 and all(codes.nth(i).evaluate("e => e.complete && e.naturalWidth > 0")
                                      for i in range(2))
    lcw = tab.get_by_role("link", name="Open in Learner Credential Wallet").get_attribute("href")
    assert lcw.startswith("https://lcw.app/request.html?issuer=")
    offer = tab.get_by_role("link", name="Open in your wallet").get_attribute("href")
    assert offer.startswith("openid-credential-offer://?credential_offer=")


def _claim_page(issuer, ids):
    from issuer.awarding import wallet_links

    return wallet_links.claim_page(issuer, ids["cert"])


@pytest.mark.parametrize("state", ["wallet", "claim-pin", "claim-wrong-pin", "claim-open"])
def test_wallet_pages_pass_the_scan(sized_tab, learner_site, shots, state):
    _, issuer, ids = learner_site
    if state == "wallet":
        token, _ = learners.create_link(issuer, JANE)
        sized_tab.goto(f"{learners.learner_page_url(issuer, token)}/wallet/{ids['course'].removeprefix('urn:uuid:')}")
    else:
        page = _claim_page(issuer, ids)
        sized_tab.goto(page.url)
        if state != "claim-pin":
            sized_tab.get_by_label("PIN").fill(page.pin if state == "claim-open" else
                                               ("000000" if page.pin != "000000" else "111111"))
            sized_tab.get_by_role("button", name="Show my wallet codes").click()
            sized_tab.wait_for_load_state("load")
            assert sized_tab.locator(".wallet-option__qr" if state == "claim-open" else "#pin-error").count() >= 1
    sized_tab.wait_for_load_state("load")
    _check(sized_tab, shots, f"learner-{state}")


def test_print_view_hides_the_controls_and_keeps_the_record(tab, learner_site):
    _, issuer, _ = learner_site
    token, _ = learners.create_link(issuer, JANE)
    tab.goto(learners.learner_page_url(issuer, token))
    tab.emulate_media(media="print")
    for hidden in (".site-header", ".learner-share", ".share-linkedin"):
        assert not tab.locator(hidden).first.is_visible(), hidden
    for shown in ("#learner-title", "#ceus", "#certifications", ".group--pathway progress", "#inactive",
                  "#transcript-download"):  # the signed record's address stays on paper
        assert tab.locator(shown).first.is_visible(), shown
    assert tab.pdf(format="A4")[:4] == b"%PDF"  # prints


def test_transcript_downloads_from_the_learner_page(tab, learner_site):
    _, issuer, _ = learner_site
    token, _ = learners.create_link(issuer, JANE)
    tab.goto(learners.learner_page_url(issuer, token))
    with tab.expect_download() as download:
        tab.locator("#transcript-download").click()
    assert download.value.suggested_filename.startswith("transcript-")
    assert '"ClrCredential"' in Path(download.value.path()).read_text("utf-8")


def test_revoked_link_gives_404_in_the_browser(tab, learner_site):
    _, issuer, _ = learner_site
    token, _ = learners.create_link(issuer, JANE)
    url = learners.learner_page_url(issuer, token)
    assert tab.goto(url).status == 200
    learners.revoke_link(issuer, JANE, token)
    assert tab.goto(url).status == 404


def test_learner_page_on_a_phone_has_no_horizontal_scroll(browser, learner_site):
    _, issuer, _ = learner_site
    token, _ = learners.create_link(issuer, JANE)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        page.goto(learners.learner_page_url(issuer, token))
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    finally:
        context.close()


# -- Connected apps: a host with access to the learner's badges (OB API), and withdrawing it -----------


@pytest.fixture(scope="module")
def connected_site(tmp_path_factory):
    """A site where Jane allowed a host through the real OAuth flow (Authlib's client as the host)."""
    from authlib.common.security import generate_token
    from authlib.integrations.requests_client import OAuth2Session
    import requests

    from tests.issuer.web.ob_host import BACKPACK, Browser, serve_site

    site = serve_site(tmp_path_factory.mktemp("connected") / "instance")
    registration = requests.post(site.base + "/ob/oauth/register", json=BACKPACK, timeout=30).json()
    session = OAuth2Session(registration["client_id"], registration["client_secret"], scope=BACKPACK["scope"],
                            redirect_uri=BACKPACK["redirect_uris"][0], code_challenge_method="S256")
    verifier = generate_token(48)
    url, _ = session.create_authorization_url(site.base + "/ob/oauth/authorize", code_verifier=verifier)
    session.fetch_token(site.base + "/ob/oauth/token", authorization_response=Browser(site, JANE).authorize(url),
                        code_verifier=verifier)
    assert session.get(site.base + "/ims/ob/v3p0/credentials", timeout=30).status_code == 200
    yield site, session
    site.stop()


def test_connected_apps_pass_the_scan(sized_tab, connected_site, shots):
    site, _ = connected_site
    sized_tab.goto(learners.learner_page_url(site.issuer, learners.create_link(site.issuer, JANE)[0]) +
                   "#connected-apps")
    sized_tab.wait_for_load_state("load")
    assert "Example Backpack" in sized_tab.locator("#connected-apps").inner_text()
    _check(sized_tab, shots, "learner-connected-apps")


def test_withdrawing_a_connected_app_in_the_browser(browser, connected_site, shots):
    site, host = connected_site
    context = browser.new_context(viewport=WIDTHS["desktop"], bypass_csp=True)  # bypass: the axe script only
    tab = context.new_page()
    tab.width_name = "desktop"  # type: ignore[attr-defined]
    try:
        page_url = learners.learner_page_url(site.issuer, learners.create_link(site.issuer, JANE)[0])
        tab.goto(page_url)
        apps = tab.locator("#connected-apps")
        item = apps.locator(".app-item", has_text="Example Backpack")
        assert item.get_by_role("link", name="https://backpack.example").is_visible()
        assert "read the badges and credentials you hold here" in item.inner_text()
        assert "last used" in item.inner_text()
        # The real form, posted by Chromium (same-origin, Origin "null" under no-referrer): accepted.
        button = item.get_by_role("button", name="Withdraw access")
        assert "Example Backpack" in button.evaluate("e => e.textContent")  # its name says which app
        button.click()
        tab.wait_for_load_state("load")
        assert tab.locator("h1").inner_text().strip() == "Access withdrawn"
        assert "Example Backpack can no longer reach your badges here" in tab.locator("#withdrawn-result").inner_text()
        _check(tab, shots, "learner-app-withdrawn")
        assert host.get(site.base + "/ims/ob/v3p0/credentials", timeout=30).status_code == 401
        tab.go_back()
        tab.reload()  # the page is no-store: read again, the app is gone
        assert tab.locator("#no-apps").inner_text() == "No app or badge platform has access to your badges here."
        assert tab.locator("#apps-title").inner_text() == "Connected apps"
    finally:
        context.close()
