"""The learner page (/learners/<token>): off until a link is made, gone once it is revoked.

A real instance with the youth-services pathway: Jane holds two of its
components, a course, a certification, a revoked badge and a suspended one; Sam
is another learner; Robin's certification has expired.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import unquote_plus

import pytest
from sqlalchemy import text

from app import create_app
from errors import Code, NotFound
from issuer.records import learners
from issuer.records.renewals import renew
from issuer.awarding.awards import issue_single
from issuer.awarding.status_changes import change_status
from issuer.instance.folder import init_instance
from issuer.awarding.issuing import IssueRequest, Issuer
from issuer.awarding.pathways import add_pathway
from keys.ed25519 import KeyPair
from keys.keystore import save_key
from verifier.wording import long_date

ROOT = Path(__file__).resolve().parents[2]
JANE, SAM, ROBIN = "jane.doe@example.org", "sam.lee@example.org", "robin.ellis@example.org"
NAMES = {JANE: "Jane Doe", SAM: "Sam Lee", ROBIN: "Robin Ellis"}


def build_learner_instance(home: Path, base_url: str = "https://badges.lakeshore.example") -> dict[str, str]:
    """An instance with the pathway and Jane's and Sam's credentials; returns credential ids by name."""
    settings = init_instance(home, name="Lakeshore Library Association", url=base_url)
    save_key(settings.keys_dir, settings.key_id, KeyPair.generate())
    issuer = Issuer.open(home)
    try:
        for toml in [*sorted((ROOT / "templates" / "achievements").glob("*.toml")),
                     *sorted((ROOT / "templates" / "pathways" / "achievements").glob("*.toml"))]:
            issuer.add_achievement(toml)
        add_pathway(issuer, ROOT / "templates" / "pathways" / "youth-services.toml")
        today = date.today()
        ids = {}
        for name, slug, email, days in (("teen", "inclusive-teen-programming", JANE, 200),
                                        ("literacy", "early-literacy-programming", JANE, 100),
                                        ("course", "storytime-early-literacy", JANE, 400),
                                        ("cert", "certified-youth-services-librarian", JANE, 300),
                                        ("revoked", "family-engagement", JANE, 50),
                                        ("suspended", "annual-conference-2025", JANE, 20),
                                        ("sam", "storytime-early-literacy", SAM, 30),
                                        ("expired", "certified-youth-services-librarian", ROBIN, 4 * 366)):
            awarded = issue_single(issuer, slug, IssueRequest(email=email, name=NAMES[email],
                                                              date=today - timedelta(days=days)),
                                   suspension=name == "suspended")
            ids[name] = awarded.record.id
        change_status(issuer, ids["revoked"], "revoke", reason="issued in error")
        change_status(issuer, ids["suspended"], "suspend", reason="attendance is being checked")
        return ids
    finally:
        issuer.close()


@pytest.fixture
def site(tmp_path):
    ids = build_learner_instance(tmp_path / "instance")
    app = create_app({"TESTING": True, "HOME": str(tmp_path / "instance"), "RATE_LIMIT": "off"})
    yield app, app.extensions["badgesmith"].issuer, ids
    app.extensions["badgesmith"].issuer.close()


def _page(app, issuer, email=JANE) -> str:
    token, _ = learners.create_link(issuer, email)
    response = app.test_client().get(f"/learners/{token}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _section(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start:html.index("</section>", start)]


def test_learner_page_lists_current_credentials_by_pathway_with_progress_and_ceus(site):
    app, issuer, ids = site
    html = _page(app, issuer)
    assert "Jane Doe" in html
    assert "4 current credentials" in html
    assert "Youth Services Certificate" in html  # the pathway group
    assert "2 of 4 requirements met" in html  # two components, not yet the third nor the 10 CEUs
    assert re.search(r'<progress id="progress-1" max="4(\.0)?" value="2(\.0)?">', html)
    assert re.search(r"○</span>\s*<span class=\"visually-hidden\">To do:</span> Family Engagement", html)
    assert "Inclusive Teen Programming" in html and "Storytime for Early Literacy" in html
    for key in ("teen", "literacy", "course", "cert"):
        assert f"/credentials/{ids[key].removeprefix('urn:uuid:')}" in html
    assert "Sam Lee" not in html and ids["sam"].removeprefix("urn:uuid:") not in html
    ceus = _section(html, "ceus-title")
    assert "<th scope=\"row\">Total</th>" in ceus


def test_each_badge_shows_its_image_from_this_site_and_a_linkedin_button(site):
    app, issuer, ids = site
    html = _page(app, issuer)
    for slug in ("inclusive-teen-programming", "early-literacy-programming", "storytime-early-literacy",
                 "certified-youth-services-librarian"):
        assert f'src="/achievements/{slug}/image.png"' in html
    linkedin = re.findall(r'href="(https://www\.linkedin\.com/profile/add\?[^"]+)"', html)
    assert len(linkedin) == 4  # one per current badge, none for the revoked or suspended ones
    teen = next(u for u in linkedin if "Inclusive+Teen" in u)
    assert ids["teen"] in unquote_plus(teen) and "certUrl=" in teen and "organizationName=Lakeshore" in teen
    assert 'rel="noopener noreferrer"' in html  # the token never leaves in a Referer
    for key in ("teen", "cert", "revoked"):  # the signed JSON of each badge, a secondary link
        assert f"/credentials/{ids[key].removeprefix('urn:uuid:')}/credential.json" in html


def test_active_certifications_show_their_expiry(site):
    app, issuer, ids = site
    html = _page(app, issuer)
    certifications = _section(html, "certifications")
    assert "Certified Youth Services Librarian" in certifications
    record = issuer.registry.get_credential(ids["cert"], issuer_id=issuer.issuer_id)
    assert f"expires <time datetime=\"{record.valid_until.date().isoformat()}\">" in certifications
    assert long_date(record.valid_until) in certifications
    assert "Inclusive Teen" not in certifications  # a micro-credential is not a certification


def test_revoked_and_suspended_badges_say_so_and_cannot_be_shared(site):
    app, issuer, ids = site
    html = _page(app, issuer)
    inactive = _section(html, "inactive")
    for key, label, reason in (("revoked", "Revoked", "issued in error"),
                               ("suspended", "Suspended", "attendance is being checked")):
        uid = ids[key].removeprefix("urn:uuid:")
        item = inactive[inactive.index(uid):]
        item = item[:item.index("</li>")]
        assert f"badge-state--{key}" in item and label in item and f"Reason given: {reason}" in item
        assert "badge-hero__image--dimmed" in inactive[:inactive.index(uid)].rsplit("<li", 1)[1]
        assert "linkedin" not in item
    assert "Family Engagement in Libraries" in inactive
    # not counted as current, and not among the pathway's done steps
    assert "4 current credentials" in html


def test_an_expired_certification_looks_expired_and_a_renewed_one_hides_the_old(site):
    app, issuer, ids = site
    html = _page(app, issuer, ROBIN)
    assert "0 current credentials" in html
    inactive = _section(html, "inactive")
    assert "badge-state--expired" in inactive and "Expired on " in inactive
    assert 'id="certifications"' not in html and 'id="ceus"' not in html  # no empty panels
    assert "linkedin.com" not in html
    # a renewal: Robin's new certification replaces the expired one on the page
    renewed = renew(issuer, ids["expired"], override=True, reason="lapsed during leave")
    html = _page(app, issuer, ROBIN)
    assert 'id="inactive"' not in html
    assert renewed.awarded.record.id.removeprefix("urn:uuid:") in _section(html, "certifications")
    assert ids["expired"].removeprefix("urn:uuid:") not in html


def test_the_page_says_it_is_not_signed_and_links_the_signed_record(site):
    app, issuer, _ = site
    token, _ = learners.create_link(issuer, JANE)
    html = app.test_client().get(f"/learners/{token}").get_data(as_text=True)
    check = _section(html, "check-title")
    assert "not itself signed" in check
    assert f'href="/learners/{token}/transcript.json"' in check
    assert "Signed record for verifiers (CLR 2.0, JSON)" in check
    assert 'href="/verify"' in check and "badgesmith verify" in check
    assert f'value="{learners.learner_page_url(issuer, token)}"' in html  # the copy-link field
    assert "data-print" in html and "print.js" in html


def test_the_page_wears_the_brand(tmp_path):
    home = tmp_path / "instance"
    build_learner_instance(home)
    with (home / "badgesmith.toml").open("a") as settings:
        settings.write('\n[brand]\nname = "Lakeshore Library Association — Youth Services"\n'
                       'linkedin_organization_id = "4242"\n')
    app = create_app({"TESTING": True, "HOME": str(home), "RATE_LIMIT": "off"})
    try:
        html = _page(app, app.extensions["badgesmith"].issuer)
    finally:
        app.extensions["badgesmith"].issuer.close()
    assert "Recognitions from Lakeshore Library Association — Youth Services" in html
    assert '<span class="brand__name">Lakeshore Library Association — Youth Services</span>' in html
    assert "organizationId=4242" in html  # LinkedIn links to the association's page, as on the badge page
    assert "Powered by Badgesmith" in html


def test_learner_page_is_private(site):
    app, issuer, _ = site
    token, _ = learners.create_link(issuer, JANE)
    response = app.test_client().get(f"/learners/{token}")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response.headers["X-Robots-Tag"]
    assert '<meta name="robots" content="noindex, nofollow">' in response.get_data(as_text=True)


def test_transcript_download_is_the_signed_clr_of_current_credentials(site):
    app, issuer, ids = site
    token, _ = learners.create_link(issuer, JANE)
    response = app.test_client().get(f"/learners/{token}/transcript.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    document = json.loads(response.data)
    assert "ClrCredential" in document["type"] and document["proof"]
    embedded = {c["id"] for c in document["credentialSubject"]["verifiableCredential"]}
    assert embedded == {ids["teen"], ids["literacy"], ids["course"], ids["cert"]}
    verified = app.test_client().post("/api/verify", json=document).get_json()
    assert verified["verified"] is True, verified
    assert len(verified["embedded"]) == 4


def test_revoked_link_gives_404_and_other_links_stay(site):
    app, issuer, _ = site
    client = app.test_client()
    first, record = learners.create_link(issuer, JANE)
    second, _ = learners.create_link(issuer, JANE)
    assert first != second
    learners.revoke_link(issuer, JANE, first)
    assert client.get(f"/learners/{first}").status_code == 404
    assert client.get(f"/learners/{first}/transcript.json").status_code == 404
    assert client.get(f"/learners/{second}").status_code == 200
    again = learners.revoke_link(issuer, JANE, str(record.id))  # by id, twice: the first date stays
    assert again.revoked_at is not None
    assert [link.revoked_at is not None for link in learners.list_links(issuer, JANE)] == [True, False]


@pytest.mark.parametrize("token", ["nothing-here", "A" * 43, "a" * 200, "%2e%2e"])
def test_unknown_or_malformed_token_is_404(site, token):
    app, _, _ = site
    assert app.test_client().get(f"/learners/{token}").status_code == 404


def test_only_a_hash_of_the_token_is_stored(site):
    _, issuer, _ = site
    token, _ = learners.create_link(issuer, JANE)
    with issuer.registry.session(write=False) as s:
        rows = [tuple(r) for r in s.execute(text("SELECT * FROM learner_links"))]
    assert learners.hash_token(token) in {value for row in rows for value in row}
    assert not any(token in str(value) for row in rows for value in row)


def test_links_need_a_known_learner_and_their_own_token(site):
    _, issuer, _ = site
    with pytest.raises(NotFound) as caught:
        learners.create_link(issuer, "nobody@example.org")
    assert caught.value.code == Code.LEARNER_NOT_FOUND
    jane_token, _ = learners.create_link(issuer, JANE)
    with pytest.raises(NotFound) as caught:
        learners.revoke_link(issuer, SAM, jane_token)  # Sam cannot revoke Jane's link
    assert caught.value.code == Code.LEARNER_LINK_NOT_FOUND
    assert learners.active_link(issuer, jane_token) is not None


def test_without_an_instance_there_are_no_learner_pages():
    app = create_app({"TESTING": True, "HOME": None, "RATE_LIMIT": "off"})
    assert app.test_client().get("/learners/" + "A" * 43).status_code == 404
