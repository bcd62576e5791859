"""Every page state in real headless Chromium at 1280 px and 390 px: screenshots, layout, and an axe-core scan.

Screenshots go to ``$BADGESMITH_SCREENSHOTS`` when set (``make screenshots``), else to pytest's tmp folder.
axe-core is injected from the npm package in ``.axe/node_modules`` (``.ci/run`` installs it); the scan is
skipped, saying why, when it is missing.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import urllib.request
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app

from .conftest import build_state_site
from .test_badge_states import BRAND, LOGO

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / ".axe" / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
BADGE_STATES = ("course", "certification", "revoked", "suspended", "expired", "attendance")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    home = tmp_path_factory.mktemp("face-browser") / "inst"
    pages = build_state_site(home, base)
    (home / "logo.svg").write_bytes(LOGO)
    with (home / "badgesmith.toml").open("a") as settings:
        settings.write(BRAND)
    app = create_app({"HOME": str(home), "RATE_LIMIT": "off"})
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield pages
    server.shutdown()
    thread.join(timeout=10)
    app.extensions["badgesmith"].issuer.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("BADGESMITH_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(params=list(WIDTHS))
def tab(request, browser):
    # bypass_csp only so that the axe script can be injected; the pages' own CSP is tested elsewhere.
    context = browser.new_context(viewport=WIDTHS[request.param], is_mobile=request.param == "phone",
                                  bypass_csp=True)
    page = context.new_page()
    page.width_name = request.param  # type: ignore[attr-defined]
    yield page
    context.close()


def _check(tab, shots: Path, name: str) -> None:
    """Screenshot, no sideways scrolling, and no serious or critical axe-core violation."""
    tab.screenshot(path=str(shots / f"{name}-{tab.width_name}.png"), full_page=True)
    assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), f"{name} scrolls sideways"
    if not AXE.exists():
        return
    tab.add_script_tag(path=str(AXE))
    result = tab.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    bad = [f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}" for v in result
           if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name}: {bad}"


def _credential(url: str) -> str:
    with urllib.request.urlopen(url + "/credential.json") as response:  # the live test server
        return response.read().decode()


def test_axe_core_is_installed_for_the_scan():
    if not AXE.exists():
        pytest.skip(f"axe-core is not installed at {AXE} (npm install --prefix .axe axe-core; .ci/run does)")


@pytest.mark.parametrize("state", BADGE_STATES)
def test_badge_page(tab, site, shots, state):
    tab.goto(site[state])
    _check(tab, shots, f"badge-{state}")
    if state in ("revoked", "suspended", "expired"):
        assert tab.locator("#state-banner").is_visible()
        assert tab.locator("#linkedin-link").count() == 0 and tab.locator("#certificate-link").count() == 0
        assert "grayscale" in tab.locator(".badge-hero__image").evaluate("e => getComputedStyle(e).filter")
    else:
        assert tab.locator("#linkedin-link").is_visible() and tab.locator("#state-banner").count() == 0
    assert tab.locator(".brand__name").inner_text() == "Lakeshore Library Association"


@pytest.mark.parametrize("state", ["course", "revoked"])
def test_certificate_page(tab, site, shots, state):
    tab.goto(site[state] + "/certificate")
    _check(tab, shots, f"certificate-{state}")
    url = tab.locator(".certificate__url")
    assert url.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), "the URL fits its box"
    assert tab.locator(".certificate").evaluate("e => e.scrollHeight <= e.clientHeight + 1"), "nothing cut off"
    assert tab.get_by_text("Scan to check the current status").is_visible()
    if state == "revoked":
        assert tab.locator("#certificate-stamp").is_visible()
        assert tab.locator("#certificate-stamp").inner_text() == "REVOKED"


def test_verify_page(tab, site, shots):
    tab.goto(site["verify"])
    _check(tab, shots, "verify-form")


def test_verify_result_for_this_sites_own_badge(tab, site, shots):
    tab.goto(site["verify"])
    tab.fill("#credential", _credential(site["course"]))
    tab.get_by_role("button", name="Verify").click()
    tab.wait_for_selector(".verdict")
    _check(tab, shots, "verify-verified")
    assert "issued by this site" in tab.locator("#known-issuer").inner_text()
    image = tab.locator(".result-image")
    assert image.is_visible() and image.evaluate("e => e.complete && e.naturalWidth > 0"), "own image shown"


def test_verify_result_for_a_forged_badge(tab, site, shots):
    credential = json.loads(_credential(site["course"]))
    credential["credentialSubject"]["achievement"]["name"] = "Master of Everything"
    tab.goto(site["verify"])
    tab.fill("#credential", json.dumps(credential))
    tab.get_by_role("button", name="Verify").click()
    tab.wait_for_selector(".verdict--fail")
    claims = tab.locator("#unverified-claims")
    if tab.width_name == "phone":
        assert claims.evaluate("e => !e.open"), "folded on a phone"
        tab.locator("#unverified-claims > summary").click()
    else:
        assert claims.evaluate("e => e.open")
    _check(tab, shots, "verify-forged")
    text = claims.inner_text()
    assert "Master of Everything" in text and "Unverified claims" in text
    assert "✓" not in text and not re.search(r"\bvalid\b|not revoked", text, re.I)
    colors = claims.evaluate("e => [...e.querySelectorAll('*')].map(n => getComputedStyle(n).color)")
    assert "rgb(12, 90, 39)" not in colors, "no success green among the claims"


@pytest.mark.parametrize("state", ["learner", "learner-expired", "learner-suspended"])
def test_learner_page(tab, site, shots, state):
    tab.goto(site[state])
    _check(tab, shots, state)
    assert tab.locator(".brand__name").inner_text() == "Lakeshore Library Association"
    assert "Lakeshore Library Association" in tab.locator(".learner-hero").inner_text()
    if state == "learner":  # the pathway progress bars: test_learner_pages_browser.py (learner-pathway-*.png)
        assert tab.locator(".share-linkedin").first.is_visible()
        tab.emulate_media(media="print")
        _check(tab, shots, "learner-print")
        assert not tab.locator(".learner-share").is_visible()
    else:
        item = tab.locator(f"#inactive .credential-item--{state.removeprefix('learner-')}")
        assert item.is_visible() and item.locator(".share-linkedin").count() == 0
        assert "grayscale" in item.locator("img").evaluate("e => getComputedStyle(e).filter")


def test_issuer_and_error_pages(tab, site, shots):
    base = site["verify"].removesuffix("/verify")
    tab.goto(base + "/issuer")
    _check(tab, shots, "issuer-profile")
    tab.goto(base + "/achievements/certified-youth-services-librarian")
    _check(tab, shots, "achievement")
    tab.goto(base + "/credentials/00000000-0000-4000-8000-000000000000")
    _check(tab, shots, "error-not-found")
