"""The learner page (/learners/<token>): off until a link is made, gone once it is revoked.

A real instance with the youth-services pathway: Jane holds two of its
components, a course, and a revoked badge; Sam is another learner.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from app import create_app
from errors import Code, NotFound
from issuer.records import learners
from issuer.awarding.awards import issue_single
from issuer.awarding.status_changes import change_status
from issuer.instance.folder import init_instance
from issuer.awarding.issuing import IssueRequest, Issuer
from issuer.awarding.pathways import add_pathway
from keys.ed25519 import KeyPair
from keys.keystore import save_key

ROOT = Path(__file__).resolve().parents[2]
JANE, SAM = "jane.doe@example.org", "sam.lee@example.org"


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
                                        ("revoked", "family-engagement", JANE, 50),
                                        ("sam", "storytime-early-literacy", SAM, 30)):
            awarded = issue_single(issuer, slug, IssueRequest(email=email, name="Jane Doe" if email == JANE
                                                              else "Sam Lee", date=today - timedelta(days=days)))
            ids[name] = awarded.record.id
        change_status(issuer, ids["revoked"], "revoke", reason="issued in error")
        return ids
    finally:
        issuer.close()


@pytest.fixture
def site(tmp_path):
    ids = build_learner_instance(tmp_path / "instance")
    app = create_app({"TESTING": True, "HOME": str(tmp_path / "instance"), "RATE_LIMIT": "off"})
    yield app, app.extensions["badgesmith"].issuer, ids
    app.extensions["badgesmith"].issuer.close()


def test_learner_page_lists_current_credentials_by_pathway_with_progress_and_ceus(site):
    app, issuer, ids = site
    token, _ = learners.create_link(issuer, JANE)
    response = app.test_client().get(f"/learners/{token}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Jane Doe" in html
    assert "Youth Services Certificate" in html  # the pathway group
    assert "2 of 4 requirements met" in html  # two components, not yet the third nor the 10 CEUs
    assert re.search(r"○</span>\s*<span class=\"visually-hidden\">To do:</span> Family Engagement", html)
    assert "Inclusive Teen Programming" in html and "Storytime for Early Literacy" in html
    for key in ("teen", "literacy", "course"):
        assert f"/credentials/{ids[key].removeprefix('urn:uuid:')}" in html
    assert ids["revoked"].removeprefix("urn:uuid:") not in html  # not current
    assert "Sam Lee" not in html
    assert 'id="ceus"' in html and "CEUs" in html
    assert f"/learners/{token}/transcript.json" in html


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
    assert embedded == {ids["teen"], ids["literacy"], ids["course"]}
    verified = app.test_client().post("/api/verify", json=document).get_json()
    assert verified["verified"] is True, verified
    assert len(verified["embedded"]) == 3


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
