"""The association's brand: the ``[brand]`` table of ``badgesmith.toml``.

What the public sees — the header, page titles, Open Graph tags, certificates
and e-mails — carries the association's name, logo and colour; "Badgesmith"
is only a small "powered by". Every key is optional::

    [brand]
    name = "Lakeshore Library Association"          # default: [issuer] name
    logo = "brand/logo.svg"                          # PNG or SVG, relative to the instance folder
    primary_color = "#1f3a5f"                        # header and buttons; white text must read on it
    contact_email = "ce@lakeshore.example"           # default: [issuer] email
    linkedin_organization_id = "1234567"             # LinkedIn "add to profile" names the organisation
    signature_name = "Dr. Maria Chen"                # the certificate's signature line
    signature_title = "Director of Continuing Education"
    footer_links = [{ label = "Privacy", url = "https://lakeshore.example/privacy" }]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from issuer.badge.achievement import MAX_IMAGE_BYTES, check_image

KEYS = ("name", "logo", "primary_color", "contact_email", "footer_links", "linkedin_organization_id",
        "signature_name", "signature_title")
MAX_FOOTER_LINKS = 8
DEFAULT_COLOR = "#1f3a5f"
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_LINKEDIN_ID = re.compile(r"^[0-9]{1,20}$")


@dataclass(frozen=True, slots=True)
class FooterLink:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Brand:
    """What the public sees. ``logo`` is an absolute path; ``logo_type`` "png" or "svg"."""

    name: str
    primary_color: str = DEFAULT_COLOR
    logo: Path | None = None
    logo_type: str | None = None
    contact_email: str | None = None
    footer_links: tuple[FooterLink, ...] = ()
    linkedin_organization_id: str | None = None
    signature_name: str | None = None
    signature_title: str | None = None

    @property
    def is_custom_color(self) -> bool:
        return self.primary_color.lower() != DEFAULT_COLOR

    def logo_bytes(self) -> bytes | None:
        return self.logo.read_bytes() if self.logo is not None else None


def contrast_with_white(color: str) -> float:
    """WCAG 2 contrast ratio of white text on ``#rrggbb``."""
    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(color[i:i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 1.05 / (luminance + 0.05)


# Each check returns the value to keep or raises ValueError with the problem (instance.py adds file and line).


def check_color(value: Any) -> str:
    if not isinstance(value, str) or not _COLOR.match(value.strip()):
        raise ValueError(f"primary_color must be a colour like \"#1f3a5f\", not {value!r}")
    color = value.strip().lower()
    ratio = contrast_with_white(color)
    if ratio < 4.5:
        raise ValueError(f"primary_color {color} is too light: white header text on it has a contrast of "
                         f"{ratio:.1f}:1 and at least 4.5:1 is needed; choose a darker shade")
    return color


def check_linkedin_id(value: Any) -> str:
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str) or not _LINKEDIN_ID.match(text.strip()):
        raise ValueError("linkedin_organization_id must be the number in your LinkedIn page's admin address "
                         "(linkedin.com/company/<number>/admin)")
    return text.strip()


def check_footer_links(value: Any, check_url: Callable[[Any], str]) -> tuple[FooterLink, ...]:
    if not isinstance(value, list) or len(value) > MAX_FOOTER_LINKS:
        raise ValueError(f"footer_links must be a list of at most {MAX_FOOTER_LINKS} "
                         "{ label = \"…\", url = \"https://…\" } entries")
    links = []
    for number, item in enumerate(value, start=1):
        if not isinstance(item, dict) or set(item) != {"label", "url"}:
            raise ValueError(f"footer link {number} must have exactly a label and a url")
        label, url = item["label"], item["url"]
        if not isinstance(label, str) or not label.strip() or len(label) > 60:
            raise ValueError(f"footer link {number}'s label must be text of at most 60 characters")
        if isinstance(url, str) and url.strip().startswith("mailto:") and "@" in url:
            url = url.strip()
        else:
            url = check_url(url)
        links.append(FooterLink(label.strip(), url))
    return tuple(links)


def check_logo(value: Any, home: Path) -> tuple[Path, str]:
    """(absolute path, "png" | "svg") of a logo that passes the badge-art checks."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("logo must be a file name in quotes, relative to the instance folder")
    path = (home / value.strip()).resolve()
    if not path.is_file():
        raise ValueError(f"the logo {value!r} does not exist in {home}")
    if path.stat().st_size > MAX_IMAGE_BYTES:
        raise ValueError(f"the logo is larger than {MAX_IMAGE_BYTES // 1024 // 1024} MiB")
    try:
        return path, check_image(path.read_bytes())
    except ValueError as error:
        raise ValueError(f"the logo {value!r} {error}") from None


__all__ = ["Brand", "DEFAULT_COLOR", "FooterLink", "KEYS", "check_color", "check_footer_links", "check_linkedin_id",
           "check_logo", "contrast_with_white"]
