"""issuer.badge.art: badge art as SVG (escaped, valid XML) and PNG (400x400)."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

from PIL import Image

from issuer.badge.art import render_badge_png, render_badge_svg

SVG = "{http://www.w3.org/2000/svg}"


def _texts(svg: bytes) -> list[str]:
    return ["".join(node.itertext()).strip() for node in ET.fromstring(svg).iter(f"{SVG}text")]


def test_render_badge_svg_shows_type_name_credits_and_issuer():
    svg = render_badge_svg("Storytime Skills", "Course", "1.5 CEUs", "Youth Services Division")
    texts = _texts(svg)
    assert texts[0] == "COURSE"
    assert "Storytime Skills" in " ".join(" ".join(texts).split())
    assert "1.5 CEUs" in texts and "Youth Services Division" in texts


def test_render_badge_svg_escapes_markup_in_every_field():
    name = 'Tom & Jerry <script>alert("x")</script>'
    svg = render_badge_svg(name, "<b>Course</b>", "1 & 2", "A&B <Library>")
    assert b"<script" not in svg and b"<b>" not in svg and b"<Library>" not in svg
    assert b"Tom &amp; Jerry &lt;script&gt;" in svg
    root = ET.fromstring(svg)  # still well-formed XML
    assert root.find(f"{SVG}title").text == name
    assert "A&B <Library>" in _texts(svg)


def _name_lines(svg: bytes) -> list[str]:
    texts = [t for t in ET.fromstring(svg).iter(f"{SVG}text") if t.get("font-weight") == "bold" and len(t)]
    return [span.text for span in texts[0].iter(f"{SVG}tspan")]


def test_render_badge_svg_wraps_a_long_name_whole_in_at_most_five_lines():
    name = "Advanced Reference Interview Techniques for Public and Academic Libraries in Practice"
    lines = _name_lines(render_badge_svg(name, "Certification", None, "X"))
    assert 2 <= len(lines) <= 5 and " ".join(lines) == name
    assert all(len(line) <= 40 for line in lines)


def test_render_badge_svg_fits_a_very_long_name_type_and_issuer_whole():
    name = "Lakeshore Library Association Annual Conference 2025 — Certificate of Attendance"
    issuer = "Lakeshore Library Association — Youth Services Division"
    svg = render_badge_svg(name, "CertificateOfCompletion", "0.6 CEUs", issuer)
    assert " ".join(_name_lines(svg)) == name, "wrapped in a smaller size, not cut"
    texts = _texts(svg)
    assert "CERTIFICATE OF COMPLETION" in texts and "…" not in "".join(texts)
    assert issuer.split()[-1] in texts[-1]


def test_render_badge_svg_humanises_types_and_numeric_credits():
    texts = _texts(render_badge_svg("N", "ext:MicroCredential", 2, "I"))
    assert texts[0] == "MICRO CREDENTIAL" and "2 credits" in texts


def test_render_badge_svg_drops_control_characters():
    ET.fromstring(render_badge_svg("bad\x00name\x1b", "Course", None, "I\x07"))


def test_render_badge_png_is_a_400px_image_readable_at_200():
    png = render_badge_png("Storytime Skills for Early Literacy", "Certification", "1.5 CEUs", "Youth Services")
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        assert image.format == "PNG" and image.size == (400, 400)
        small = image.convert("RGBA").convert("RGB").resize((200, 200))  # a palette with alpha: via RGBA
        # the face and the text are both there: light and dark pixels in the middle
        lo, hi = small.convert("L").crop((60, 60, 140, 110)).getextrema()
        assert lo < 120 and hi > 220


def test_render_badge_png_and_svg_accept_markup_in_names():
    assert render_badge_png("<script>&", None, None, None).startswith(b"\x89PNG")
