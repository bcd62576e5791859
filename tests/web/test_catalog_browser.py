"""The association's catalog in real headless Chromium at 1280 px and 390 px: the search page, a search made
through the form, a refused search, an achievement's page and a pathway's page (reached by their links).

Each is screenshot and scanned by axe-core, as the other pages are (``_check`` of test_public_face_browser.py;
``make screenshots`` writes them to screenshots/).
"""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from app import create_app
from tests.issuer.association.three_divisions import add_leadership_pathway, build_association

from .test_public_face_browser import _check, _free_port, shots, tab  # noqa: F401 (shots, tab: the fixtures)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def catalog_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("catalog-browser")
    divisions = build_association(root)
    add_leadership_pathway(divisions, root / "association-files")
    app = create_app({"HOME": str(divisions.association.issuer.settings.home), "RATE_LIMIT": "off"})
    port = _free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}", divisions
    server.shutdown()
    thread.join(timeout=10)
    app.extensions["badgesmith"].issuer.close()
    divisions.close()


def test_catalog_page(tab, catalog_site, shots):
    base, _ = catalog_site
    assert tab.goto(f"{base}/catalog").status == 200
    _check(tab, shots, "catalog")
    assert tab.locator("#results-title").inner_text().startswith("15 entries")
    assert tab.get_by_role("search").is_visible()


def test_search_through_the_form(tab, catalog_site, shots):
    base, divisions = catalog_site
    tab.goto(f"{base}/catalog")
    tab.get_by_label("Keywords").fill("literacy")
    tab.get_by_label("Division").select_option(label="Academic Libraries Division")
    tab.get_by_role("button", name="Search").click()
    tab.wait_for_url(f"{base}/catalog?*")
    _check(tab, shots, "catalog-search")
    titles = tab.locator(".catalog-item__title").all_inner_texts()
    assert titles == ["Teaching Information Literacy", "Academic Starter", "Academic Starter Certificate"]
    assert tab.get_by_label("Keywords").input_value() == "literacy"
    assert f"division={divisions.academic.issuer_id}" in tab.url


def test_refused_search_keeps_the_form(tab, catalog_site, shots):
    base, _ = catalog_site
    response = tab.goto(f"{base}/catalog?ceus_min=3&ceus_max=1")
    assert response.status == 400
    _check(tab, shots, "catalog-error")
    assert "ceus_min 3 is more than ceus_max 1" in tab.get_by_role("alert").inner_text()
    assert tab.get_by_label("Keywords").is_visible()



def test_refused_ceus_stay_in_the_field_to_fix(tab, catalog_site, shots):
    base, _ = catalog_site
    assert tab.goto(f"{base}/catalog?ceus_min=abc").status == 400
    _check(tab, shots, "catalog-error-ceus")
    assert tab.get_by_label("From").input_value() == "abc"  # a number field would show it empty
    assert tab.get_by_label("From").get_attribute("aria-invalid") == "true"
    tab.get_by_label("From").fill("1.5")
    tab.get_by_role("button", name="Search").click()
    tab.wait_for_url(f"{base}/catalog?*")
    assert "ceus_min=1.5" in tab.url and tab.locator("#results-title").is_visible()


def test_achievement_page_and_the_pathway_it_counts_toward(tab, catalog_site, shots):
    base, divisions = catalog_site
    tab.goto(f"{base}/catalog?tag=foundations")
    tab.get_by_role("link", name="Foundations of Library Service").click()
    tab.wait_for_url(f"{base}/catalog/{divisions.support.issuer_id}/support-staff-foundations")
    _check(tab, shots, "catalog-achievement")
    assert tab.locator("#entry-ceus").inner_text() == "3"
    assert "Passed the Foundations assessment" in tab.locator("#entry-criteria").inner_text()
    tab.locator("#counts-toward").get_by_role("link", name="Leadership").click()
    tab.wait_for_url(f"{base}/catalog/{divisions.association.id}/pathways/leadership")
    _check(tab, shots, "catalog-pathway")
    assert tab.locator("h1").inner_text() == "Leadership"
    assert tab.locator("#components li a").all_inner_texts() == ["Cataloging Basics with RDA",
                                                                 "Storytime for Early Literacy"]
    assert tab.locator("#pathway-awards").inner_text() == "Association Leadership Certificate"
