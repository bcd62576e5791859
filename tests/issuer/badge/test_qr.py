"""issuer.badge.qr: scannable PNG and valid SVG QR codes, the same matrix qrcode makes, fast."""

from __future__ import annotations

import io
import random
import string
import xml.etree.ElementTree as ET

import pytest
import qrcode
import zxingcpp
from PIL import Image

from issuer.badge.qr import QUIET_ZONE, _symbol, qr_png, qr_svg

URL = "https://badges.example.org/credentials/3f2b1c9e-8d7a-4e6f-9a1b-2c3d4e5f6a7b"


def _decode(image: Image.Image) -> str:
    results = zxingcpp.read_barcodes(image)
    assert len(results) == 1
    return results[0].text


@pytest.mark.parametrize("url", [URL, "https://x.org/c/1", URL + "?q=" + "a" * 300])
def test_qr_png_decodes_to_the_url(url):
    with Image.open(io.BytesIO(qr_png(url))) as image:
        assert image.format == "PNG"
        assert _decode(image) == url


def test_qr_png_has_the_quiet_zone_and_scale():
    rows, size = _symbol(URL)
    with Image.open(io.BytesIO(qr_png(URL, scale=5))) as image:
        assert image.size == ((size + 2 * QUIET_ZONE) * 5,) * 2
        gray = image.convert("L")
        margin = QUIET_ZONE * 5
        assert gray.crop((0, 0, image.width, margin)).getextrema() == (255, 255)
        assert gray.crop((image.width - margin, 0, image.width, image.height)).getextrema() == (255, 255)
        assert gray.getpixel((margin, margin)) == 0  # finder pattern corner


def test_qr_svg_is_valid_xml_and_decodes():
    svg = qr_svg(URL)
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    rows, size = _symbol(URL)
    width = size + 2 * QUIET_ZONE
    assert root.get("viewBox") == f"0 0 {width} {width}"
    # Rasterise the path's runs and scan it: the SVG encodes the same modules.
    path = root.find("{http://www.w3.org/2000/svg}path").get("d")
    image = Image.new("L", (width * 6, width * 6), 255)
    for run in path.split("z")[:-1]:
        x, rest = run[1:].split(" ")
        y, length = rest.split("h")[0], int(rest.split("h")[1].split("v")[0])
        image.paste(0, (int(x) * 6, int(y) * 6, (int(x) + length) * 6, (int(y) + 1) * 6))
    assert _decode(image) == URL


def test_symbol_is_the_matrix_qrcode_makes_with_its_own_mask_choice():
    rng = random.Random(3)
    urls = [URL] + ["https://b.example/" + "".join(rng.choices(string.ascii_letters + "-/", k=n))
                    for n in (1, 20, 60, 120, 200, 400, 900)]
    # every length up to version 10 (block structures, remainder bits, length fields), runs of 20+ digits or
    # upper-case characters (their own modes), UTF-8, and the largest symbols
    urls += ["https://b.example/" + "".join(rng.choices(string.ascii_letters + string.digits + "-/", k=n))
             for n in range(0, 300, 5)]
    urls += ["https://b.example/" + "1234567890" * 3 + "/a", "HTTPS://B.EXAMPLE/" + "ABC123$%*+-./: " * 3,
             "https://é.example/ü/" + "x" * 40, "".join(rng.choices(string.digits, k=3000)),
             "".join(rng.choices("AB12 $%*+-./:", k=1500)), "https://b.example/" + "y" * 2300]
    for url in urls:
        reference = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
        reference.add_data(url)
        reference.make(fit=True)
        expected = [int("".join("1" if m else "0" for m in row), 2) for row in reference.modules]
        assert _symbol(url) == (expected, len(expected)), url


@pytest.mark.parametrize("scale", [1, 3, 4, 8])
def test_qr_png_is_a_one_bit_png_that_pillow_reads_module_for_module(scale):
    rows, size = _symbol(URL)
    width = size + 2 * QUIET_ZONE
    with Image.open(io.BytesIO(qr_png(URL, scale=scale))) as image:
        assert image.mode == "1" and image.size == (width * scale,) * 2
        gray = image.convert("L")
        for y in range(width):
            for x in range(width):
                dark = (QUIET_ZONE <= y < size + QUIET_ZONE and QUIET_ZONE <= x < size + QUIET_ZONE
                        and rows[y - QUIET_ZONE] >> (size - 1 - (x - QUIET_ZONE)) & 1)
                corner = gray.getpixel((x * scale, y * scale))
                assert corner == gray.getpixel((x * scale + scale - 1, y * scale + scale - 1))
                assert corner == (0 if dark else 255), (x, y)
