"""The learner's badge pages and the issuer's published documents, on a real demo instance."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

from app import create_app
from issuer.awarding.demo import run_demo
from schemas.loader import offline_loader
from verifier.fetch import DictFetch
from verifier.pipeline import VerifyOptions, verify_bytes

BASE = "https://badges.lakeshore.example"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    home = tmp_path_factory.mktemp("web") / "inst"
    result = run_demo(home, base_url=BASE, echo=lambda _: None)
    return result


@pytest.fixture(scope="module")
def site(demo):
    app = create_app({"HOME": str(demo.home), "TESTING": True, "RATE_LIMIT": "off"})
    yield app
    app.extensions["badgesmith"].issuer.close()


@pytest.fixture
def client(site):
    return site.test_client()


def _path(url: str) -> str:
    return urlsplit(url).path


def test_badge_page_shows_achievement_recipient_issuer_and_live_status(client, demo):
    html = client.get(_path(demo.pages["course"])).get_data(as_text=True)
    assert "Storytime for Early Literacy" in html
    assert "Jane Doe" in html
    assert "Lakeshore Library Association" in html
    assert 'class="badge-state badge-state--active"' in html
    assert "1.5 CEUs" in html
    assert 'alt="Badge for Storytime for Early Literacy"' in html


def test_revoked_badge_says_revoked_plainly(client, demo):
    html = client.get(_path(demo.pages["revoked"])).get_data(as_text=True)
    assert "badge-state--revoked" in html and "Revoked" in html


def test_badge_page_has_open_graph_and_twitter_tags(client, demo):
    html = client.get(_path(demo.pages["course"])).get_data(as_text=True)
    assert re.search(r'<meta property="og:title" content="Storytime for Early Literacy">', html)
    assert re.search(r'<meta property="og:image" content="http[^"]+/achievements/storytime-early-literacy/image.png">', html)
    assert '<meta name="twitter:card" content="summary">' in html
    assert f'<meta property="og:url" content="{demo.pages["course"]}">' in html


def test_linkedin_link_carries_certification_fields(client, demo):
    html = client.get(_path(demo.pages["certification"])).get_data(as_text=True)
    href = re.search(r'href="(https://www.linkedin.com/profile/add\?[^"]+)"', html).group(1).replace("&amp;", "&")
    query = parse_qs(urlsplit(href).query)
    assert query["startTask"] == ["CERTIFICATION_NAME"]
    assert query["name"] == ["Certified Youth Services Librarian"]
    assert query["organizationName"] == ["Lakeshore Library Association — Youth Services Division"]
    assert query["certUrl"] == [demo.pages["certification"]]
    assert query["certId"][0].startswith("urn:uuid:")
    assert "issueYear" in query and "expirationYear" in query  # a certification expires (valid_for 3y)
    assert int(query["expirationYear"][0]) == int(query["issueYear"][0]) + 3


@pytest.mark.parametrize("accept", ["application/ld+json", "application/json"])
def test_content_negotiation_returns_the_credential(client, demo, accept):
    response = client.get(_path(demo.pages["course"]), headers={"Accept": accept})
    assert response.mimetype == "application/ld+json"
    credential = response.get_json(force=True)
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert "Accept" in response.headers.get("Vary", "")


def test_json_suffix_returns_the_credential(client, demo):
    credential = client.get(_path(demo.pages["course"]) + ".json").get_json(force=True)
    assert credential["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"


def test_baked_png_download_verifies_and_decodes(client, demo):
    response = client.get(_path(demo.pages["course"]) + "/badge.png")
    assert response.mimetype == "image/png" and "attachment" in response.headers["Content-Disposition"]
    Image.open(io.BytesIO(response.data)).load()
    status = client.get("/status/revocation/1").data
    report = verify_bytes(response.data, loader=offline_loader(),
                          fetch=DictFetch({f"{BASE}/status/revocation/1": status}),
                          now=demo_now(), options=VerifyOptions())
    assert report.verified, report.to_text()


def demo_now():
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


def test_status_list_is_served_signed_with_cache_headers(client):
    response = client.get("/status/revocation/1")
    assert response.mimetype == "application/ld+json"
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert "BitstringStatusListCredential" in response.get_json(force=True)["type"]


@pytest.mark.parametrize("path", ["/status/revocation/99999999999999999999999", "/status/revocation/0",
                                  "/status/revocation/-1", "/status/other/1", "/status/revocation/x"])
def test_status_lists_that_do_not_exist_are_404_however_they_are_numbered(client, path):
    assert client.get(path).status_code == 404


def test_revoked_credential_fails_against_the_served_status_list(client, demo):
    data = client.get(_path(demo.pages["revoked"]) + "/badge.png").data
    status = client.get("/status/revocation/1").data
    report = verify_bytes(data, loader=offline_loader(), fetch=DictFetch({f"{BASE}/status/revocation/1": status}),
                          now=demo_now())
    assert report.check("status").code == "REVOKED"


def test_qr_code_decodes_to_the_page_url(client, demo):
    zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp is not installed (pip install '.[test]')")
    data = client.get(_path(demo.pages["course"]) + "/qr.png").data
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))
    assert [r.text for r in results] == [demo.pages["course"]]
    svg = client.get(_path(demo.pages["course"]) + "/qr.svg")
    assert svg.mimetype == "image/svg+xml" and svg.headers["Cache-Control"].startswith("public")


def test_printable_certificate_has_print_css_and_qr(client, demo):
    html = client.get(_path(demo.pages["course"]) + "/certificate").get_data(as_text=True)
    assert "certificate.css" in html and "/qr.svg" in html and "Jane Doe" in html


def test_issuer_profile_and_achievement_are_json_ld_and_resolve_the_credential_ids(client, demo):
    credential = client.get(_path(demo.pages["course"]) + ".json").get_json(force=True)
    achievement_id = credential["credentialSubject"]["achievement"]["id"]
    achievement = client.get(_path(achievement_id), headers={"Accept": "application/ld+json"}).get_json(force=True)
    assert achievement["id"] == achievement_id and achievement["name"] == "Storytime for Early Literacy"
    profile = client.get("/issuer", headers={"Accept": "application/ld+json"}).get_json(force=True)
    assert profile["id"] == credential["issuer"]["id"]
    image = client.get(_path(achievement_id) + "/image")
    assert image.mimetype == "image/png"


def test_html_pages_for_browsers(client):
    assert "Storytime for Early Literacy" in client.get("/achievements/storytime-early-literacy",
                                                        headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Achievements awarded" in client.get("/issuer", headers={"Accept": "text/html"}).get_data(as_text=True)


def test_unknown_credential_is_a_friendly_404(client):
    for path in ["/credentials/not-a-uuid", "/credentials/00000000-0000-4000-8000-000000000000",
                 "/achievements/nope", "/status/revocation/99", "/.well-known/did.json"]:
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Traceback" not in response.get_data(as_text=True)


def test_verify_from_qr_link_uses_the_instances_own_status_list(client, demo):
    uid = _path(demo.pages["revoked"]).rsplit("/", 1)[1]
    html = client.get(f"/verify?credential={uid}").get_data(as_text=True)
    assert "Not verified" in html and "revoked" in html


def test_did_web_instance_serves_its_did_document(tmp_path):
    from issuer.instance.folder import init_instance
    from keys.ed25519 import KeyPair
    from keys.keystore import save_key

    settings = init_instance(tmp_path / "w", name="Web Issuer", url=BASE, did_web="badges.lakeshore.example")
    save_key(settings.keys_dir, settings.key_id, KeyPair.generate())
    app = create_app({"HOME": str(settings.home), "TESTING": True})
    try:
        document = app.test_client().get("/.well-known/did.json").get_json(force=True)
        assert document["id"] == "did:web:badges.lakeshore.example"
        assert document["assertionMethod"] == ["did:web:badges.lakeshore.example#key-1"]
    finally:
        app.extensions["badgesmith"].issuer.close()
