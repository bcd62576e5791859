"""A certification renewed early, in real headless Chromium (issue 16): the current certification's badge page
with its next cycle, the renewal's own page, and the learner page, each screenshot at 1280 px and 390 px and
scanned by axe-core (``_check`` of test_public_face_browser.py)."""

from __future__ import annotations

import socket
import threading

import pytest
from werkzeug.serving import make_server

from app import create_app
from issuer.records import learners
from issuer.records.renewals import renew

from .test_learner_pages import JANE, build_learner_instance
from .test_public_face_browser import WIDTHS, _check, shots  # noqa: F401 (shots: the fixture)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def renewed_site(tmp_path_factory):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    home = tmp_path_factory.mktemp("renewed") / "instance"
    ids = build_learner_instance(home, base_url=base)
    app = create_app({"HOME": str(home), "RATE_LIMIT": "off"})
    issuer = app.extensions["badgesmith"].issuer
    renewal = renew(issuer, ids["cert"], override=True, reason="board approved").awarded.record
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base, issuer, ids["cert"], renewal.id
    server.shutdown()
    thread.join(timeout=10)
    issuer.close()


@pytest.fixture(params=list(WIDTHS))
def sized_tab(request, browser):
    context = browser.new_context(viewport=WIDTHS[request.param], is_mobile=request.param == "phone",
                                  bypass_csp=True)  # only so that the axe script can be injected
    page = context.new_page()
    page.width_name = request.param  # type: ignore[attr-defined]
    yield page
    context.close()


def test_renewed_certification_pages_show_the_next_cycle_and_pass_the_scan(sized_tab, renewed_site, shots):
    base, issuer, old, new = renewed_site
    sized_tab.goto(f"{base}/credentials/{old.removeprefix('urn:uuid:')}")
    assert "the next cycle runs from" in sized_tab.locator("main").inner_text()
    _check(sized_tab, shots, "badge-renewed-current")
    sized_tab.get_by_role("link", name="The renewed certification").click()
    sized_tab.wait_for_url(f"{base}/credentials/{new.removeprefix('urn:uuid:')}")
    assert "until then the previous certification is in force" in sized_tab.locator("#state-banner").inner_text()
    pill = sized_tab.locator("#badge-state")  # a cycle that starts later is information, not a failure
    assert pill.inner_text().strip().startswith("→ Starts on") and "Valid" not in pill.inner_text()
    colours = pill.evaluate("e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
    assert colours[1] != "rgb(253, 236, 236)" and colours[0] != "rgb(143, 16, 23)"  # not --fail-bg / --fail-ink
    assert sized_tab.locator(".badge-hero__image--dimmed").count() == 0
    _check(sized_tab, shots, "badge-renewal-pending")
    sized_tab.goto(learners.learner_page_url(issuer, learners.create_link(issuer, JANE)[0]))
    assert "the next cycle runs from" in sized_tab.locator("#certifications").inner_text()
    _check(sized_tab, shots, "learner-renewed")
