"""The ``[brand]`` table: what the public sees, checked when the settings load."""

from __future__ import annotations

import pytest

from errors import Code, ConfigError
from issuer.instance.brand import DEFAULT_COLOR, contrast_with_white
from issuer.instance.folder import init_instance
from issuer.instance.settings import load_settings


def _home(tmp_path, brand: str):
    settings = init_instance(tmp_path / "inst", name="Lakeshore CE Office", url="https://badges.example.org",
                             email="ce@lakeshore.example")
    with (settings.home / "badgesmith.toml").open("a") as out:
        out.write("\n[brand]\n" + brand)
    return settings.home


def test_no_brand_table_means_the_issuer_name_and_email(tmp_path):
    settings = init_instance(tmp_path / "inst", name="Lakeshore CE Office", url="https://badges.example.org",
                             email="ce@lakeshore.example")
    brand = load_settings(settings.home).public_brand
    assert (brand.name, brand.contact_email, brand.primary_color, brand.logo) == (
        "Lakeshore CE Office", "ce@lakeshore.example", DEFAULT_COLOR, None)


def test_brand_table_is_read(tmp_path):
    home = _home(tmp_path, 'name = "Lakeshore Library Association"\nlogo = "logo.png"\nprimary_color = "#5A2A82"\n'
                           'linkedin_organization_id = 4242\n'
                           'footer_links = [{ label = "Privacy", url = "https://lakeshore.example/privacy" },\n'
                           '  { label = "Write to us", url = "mailto:ce@lakeshore.example" }]\n')
    from PIL import Image
    Image.new("RGB", (32, 32), (90, 42, 130)).save(home / "logo.png")
    brand = load_settings(home).public_brand
    assert brand.name == "Lakeshore Library Association" and brand.primary_color == "#5a2a82"
    assert brand.logo == home / "logo.png" and brand.logo_type == "png"
    assert brand.linkedin_organization_id == "4242"
    assert [(link.label, link.url) for link in brand.footer_links] == [
        ("Privacy", "https://lakeshore.example/privacy"), ("Write to us", "mailto:ce@lakeshore.example")]


@pytest.mark.parametrize("line, words", [
    ('primary_color = "#ffd700"', "too light"),
    ('primary_color = "gold"', "a colour like"),
    ('logo = "missing.svg"', "does not exist"),
    ('logo = "logo.txt"', "is not a PNG or SVG image"),
    ('linkedin_organization_id = "acme"', "the number in your LinkedIn page"),
    ('footer_links = [{ label = "Home", url = "javascript:alert(1)" }]', "must be a full address"),
    ('footer_links = [{ text = "Home" }]', "exactly a label and a url"),
    ('colour = "#000000"', "unknown key 'colour'"),
])
def test_wrong_brand_values_are_refused_naming_the_line(tmp_path, line, words):
    home = _home(tmp_path, line + "\n")
    (home / "logo.txt").write_text("not an image")
    with pytest.raises(ConfigError) as info:
        load_settings(home)
    assert info.value.code is Code.CONFIG_INVALID and words in info.value.message
    assert info.value.details["line"] is not None


def test_contrast_of_white_on_the_default_colour_is_readable():
    assert contrast_with_white(DEFAULT_COLOR) > 10 and contrast_with_white("#ffffff") == pytest.approx(1)
