"""GET/POST /verify: the form, the result page, QR-code links, and escaping of hostile text."""

from __future__ import annotations

import io
import json
import re
from html.parser import HTMLParser

import pytest

from app import create_app

HOSTILE = "<script>alert(1)</script>"


class _Inputs(HTMLParser):
    """Collects form controls and the ``for`` targets of labels."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.images: list[dict[str, str | None]] = []
        self.scripts: list[dict[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("input", "textarea", "select") and attributes.get("type") not in ("hidden", "submit"):
            self.controls.append(attributes)
        elif tag == "label" and attributes.get("for"):
            self.label_for.add(attributes["for"])
        elif tag == "img":
            self.images.append(attributes)
        elif tag == "script":
            self.scripts.append(attributes)


def _parse(html: str) -> _Inputs:
    parser = _Inputs()
    parser.feed(html)
    return parser


def _verdict(html: str) -> str:
    match = re.search(r'<h1 class="verdict__text" id="verdict">(.*?)</h1>', html, re.S)
    assert match, "no verdict heading on the page"
    return match.group(1).strip()


class TestForm:
    def test_form_has_a_label_for_every_input(self, client):
        page = _parse(client.get("/verify").get_data(as_text=True))
        names = {c.get("name") for c in page.controls}
        assert names == {"file", "credential", "email"}
        for control in page.controls:
            assert control.get("id") in page.label_for, control

    def test_form_posts_multipart_to_verify_with_external_script_only(self, client):
        html = client.get("/verify").get_data(as_text=True)
        assert 'enctype="multipart/form-data"' in html and 'action="/verify"' in html
        page = _parse(html)
        assert page.scripts and all(s.get("src", "").startswith("/static/") for s in page.scripts)
        assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
        assert 'name="viewport"' in html and 'href="#main"' in html

    def test_root_redirects_to_the_verify_page(self, client):
        response = client.get("/")
        assert response.status_code == 302 and response.headers["Location"].endswith("/verify")


class TestResult:
    def test_pasted_json_shows_verdict_then_details(self, client, make_credential):
        html = client.post("/verify", data={"credential": json.dumps(make_credential())}).get_data(as_text=True)
        verdict = _verdict(html)
        assert verdict == ("Verified: Reference Interview Techniques, issued by Continuing Education Office "
                           "to Ada Lovelace on 1 March 2026.")
        assert 'role="status"' in html
        for text in ("Course", "A six-hour course on the reference interview.",
                     "Attend all sessions and pass the quiz.", "1.5 earned of 1.5 available",
                     "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
                     "The issuer is not on your list of known issuers.", "Signature", "PROOF_OK"):
            assert text in html, text
        assert html.index("verdict") < html.index("What was achieved") < html.index("Every check")

    def test_failed_verification_leads_with_not_verified_and_reason(self, client, make_credential):
        html = client.post("/verify", data={"credential": json.dumps(make_credential(tampered=True))}
                           ).get_data(as_text=True)
        assert _verdict(html) == ("Not verified: The signature does not match the credential: "
                                  "it was changed after signing.")
        assert "verdict--fail" in html and "✗" in html

    def test_uploaded_png_is_verified_and_not_shown_back(self, client, make_credential, bake_png):
        png = bake_png(make_credential("PNG badge"))
        response = client.post("/verify", data={"file": (io.BytesIO(png), "badge.png")},
                               content_type="multipart/form-data")
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and _verdict(html).startswith("Verified: PNG badge")
        assert "<img" not in html and "data:image" not in html
        assert response.headers["Cache-Control"] == "no-store"

    def test_hostile_names_are_escaped(self, client, make_credential):
        credential = make_credential(HOSTILE, issuer={"id": "https://evil.example", "name": HOSTILE})
        credential["credentialSubject"]["achievement"]["description"] = '<img src=x onerror="alert(2)">'
        html = client.post("/verify", data={"credential": json.dumps(credential)}).get_data(as_text=True)
        assert HOSTILE not in html and "<img" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in _verdict(html)

    def test_hostile_svg_upload_is_never_served_back(self, client, make_credential, bake_svg):
        svg = bake_svg(make_credential(), hostile=True)
        response = client.post("/verify", data={"file": (io.BytesIO(svg), "badge.svg")},
                               content_type="multipart/form-data")
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "<svg" not in html and 'alert("svg")' not in html and "onload" not in html

    def test_third_party_image_needs_a_click(self, client, make_credential):
        credential = make_credential()
        credential["credentialSubject"]["achievement"]["image"] = {"id": "https://tracker.example/b.png",
                                                                   "type": "Image"}
        html = client.post("/verify", data={"credential": json.dumps(credential)}).get_data(as_text=True)
        assert "<img" not in html
        assert re.search(r'<a [^>]*href="https://tracker.example/b.png"[^>]*rel="noopener noreferrer nofollow"',
                         html)
        assert "Show image from tracker.example" in html

    def test_non_http_image_url_is_not_linked(self, client, make_credential):
        credential = make_credential()
        credential["credentialSubject"]["achievement"]["image"] = "javascript:alert(1)"
        html = client.post("/verify", data={"credential": json.dumps(credential)}).get_data(as_text=True)
        assert "javascript:" not in html

    def test_email_is_checked_and_named_in_the_verdict(self, client, make_credential, fake_verify):
        credential = make_credential(_email="ada@example.org")
        del credential["credentialSubject"]["identifier"]
        html = client.post("/verify", data={"credential": json.dumps(credential), "email": "ada@example.org"}
                           ).get_data(as_text=True)
        assert fake_verify.calls[-1][1] == "ada@example.org"
        assert "to ada@example.org on 1 March 2026" in _verdict(html)


class TestFormErrors:
    def test_empty_form_shows_the_form_again_with_a_message(self, client):
        response = client.post("/verify", data={"credential": "  ", "email": "ada@example.org"})
        html = response.get_data(as_text=True)
        assert response.status_code == 400
        assert 'role="alert"' in html and "NO_CREDENTIAL" in html
        assert 'value="ada@example.org"' in html

    def test_unreadable_paste_is_400_with_code_and_comes_back_to_be_fixed(self, client):
        pasted = '{"name": "<b>Ada</b>", broken'
        response = client.post("/verify", data={"credential": pasted})
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert "JSON_MALFORMED" in html
        assert '>{&#34;name&#34;: &#34;&lt;b&gt;Ada&lt;/b&gt;&#34;, broken</textarea>' in html  # escaped, kept

    def test_file_and_paste_together_are_refused(self, client, make_credential, bake_png):
        response = client.post("/verify", data={"file": (io.BytesIO(bake_png(make_credential())), "b.png"),
                                                "credential": "{}"}, content_type="multipart/form-data")
        assert response.status_code == 400

    def test_oversize_upload_gets_a_friendly_413_page(self, app_config):
        client = create_app({**app_config, "MAX_CONTENT_LENGTH": 1000}).test_client()
        response = client.post("/verify", data={"file": (io.BytesIO(b"x" * 5000), "big.png")},
                               content_type="multipart/form-data")
        assert response.status_code == 413
        html = response.get_data(as_text=True)
        assert "That file is too large" in html and "INPUT_TOO_LARGE" in html

    def test_form_is_rate_limited_too(self, app_config, make_credential):
        client = create_app({**app_config, "RATE_LIMIT": "1/hour"}).test_client()
        data = {"credential": json.dumps(make_credential())}
        assert client.post("/verify", data=data).status_code == 200
        response = client.post("/verify", data=data)
        assert response.status_code == 429 and "RATE_LIMITED" in response.get_data(as_text=True)
        assert "Retry-After" in response.headers


class TestStoredCredential:
    def test_qr_link_verifies_the_stored_credential(self, client, stored, make_credential):
        stored["urn:uuid:1234"] = json.dumps(make_credential("Stored badge")).encode()
        response = client.get("/verify?credential=urn:uuid:1234")
        assert response.status_code == 200
        assert _verdict(response.get_data(as_text=True)).startswith("Verified: Stored badge")

    def test_unknown_id_is_a_friendly_404_page(self, client):
        response = client.get("/verify?credential=urn:uuid:nope")
        html = response.get_data(as_text=True)
        assert response.status_code == 404
        assert "We could not find that badge" in html and "CREDENTIAL_NOT_FOUND" in html
        assert 'href="/verify"' in html

    def test_qr_link_without_lookup_is_404(self, fake_verify):
        app = create_app({"TESTING": True, "HOME": None, "VERIFY": fake_verify, "RATE_LIMIT": "off"})
        client = app.test_client()
        assert client.get("/verify?credential=x").status_code == 404

    def test_page_not_found_is_html_with_the_site_layout(self, client):
        response = client.get("/nothing")
        assert response.status_code == 404
        assert "Page not found" in response.get_data(as_text=True)
        assert response.mimetype == "text/html"


@pytest.mark.parametrize("path", ["/verify", "/nothing"])
def test_pages_have_landmarks_and_skip_link(client, path):
    html = client.get(path).get_data(as_text=True)
    for marker in ('<header', '<nav aria-label="Main">', '<main id="main"', '<footer', 'class="skip-link"',
                   '<html lang="en">'):
        assert marker in html
    assert not _parse(html).images or all(img.get("alt") is not None for img in _parse(html).images)
