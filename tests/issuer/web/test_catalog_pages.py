"""The catalog on the association's site (issuer/web/catalog.py), through the Flask test client: the search page
and its filters, the JSON feed, entry pages with their pathways, bounded parameters (400, never 500), and no
catalog on a division's or a lone instance's site."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from app import create_app
from tests.issuer.association.three_divisions import add_leadership_pathway, build_association


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = tmp_path_factory.mktemp("catalog-site")
    divisions = build_association(root)
    add_leadership_pathway(divisions, root / "association-files")
    app = create_app({"HOME": str(divisions.association.issuer.settings.home), "RATE_LIMIT": "off"})
    yield app, divisions
    app.extensions["badgesmith"].issuer.close()
    divisions.close()


@pytest.fixture
def client(site):
    return site[0].test_client()


class _Links(HTMLParser):
    """The text of the result titles (h3 links) and every href."""

    def __init__(self) -> None:
        super().__init__()
        self.titles: list[str] = []
        self.hrefs: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        if tag == "h3":
            self._in_title = True
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href", ""))

    def handle_endtag(self, tag):
        if tag == "h3":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title and data.strip():
            self.titles.append(data.strip())


def _titles(response) -> list[str]:
    parser = _Links()
    parser.feed(response.get_data(as_text=True))
    return parser.titles


def test_catalog_page_lists_everything_and_searches_by_keyword(client):
    everything = client.get("/catalog")
    assert everything.status_code == 200 and everything.headers["Cache-Control"] == "public, max-age=300"
    page = everything.get_data(as_text=True)
    assert "15 entries" in page  # 12 achievements and 3 pathways, the association's own included and 'role="search"' in page
    for label in ("Keywords", "Division", "Type", "Tag", "Competency or standard", "CEUs"):
        assert f">{label}<" in page
    assert "Library Support Staff Certification" in page  # the division filter's options
    found = client.get("/catalog?q=literacy&kind=achievement")
    assert _titles(found)[:3] == ["Early Literacy Programming", "Storytime for Early Literacy",
                                  "Teaching Information Literacy"]
    assert 'value="literacy"' in found.get_data(as_text=True)  # the search stays in the form


def test_catalog_page_filters_by_division_type_ceus_tag_and_alignment(client, site):
    divisions = site[1]
    assert _titles(client.get(f"/catalog?division={divisions.support.issuer_id}")) == ["Foundations of Library Service"]
    assert _titles(client.get("/catalog?type=Course&ceus_min=1.5&ceus_max=2")) == [
        "Storytime for Early Literacy", "Teaching Information Literacy"]
    assert _titles(client.get("/catalog?tag=foundations")) == ["Foundations of Library Service"]
    assert _titles(client.get("/catalog?alignment=ILFHE-1")) == ["Teaching Information Literacy"]
    # A blank form (every field sent empty) is the whole catalog.
    blank = client.get("/catalog?q=&division=&kind=&type=&tag=&alignment=&ceus_min=&ceus_max=")
    assert blank.status_code == 200 and len(_titles(blank)) == 15


def test_feed_is_json_with_the_same_filters_and_entry_links(client, site):
    divisions = site[1]
    response = client.get("/catalog.json?tag=instruction")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    data = response.get_json()
    assert data["association"]["name"] == "Lakeshore Library Association"
    assert [d["name"] for d in data["divisions"]][0] == "Lakeshore Library Association" and len(data["divisions"]) == 4
    assert data["query"] == {"tag": "instruction"} and data["total"] == 1
    (entry,) = data["entries"]
    assert entry["name"] == "Teaching Information Literacy" and entry["ceus"] == 2
    assert entry["division"]["id"] == divisions.academic.issuer_id
    assert sorted(p["name"] for p in entry["countsToward"]) == ["Academic Starter", "Leadership"]
    assert entry["alignment"][0]["targetFramework"] == "ACRL"
    # The page asked for as JSON is the feed.
    negotiated = client.get("/catalog?tag=instruction", headers={"Accept": "application/json"})
    assert negotiated.get_json()["entries"] == data["entries"]


def test_achievement_page_shows_criteria_ceus_and_the_pathways_it_counts_toward(client, site):
    divisions = site[1]
    feed = client.get("/catalog.json?tag=foundations").get_json()
    (entry,) = feed["entries"]
    path = entry["page"].removeprefix("http://localhost")
    assert path == f"/catalog/{divisions.support.issuer_id}/support-staff-foundations"
    page = client.get(path)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Passed the Foundations assessment (a portfolio and an exam)." in text
    assert re.search(r'id="entry-ceus">3<', text)
    toward = text.split('id="counts-toward"')[1].split("</section>")[0]
    assert ">Leadership</a>" in toward and "(Lakeshore Library Association)" in toward  # another "division"
    assert "LSSC Competency Sets" in text
    as_json = client.get(path, headers={"Accept": "application/json"}).get_json()
    assert as_json["countsToward"][0]["name"] == "Leadership"


def test_pathway_page_links_its_components_across_divisions_and_its_award(client, site):
    divisions = site[1]
    page = client.get(f"/catalog/{divisions.association.id}/pathways/leadership")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    components = text.split('id="components"')[1].split("</section>")[0]
    assert f'/catalog/{divisions.youth.issuer_id}/storytime-early-literacy"' in components
    assert f'/catalog/{divisions.academic.issuer_id}/cataloging-basics"' in components
    assert "(Youth Services Division)" in components
    assert 'id="pathway-awards"' in text and "Association Leadership Certificate" in text
    assert "5 CEUs tagged instruction or foundations" in text


@pytest.mark.parametrize("url, parameter", [
    ("/catalog?q=" + "x" * 201, "q"),
    ("/catalog?ceus_min=lots", "ceus_min"),
    ("/catalog?ceus_min=4&ceus_max=1", "ceus_min"),
    ("/catalog?division=12345", "division"),
    ("/catalog?division=-1", "division"),
    ("/catalog?kind=everything", "kind"),
    ("/catalog?tag=a&tag=b", "tag"),
    ("/catalog?page=99999999", "page"),
    ("/catalog?q=%00", "q"),
])
def test_bad_searches_are_a_clear_400_on_the_page_and_in_the_feed(client, url, parameter):
    page = client.get(url)
    assert page.status_code == 400 and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "We could not run that search." in text and "CATALOG_QUERY_INVALID" in text
    assert 'name="q"' in text  # the form is still there to fix the search
    if parameter.startswith("ceus_"):  # the refused CEUs stay in a field that can show them, marked invalid
        value = parse_qs(urlsplit(url).query)[parameter][0]
        field = re.search(rf'<input[^>]*id="{parameter}"[^>]*>', text).group(0)
        assert 'type="text"' in field and f'value="{value}"' in field and 'aria-invalid="true"' in field
    feed = client.get(url.replace("/catalog", "/catalog.json", 1))
    assert feed.status_code == 400 and feed.mimetype == "application/json"
    error = feed.get_json()["error"]
    assert error["code"] == "CATALOG_QUERY_INVALID" and error["parameter"] == parameter and error["message"]


def test_an_overlong_query_string_and_unknown_entries(client, site):
    huge = client.get("/catalog.json?utm=" + "y" * 3000)
    assert huge.status_code == 400 and huge.get_json()["error"]["code"] == "CATALOG_QUERY_INVALID"
    divisions = site[1]
    for url in (f"/catalog/{divisions.youth.issuer_id}/no-such-course",
                f"/catalog/{divisions.youth.issuer_id}/pathways/storytime-early-literacy",
                "/catalog/999/storytime-early-literacy", f"/catalog/{divisions.youth.issuer_id}/Bad..Slug",
                f"/catalog/{divisions.youth.issuer_id}/" + "a" * 300):
        missing = client.get(url)
        assert missing.status_code == 404, url
    assert client.get(f"/catalog/{divisions.youth.issuer_id}/no-such-course",
                      headers={"Accept": "application/json"}).get_json()["error"]["code"] == "ACHIEVEMENT_NOT_FOUND"


def test_pages_of_results_link_to_each_other(client, site, monkeypatch):
    import issuer.web.catalog as pages

    monkeypatch.setattr(pages, "PAGE_SIZE", 5)
    first = client.get("/catalog?kind=achievement")
    text = first.get_data(as_text=True)
    assert "(page 1 of 3)" in text and len(_titles(first)) == 5
    assert 'href="/catalog?kind=achievement&amp;page=2" rel="next"' in text
    last = client.get("/catalog?kind=achievement&page=3")
    assert len(_titles(last)) == 2 and 'rel="prev"' in last.get_data(as_text=True)  # 12 achievements
    assert "(page 3 of 3)" in client.get("/catalog?kind=achievement&page=40").get_data(as_text=True)


def test_the_association_sites_navigation_links_to_the_catalog(client):
    verify = client.get("/verify").get_data(as_text=True)
    assert re.search(r'<a href="/catalog"\s*>Catalog</a>', verify)
    catalog = client.get("/catalog").get_data(as_text=True)
    assert re.search(r'<a href="/catalog"\s*aria-current="page">Catalog</a>', catalog)


def test_no_catalog_on_a_divisions_site(site):
    divisions = site[1]
    app = create_app({"HOME": str(divisions.youth.settings.home), "RATE_LIMIT": "off"})
    try:
        client = app.test_client()
        assert client.get("/catalog").status_code == 404
        assert client.get("/catalog.json").status_code == 404
        assert ">Catalog</a>" not in client.get("/verify").get_data(as_text=True)
    finally:
        app.extensions["badgesmith"].issuer.close()


def test_only_web_addresses_become_links(tmp_path):
    """A stored alignment or achievement id that is not an http(s) URL is shown as text, never as a link."""
    divisions = build_association(tmp_path)
    try:
        support = divisions.support
        definition = support.achievement("support-staff-foundations")
        ob = {**definition["ob"], "id": "javascript:alert(1)",
              "alignment": [{"type": ["Alignment"], "targetName": "Sneaky", "targetUrl": "javascript:alert(2)"}]}
        support.registry.put_achievement(support.issuer_id, "support-staff-foundations", {**definition, "ob": ob})
        app = create_app({"HOME": str(divisions.association.issuer.settings.home), "RATE_LIMIT": "off"})
        try:
            page = app.test_client().get(f"/catalog/{support.issuer_id}/support-staff-foundations")
            text = page.get_data(as_text=True)
            assert page.status_code == 200 and "Sneaky" in text and "javascript:" not in text
        finally:
            app.extensions["badgesmith"].issuer.close()
    finally:
        divisions.close()
