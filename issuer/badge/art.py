"""Badge art for achievements that come without an image: one design, SVG and PNG.

A rosette with two ribbon tails: the achievement type on top, the name
(wrapped to three lines, or up to five in a smaller size) in the middle, the credits below it, and
the issuer's name on a banner. The geometry and the text layout are worked
out once here and shared by the Jinja SVG template
(``templates/badge_art/badge.svg.j2``, autoescaped) and the Pillow drawing,
so the two images match. Text is measured with the same font the PNG uses,
which keeps long names inside the badge in both.
"""

from __future__ import annotations

import io
import math
import os
import re
import textwrap
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from PIL import Image, ImageDraw, ImageFont

import templates
from verifier.wording import achievement_type_label

SIZE = 400
_CX, _CY = 200, 168
_OUTER, _INNER = 160, 136
_MAX_LINES = 5
_NAME_WIDTH = 232  # pixels of the face a name line may use
_BANNER_WIDTH = 300
_TYPE_WIDTH = 200  # the chord of the face at the type line, less a margin
_MAX_TYPE_CHARS = 32
_SUPERSAMPLE = 2  # the PNG is drawn at 2x and scaled down: smooth edges
_FONT_NAMES = ("DejaVuSans-Bold.ttf", "DejaVuSans.ttf", "LiberationSans-Bold.ttf",
               "LiberationSans-Regular.ttf", "FreeSansBold.ttf", "Arial Bold.ttf", "Arial.ttf")
_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "/Library/Fonts",
              "C:/Windows/Fonts")
# Colours per achievement type; anything else gets the default.
_PALETTES = {
    "certification": dict(edge="#c9a227", face="#fff8e1", ring="#8d6e12", ribbon="#7a1f2b"),
    "certificate": dict(edge="#c9a227", face="#fff8e1", ring="#8d6e12", ribbon="#7a1f2b"),
    "license": dict(edge="#c9a227", face="#fff8e1", ring="#8d6e12", ribbon="#7a1f2b"),
    "course": dict(edge="#2f6db5", face="#eef4fb", ring="#1d4a80", ribbon="#1d4a80"),
    "microcredential": dict(edge="#2e8b57", face="#eefaf2", ring="#1f6b40", ribbon="#1f6b40"),
}
_DEFAULT_PALETTE = dict(edge="#5b4b8a", face="#f3f0fa", ring="#3d3163", ribbon="#3d3163")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def render_badge_svg(name: str, achievement_type: str | None = None,
                     credits: str | float | None = None, issuer_name: str | None = None) -> bytes:
    """Render badge art as UTF-8 SVG bytes (400x400, every text value escaped).

    ``credits`` is shown as given ("1.5 CEUs"); a bare number is shown as
    "<n> credits". ``achievement_type`` may be an OB enum value
    ("MicroCredential", "ext:Workshop"); it is shown as words.
    """
    return _environment().get_template("badge.svg.j2").render(
        **_design(name, achievement_type, credits, issuer_name)).encode("utf-8")


def render_badge_png(name: str, achievement_type: str | None = None,
                     credits: str | float | None = None, issuer_name: str | None = None) -> bytes:
    """Render the same badge art as a 400x400 PNG with a transparent background (readable down to 200 px)."""
    design = _design(name, achievement_type, credits, issuer_name)
    s = _SUPERSAMPLE
    image = Image.new("RGBA", (SIZE * s, SIZE * s), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    palette = design["palette"]

    def scaled(points: list[str]) -> list[tuple[float, float]]:
        pairs = (point.split(",") for point in points)
        return [(float(x) * s, float(y) * s) for x, y in pairs]

    for tail in design["tails"]:
        draw.polygon(scaled(tail), fill=palette["ribbon"])
    draw.polygon(scaled(design["rosette"]), fill=palette["edge"])
    r = _INNER * s
    draw.ellipse((_CX * s - r, _CY * s - r, _CX * s + r, _CY * s + r), fill=palette["face"],
                 outline=palette["ring"], width=design["ring_width"] * s)
    _text(draw, design["achievement_type"], design["type_y"], design["type_size"], palette["text"],
          bold=True)
    for line in design["name_lines"]:
        _text(draw, line["text"], line["y"], design["name_size"], palette["text"], bold=True)
    if design["credits"]:
        _text(draw, design["credits"], design["credits_y"], design["credits_size"],
              palette["text"])
    draw.polygon(scaled(design["banner"]), fill=palette["ribbon"])
    for line in design["issuer_lines"]:
        _text(draw, line["text"], line["y"], design["issuer_size"], "#ffffff")
    image = image.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    # Flat colours and their anti-aliased edges fit a 256-colour palette (alpha included) with no
    # visible change, at a fifth of the bytes (59 -> 12 kB): every baked badge carries this art, so
    # it is what e-mails, wallets and a roster's 10,000 files are mostly made of.
    image = image.quantize(256, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _text(draw: ImageDraw.ImageDraw, text: str, baseline: float, size: int, fill: str,
          bold: bool = False) -> None:
    font = _font(size * _SUPERSAMPLE, bold)
    x, y = _CX * _SUPERSAMPLE, baseline * _SUPERSAMPLE
    if isinstance(font, ImageFont.FreeTypeFont):
        draw.text((x, y), text, font=font, fill=fill, anchor="ms")
    else:  # a bitmap font cannot anchor: centre by hand, top-aligned
        width = draw.textlength(text, font=font)
        draw.text((x - width / 2, y - size * _SUPERSAMPLE), text, font=font, fill=fill)


def _design(name: str, achievement_type: str | None, credits: str | float | None,
            issuer_name: str | None) -> dict[str, Any]:
    """Everything both renderers need: clean text, wrapped lines, sizes and shapes."""
    name = _clean(name) or "Achievement"
    label = _type_label(achievement_type)
    if isinstance(credits, (int, float)) and not isinstance(credits, bool):
        credits = f"{credits:g} credit" + ("" if credits == 1 else "s")
    credit_text = _clean(credits) if isinstance(credits, str) else ""
    name_size, lines = _wrap(name)
    first = _CY - (len(lines) - 1) * name_size * 0.6 + name_size * 0.35
    palette = dict(_PALETTES.get(re.sub(r"[^a-z]", "", label.lower()), _DEFAULT_PALETTE))
    palette["text"] = palette["ring"]
    issuer_size, issuer_lines = _banner_lines(_clean(issuer_name))
    return {
        "size": SIZE, "cx": _CX, "cy": _CY, "inner_radius": _INNER, "ring_width": 5,
        "palette": palette, "name": name,
        "achievement_type": label.upper(), "type_y": _CY - 84,
        "type_size": _shrink(label.upper(), 14, _TYPE_WIDTH),
        "name_size": name_size,
        "name_lines": [{"text": line, "y": round(first + i * name_size * 1.2, 1)}
                       for i, line in enumerate(lines)],
        "credits": _fit(credit_text, 16, 170, bold=False), "credits_y": _CY + 92,
        "credits_size": 16,
        "issuer_name": " ".join(issuer_lines), "issuer_size": issuer_size,
        "issuer_lines": [{"text": line, "y": 312 if len(issuer_lines) == 1 else 301 + i * 13}
                         for i, line in enumerate(issuer_lines)],
        "rosette": _star(_CX, _CY, _OUTER, _OUTER - 12, 28),
        "tails": [_points([(150, 250), (198, 270), (160, 392), (140, 368), (112, 380)]),
                  _points([(250, 250), (202, 270), (240, 392), (260, 368), (288, 380)])],
        "banner": _points([(45, 286), (355, 286), (340, 303), (355, 320), (45, 320),
                           (60, 303)]),
    }


def _clean(text: str | None) -> str:
    # Control characters are not allowed in XML and mean nothing on a badge.
    return " ".join(_CONTROL.sub("", text or "").split())


def _type_label(achievement_type: str | None) -> str:
    label = _clean(achievement_type_label(achievement_type) or "Achievement")
    if len(label) > _MAX_TYPE_CHARS:  # an extension type may be any length: keep whole words
        label = textwrap.shorten(label, _MAX_TYPE_CHARS, placeholder="…")
    return label


def _banner_lines(name: str) -> tuple[int, list[str]]:
    """The issuer's name on the banner: one line down to 12 px, else two lines of 11 px (the second cut)."""
    width = _BANNER_WIDTH - 30
    for size in (15, 14, 13, 12):
        if _font(size, False).getlength(name) <= width:
            return size, [name] if name else []
    font = _font(11, False)
    words, first = name.split(), ""
    while words and font.getlength((first + " " + words[0]).strip()) <= width:
        first = (first + " " + words.pop(0)).strip()
    if not first:  # one very long word
        return 11, [_fit(name, 11, width, bold=False)]
    return 11, [first, _fit(" ".join(words), 11, width, bold=False)]


def _shrink(text: str, size: int, width: int) -> int:
    """The largest font size, down to 8, at which ``text`` (bold, letter-spaced 2) fits ``width`` pixels."""
    while size > 8 and _font(size, True).getlength(text) + 2 * len(text) > width:
        size -= 1
    return size


def _wrap(name: str) -> tuple[int, list[str]]:
    """The largest font size (26 down to 12) at which the name fits: three lines, then up to five."""
    for size in (26, 24, 22, 20, 18, 17, 16, 15, 14, 13, 12):
        font = _font(size, bold=True)
        width = max(4, int(_NAME_WIDTH / (size * 0.62)))  # a first guess in characters
        while width > 3:
            lines = textwrap.wrap(name, width=width, break_long_words=True)
            if all(font.getlength(line) <= _NAME_WIDTH for line in lines):
                break
            width -= 1
        if len(lines) <= (3 if size >= 16 else _MAX_LINES):
            return size, lines
    lines = textwrap.wrap(name, width=width, break_long_words=True)
    return 12, lines[: _MAX_LINES - 1] + [_fit(" ".join(lines[_MAX_LINES - 1 :]), 12,
                                               _NAME_WIDTH, bold=True)]


def _fit(text: str, size: int, width: int, *, bold: bool) -> str:
    """``text``, shortened with an ellipsis until it fits ``width`` pixels."""
    font = _font(size, bold)
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _star(cx: float, cy: float, outer: float, inner: float, points: int) -> list[str]:
    corners = []
    for i in range(points * 2):
        radius = outer if i % 2 == 0 else inner
        angle = math.pi * i / points - math.pi / 2
        corners.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return _points(corners)


def _points(corners) -> list[str]:
    return [f"{x:.1f},{y:.1f}" for x, y in corners]


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    # Found through the package so it works from an installed wheel too.
    folder = Path(templates.__file__).parent / "badge_art"
    return jinja2.Environment(loader=jinja2.FileSystemLoader(folder), autoescape=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


@lru_cache(maxsize=32)
def _font(size: int, bold: bool) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = font_path(bold)
    if path is not None:
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


@lru_cache(maxsize=2)
def font_path(bold: bool) -> Path | None:
    """A TrueType sans font from the system, bold first when asked; None if there is none."""
    names = _FONT_NAMES if bold else tuple(n for n in _FONT_NAMES if "Bold" not in n)
    found: dict[str, Path] = {}
    for folder in _FONT_DIRS:
        for root, _dirs, files in os.walk(folder):
            for file in files:
                if file in names:
                    found.setdefault(file, Path(root) / file)
    return next((found[n] for n in names if n in found), None)


__all__ = ["SIZE", "font_path", "render_badge_png", "render_badge_svg"]
