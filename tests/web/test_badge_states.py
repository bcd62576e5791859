"""Every state of a badge page looks like what it is, and certificates are real PDFs people can file."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta, timezone

import pytest

from app import create_app
from issuer.awarding.issuing import Issuer

from .conftest import build_state_site

BASE = "https://badges.lakeshore.example"
BRAND = '''
[brand]
name = "Lakeshore Library Association"
logo = "logo.svg"
primary_color = "#5a2a82"
contact_email = "ce-office@lakeshore.example"
linkedin_organization_id = "4242"
signature_name = "Dr. Maria Chen"
signature_title = "Director of Continuing Education"
footer_links = [{ label = "Privacy", url = "https://lakeshore.example/privacy" },
                { label = "CE policies", url = "https://lakeshore.example/ce" }]
'''
LOGO = (b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
        b'<circle cx="32" cy="32" r="30" fill="#5a2a82"/><text x="32" y="42" font-size="28" fill="#fff" '
        b'text-anchor="middle">L</text></svg>')


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    home = tmp_path_factory.mktemp("states") / "inst"
    pages = build_state_site(home, BASE)
    (home / "logo.svg").write_bytes(LOGO)
    with (home / "badgesmith.toml").open("a") as settings:
        settings.write(BRAND)
    pages["home"] = str(home)
    return pages


@pytest.fixture(scope="module")
def site(pages):
    app = create_app({"HOME": pages["home"], "TESTING": True, "RATE_LIMIT": "off"})
    yield app
    app.extensions["badgesmith"].issuer.close()


@pytest.fixture
def client(site):
    return site.test_client()


def _get(client, url: str, **query) -> str:
    response = client.get(url.removeprefix(BASE), base_url=BASE, query_string=query)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


@pytest.mark.parametrize("state, label, sentence", [
    ("revoked", "revoked", r"Revoked by the issuer on \d{1,2} [A-Z][a-z]+ \d{4}\. Reason given: Demo: issued in error"),
    ("suspended", "suspended", r"Suspended by the issuer on \d{1,2} [A-Z][a-z]+ \d{4}; it may be reinstated\. "
                               r"Reason given: Attendance records are being checked"),
    ("expired", "expired", r"Expired on \d{1,2} [A-Z][a-z]+ \d{4}\."),
])
def test_badge_not_in_force_has_a_banner_dimmed_art_and_no_share_buttons(client, pages, state, label, sentence):
    html = _get(client, pages[state])
    banner = re.search(r'id="state-banner">(.*?)</div>', html, re.S).group(1)
    assert f"This badge is {label}." in banner and re.search(sentence, " ".join(banner.split())), banner
    assert "badge-hero__image--dimmed" in html
    for gone in ("linkedin.com", 'id="linkedin-link"', "certificate.pdf", "/certificate\"", "Credential for a wallet",
                 "badge.png"):
        assert gone not in html, gone
    assert "/credential.json" in html, "the JSON stays downloadable"


def test_badge_not_yet_valid_says_so(pages):
    early = datetime.now(timezone.utc) - timedelta(days=400)
    issuer = Issuer.open(pages["home"], now=lambda: early)
    app = create_app({"HOME": pages["home"], "ISSUER": issuer, "TESTING": True, "RATE_LIMIT": "off"})
    try:
        html = _get(app.test_client(), pages["course"])
    finally:
        issuer.close()
    # Information, not an error (an early renewal looks just like this): when it starts, never "Valid".
    assert "This badge starts on " in html and "Not valid until" in html and 'role="alert"' not in html
    assert 'badge-state--pending' in html and ">Valid<" not in html
    assert 'id="linkedin-link"' not in html


def test_active_badge_uses_the_brand_and_one_date_format(client, pages):
    html = _get(client, pages["certification"])
    assert "<title>Certified Youth Services Librarian · Lakeshore Library Association</title>" in html
    assert '<meta property="og:site_name" content="Lakeshore Library Association">' in html
    assert 'class="brand__name">Lakeshore Library Association<' in html and 'src="/brand/logo"' in html
    assert "Powered by Badgesmith" in html and html.count("Badgesmith") == 1
    assert 'href="https://lakeshore.example/privacy">Privacy</a>' in html
    assert "mailto:ce-office@lakeshore.example" in html
    assert "organizationId=4242" in html and "Certification" in html
    assert not re.search(r">\s*\d{4}-\d{2}-\d{2}\s*<", html), "dates are written one way: 6 December 2026"
    assert 'href="/brand/style.css"' in html
    css = client.get("/brand/style.css", base_url=BASE).get_data(as_text=True)
    assert "--brand: #5a2a82" in css


def test_human_labels_for_achievement_types(client, pages):
    html = _get(client, pages["revoked"])
    assert "Micro-credential" in html and "MicroCredential<" not in html


def test_certificate_page_of_a_revoked_badge_is_stamped(client, pages):
    html = _get(client, pages["revoked"] + "/certificate")
    assert re.search(r'id="certificate-stamp"[^>]*>REVOKED<', html)
    assert "Revoked by the issuer on" in html
    assert "Scan to check the current status" in html and "Status</dt>" not in html


def _pdf(client, url: str, **query) -> bytes:
    response = client.get(url.removeprefix(BASE) + "/certificate.pdf", base_url=BASE, query_string=query)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return response.data


@pytest.mark.parametrize("paper, size_pt", [("a4", (842, 595)), ("letter", (792, 612))])
def test_certificate_pdf_has_the_facts_and_a_qr_code_to_the_badge_page(client, pages, paper, size_pt):
    pdfium = pytest.importorskip("pypdfium2", reason="pypdfium2 is not installed (pip install '.[test]')")
    zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp is not installed (pip install '.[test]')")
    document = pdfium.PdfDocument(_pdf(client, pages["course"], paper=paper))
    assert len(document) == 1
    page = document[0]
    assert tuple(round(v) for v in page.get_size()) == size_pt, "landscape"
    text = " ".join(page.get_textpage().get_text_range().split())
    uid = pages["course"].rsplit("/", 1)[1]
    for fact in ("LAKESHORE LIBRARY ASSOCIATION", "Certificate of Achievement", "Jane Doe",
                 "Storytime for Early Literacy", "1.5 continuing-education units (CEUs)", "Awarded ",
                 "Dr. Maria Chen", "Director of Continuing Education", "Scan to check the current status",
                 f"Credential code {uid[:4].upper()}-{uid[4:8].upper()}", pages["course"]):
        assert fact in text, fact
    assert re.search(r"Awarded \d{1,2} [A-Z][a-z]+ \d{4}", text)
    assert "REVOKED" not in text and "Valid" not in text, "no status that goes stale on paper"
    image = page.render(scale=3).to_pil()
    codes = zxingcpp.read_barcodes(image)
    assert [c.text for c in codes] == [pages["course"]]


def test_certificate_pdf_of_a_revoked_badge_is_stamped(client, pages):
    pdfium = pytest.importorskip("pypdfium2", reason="pypdfium2 is not installed (pip install '.[test]')")
    text = pdfium.PdfDocument(_pdf(client, pages["revoked"]))[0].get_textpage().get_text_range()
    assert "REVOKED" in text and "Revoked by the issuer on" in text


def test_certificate_pdf_of_a_long_name_stays_on_the_page(client, pages):
    pdfium = pytest.importorskip("pypdfium2", reason="pypdfium2 is not installed (pip install '.[test]')")
    page = pdfium.PdfDocument(_pdf(client, pages["attendance"], paper="letter"))[0]
    width, height = page.get_size()
    textpage = page.get_textpage()
    for index in range(textpage.count_rects()):
        left, bottom, right, top = textpage.get_rect(index)
        assert 0 <= left and right <= width and 0 <= bottom and top <= height
    text = " ".join(textpage.get_text_range().split())
    assert "Maximiliana Wolfeschlegelsteinhausen-Bergerdorff" in text
    assert pages["attendance"] in text, "the URL is printed whole, on one line"


def test_certificate_pdf_paper_must_be_a4_or_letter(client, pages):
    url = pages["course"].removeprefix(BASE) + "/certificate.pdf"
    assert client.get(url, base_url=BASE, query_string={"paper": "a3"}).status_code == 404
