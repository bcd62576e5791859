"""The association's learner page (issue 18) in real headless Chromium: a member's credentials from three
divisions, grouped by division and linking to each division's site, the CEUs per division, and progress on an
association pathway; screenshot at 1280 px and 390 px and scanned by axe-core like the division page."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from werkzeug.serving import make_server

from app import create_app
from issuer.association.learner_record import create_association_link
from issuer.association.pathways import achievement_key, add_association_pathway
from issuer.awarding.awards import issue_single
from issuer.awarding.issuing import IssueRequest
from issuer.records.learners import learner_page_url
from tests.issuer.association.three_divisions import build_association

from .test_learner_pages_browser import _free_port, sized_tab, tab  # noqa: F401 (the fixtures)
from .test_public_face_browser import _check, shots  # noqa: F401 (shots: the fixture)

pytestmark = pytest.mark.browser
JANE = "jane.doe@example.org"


@pytest.fixture(scope="module")
def association_site(tmp_path_factory):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    root = tmp_path_factory.mktemp("association")
    built = build_association(root, association_url=base)
    for issuer, slug, day in ((built.youth, "storytime-early-literacy", date(2025, 10, 15)),
                              (built.academic, "information-literacy-instruction", date(2026, 2, 1)),
                              (built.support, "support-staff-foundations", date(2026, 5, 4))):
        issue_single(issuer, slug, IssueRequest(email=JANE, name="Jane Doe", date=day))
    (root / "leadership.toml").write_text(
        'id = "leadership-certificate"\nname = "Leadership Certificate"\nachievement_type = "Certificate"\n'
        'description = "Three divisions."\ncriteria = "Complete the Leadership pathway."\n', "utf-8")
    built.association.issuer.add_achievement(root / "leadership.toml")
    (root / "leadership-pathway.toml").write_text(
        'id = "leadership"\nname = "Leadership"\nawards = "leadership-certificate"\n[requirements]\nall = [\n'
        f'  "{achievement_key("https://youth.lla.example", "storytime-early-literacy")}",\n'
        f'  "{achievement_key("https://academic.lla.example", "cataloging-basics")}",\n]\n', "utf-8")
    add_association_pathway(built.association, root / "leadership-pathway.toml")
    app = create_app({"HOME": str(built.association.issuer.settings.home), "RATE_LIMIT": "off"})
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield built
    server.shutdown()
    thread.join(timeout=10)
    app.extensions["badgesmith"].issuer.close()
    built.close()


def test_association_page_groups_divisions_with_their_ceus_and_pathway_progress(tab, association_site):
    association = association_site.association
    token, _ = create_association_link(association, JANE)
    response = tab.goto(learner_page_url(association.issuer, token))
    assert response.status == 200
    assert "3 current credentials" in tab.locator("#learner-summary").inner_text()
    titles = tab.locator(".group h2").all_inner_texts()
    assert any(t.startswith("Leadership") for t in titles)
    assert {"Academic Libraries Division", "Library Support Staff Certification"} <= set(titles)
    rows = tab.locator("#ceus-by-division tbody tr").all_inner_texts()
    assert [r.split("\t")[0] for r in rows] == ["Academic Libraries Division", "Library Support Staff Certification",
                                                "Youth Services Division"]
    assert tab.get_by_text("1 of 2 requirements met").is_visible()
    link = tab.locator(".credential-item__name", has_text="Foundations of Library Service")
    assert link.get_attribute("href").startswith("https://lssc.lla.example/credentials/")
    facts = tab.locator(".credential-item__facts").all_inner_texts()
    assert any(t.startswith("Library Support Staff Certification · ") for t in facts)  # the awarding division


def test_association_page_passes_the_scan(sized_tab, association_site, shots):
    association = association_site.association
    sized_tab.goto(learner_page_url(association.issuer, create_association_link(association, JANE)[0]))
    sized_tab.wait_for_load_state("load")
    _check(sized_tab, shots, "learner-association")
