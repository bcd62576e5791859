"""The learner's badge pages in real headless Chromium, served from a real demo instance."""

from __future__ import annotations

import io
import socket
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from werkzeug.serving import make_server

from app import create_app
from issuer.awarding.demo import run_demo

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def badge_site(tmp_path_factory):
    """A demo instance whose base URL is the live server's, so page URLs and QR codes point at it."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    demo = run_demo(tmp_path_factory.mktemp("site") / "inst", base_url=base, echo=lambda _: None)
    app = create_app({"HOME": str(demo.home), "RATE_LIMIT": "off"})
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield demo
    server.shutdown()
    thread.join(timeout=10)
    app.extensions["badgesmith"].issuer.close()


@pytest.fixture
def tab(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


def test_revoked_badge_page_says_revoked(tab, badge_site):
    tab.goto(badge_site.pages["revoked"])
    assert tab.locator("#badge-state").inner_text().strip().startswith("✗ Revoked")


def test_badge_page_on_a_phone_has_no_horizontal_scroll(browser, badge_site):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    try:
        for name in ("course", "certification", "revoked"):
            page.goto(badge_site.pages[name])
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), name
            assert page.get_by_role("link", name="Verify this badge").is_visible()
    finally:
        context.close()


def test_linkedin_link_has_the_certification_fields(tab, badge_site):
    tab.goto(badge_site.pages["certification"])
    href = tab.locator("#linkedin-link").get_attribute("href")
    query = parse_qs(urlsplit(href).query)
    assert query["name"] == ["Certified Youth Services Librarian"]
    assert query["certUrl"] == [badge_site.pages["certification"]]
    assert {"organizationName", "issueYear", "issueMonth", "expirationYear", "certId"} <= set(query)


def test_qr_code_on_the_page_decodes_to_the_page_url(tab, badge_site):
    zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp is not installed (pip install '.[test]')")
    from PIL import Image

    tab.goto(badge_site.pages["course"])
    shot = tab.locator(".qr img").screenshot()
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
    assert [r.text for r in results] == [badge_site.pages["course"]]


def test_verify_button_leads_to_a_verdict(tab, badge_site):
    tab.goto(badge_site.pages["course"])
    tab.get_by_role("link", name="Verify this badge").click()
    assert tab.locator("#verdict").inner_text().startswith("Verified: Storytime for Early Literacy")


def test_badge_page_images_have_alt_text_and_inputs_labels(tab, badge_site):
    tab.goto(badge_site.pages["course"])
    assert tab.evaluate("[...document.images].every(i => i.alt && i.alt.trim().length > 0)")
    assert tab.get_by_label("Link to this page").input_value() == badge_site.pages["course"]


def test_copy_link_button_works_without_csp_violations(tab, badge_site):
    violations = []
    tab.on("console", lambda message: violations.append(message.text) if "Content Security Policy" in message.text
           else None)
    tab.context.grant_permissions(["clipboard-read", "clipboard-write"])
    tab.goto(badge_site.pages["course"])
    tab.get_by_role("button", name="Copy link").click()
    tab.get_by_role("button", name="Copied").wait_for(state="visible", timeout=5000)  # the clipboard is async
    assert not violations
