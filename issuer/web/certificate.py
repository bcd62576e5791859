"""Certificates people print and file: a landscape PDF (A4 or US Letter) drawn with fpdf2.

fpdf2 is pure Python (no system libraries, unlike WeasyPrint's Pango/Cairo),
actively maintained, embeds and subsets TrueType fonts (so any learner's name
prints), draws SVG logos natively, and gives exact control of where text goes,
which a certificate needs more than HTML flow. The page carries the brand's
logo and name, the learner, the achievement, the CEUs, the award date, a
signature line, a QR code to the badge page and a short credential code. It
never prints a status: "Scan to check the current status" does, since a status
goes stale the day after printing. A badge that is not in force is stamped
with its state ("REVOKED") across the page; one whose validity starts later (an
early renewal) is not: its dates line says when it starts.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from issuer.badge.art import font_path
from issuer.badge.qr import qr_png
from issuer.instance.brand import Brand
from issuer.web.badge_state import BadgeState
from verifier.wording import long_date

if TYPE_CHECKING:
    from fpdf import FPDF

PAPERS = {"a4": "A4", "letter": "Letter"}
_INK = (26, 29, 33)
_MUTED = (74, 83, 96)
_STAMP = (192, 38, 46)


@dataclass(frozen=True, slots=True)
class CertificateText:
    """What a certificate says, shared by the PDF and the HTML certificate."""

    kind: str               # "Certificate of Completion", "Certification" …
    recipient: str
    achievement: str
    credits: str | None     # "1.5 continuing-education units (CEUs)"
    awarded: str            # "6 December 2026"
    valid_until: str | None
    code: str               # "5B1F-6C1E"
    page_url: str
    valid_from: str | None = None  # when validity starts another day than the award (an early renewal)

    @property
    def dates(self) -> str:
        """"Awarded 6 December 2026 · valid until …", or "… · valid from 1 January 2027 until …"."""
        line = f"Awarded {self.awarded}"
        if self.valid_from:
            until = f" until {self.valid_until}" if self.valid_until else ""
            return f"{line} · valid from {self.valid_from}{until}"
        return line + (f" · valid until {self.valid_until}" if self.valid_until else "")


def credential_code(credential_id: str) -> str:
    """A short code people can read out and type: the first 8 hex digits of the credential's UUID."""
    digits = "".join(c for c in credential_id.removeprefix("urn:uuid:") if c.isalnum())[:8].upper()
    return f"{digits[:4]}-{digits[4:]}"


def certificate_text(summary: dict[str, Any], credential_id: str, page_url: str) -> CertificateText:
    achievement = summary.get("achievement") or {}
    kind = achievement.get("achievementType")
    heading = {"Certification": "Certification", "CertificateOfCompletion": "Certificate of Completion",
               "License": "Licence"}.get(kind or "", "Certificate of Achievement")
    credits = summary.get("creditsEarned")
    credit_text = None
    if isinstance(credits, (int, float)) and not isinstance(credits, bool):
        credit_text = f"{credits:g} continuing-education unit{'' if credits == 1 else 's'} (CEU{'' if credits == 1 else 's'})"
    return CertificateText(
        kind=heading, recipient=(summary.get("recipient") or {}).get("name") or "The credential holder",
        achievement=achievement.get("name") or summary.get("name") or "An achievement",
        # What was signed: awardedDate when validity starts another day, else validFrom is the award date.
        credits=credit_text, awarded=long_date(summary.get("awardedDate") or summary.get("validFrom")),
        valid_until=long_date(summary.get("validUntil")) or None,
        valid_from=(long_date(summary.get("validFrom")) or None) if summary.get("awardedDate") else None,
        code=credential_code(credential_id), page_url=page_url)


def certificate_pdf(text: CertificateText, brand: Brand, state: BadgeState, *, paper: str = "a4") -> bytes:
    """The certificate as PDF bytes, landscape ``paper`` ("a4" or "letter")."""
    # Imported by the first certificate, not by every web worker: fpdf2 with fontTools holds ~45 MiB.
    from fpdf import FPDF

    pdf = FPDF(orientation="landscape", unit="mm", format=PAPERS[paper])
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_title(f"{text.kind}: {text.achievement}")
    pdf.set_author(brand.name)
    pdf.set_creator("Badgesmith")
    regular, bold = _fonts(pdf)
    pdf.add_page()
    width, height = pdf.w, pdf.h
    color = _rgb(brand.primary_color)

    # Frame: a thick and a thin rule in the brand colour.
    pdf.set_draw_color(*color)
    pdf.set_line_width(1.6)
    pdf.rect(8, 8, width - 16, height - 16)
    pdf.set_line_width(0.3)
    pdf.rect(11, 11, width - 22, height - 22)

    logo = brand.logo_bytes()
    y = 18.0 if logo is not None else 28.0
    if logo is not None:
        pdf.image(io.BytesIO(logo), x=width / 2 - 11, y=y, w=22, h=22, keep_aspect_ratio=True)
        y += 24
    y = _line(pdf, brand.name.upper(), y, regular, 12, _MUTED, width - 60) + 3
    y = _line(pdf, text.kind, y, bold, 26, color, width - 60) + 7
    y = _line(pdf, "This certifies that", y, regular, 12, _MUTED, width - 60) + 2
    y = _line(pdf, text.recipient, y, bold, 30, _INK, width - 70)
    pdf.set_draw_color(*color)
    pdf.set_line_width(0.3)
    pdf.line(width / 2 - 70, y + 1, width / 2 + 70, y + 1)
    y += 7
    y = _line(pdf, "has achieved", y, regular, 12, _MUTED, width - 60) + 3
    y = _wrapped(pdf, text.achievement, y, bold, 18, _INK, width - 70, max_lines=2) + 2
    if text.credits:
        y = _line(pdf, text.credits, y, regular, 13, _INK, width - 60) + 1
    _line(pdf, text.dates, y + 1, regular, 12, _INK, width - 60)

    # Signature line (bottom left), QR code and credential code (bottom right).
    bottom = height - 24
    pdf.set_draw_color(*_INK)
    pdf.line(30, bottom - 8, 110, bottom - 8)
    pdf.set_text_color(*_INK)
    signer = brand.signature_name or brand.name
    _at(pdf, signer, 30, bottom - 6, bold, 11, 80)
    if brand.signature_title:
        _at(pdf, brand.signature_title, 30, bottom - 1, regular, 9.5, 80)
    qr = 30.0
    left = width - 30 - qr
    pdf.image(io.BytesIO(qr_png(text.page_url, scale=4)), x=left, y=bottom - qr - 6, w=qr, h=qr)
    _at(pdf, "Scan to check the current status", left - 30, bottom - 3, regular, 8.5, qr + 30, align="R")
    _at(pdf, f"Credential code {text.code}", left - 30, bottom + 1.5, bold, 8.5, qr + 30, align="R")
    _at(pdf, text.page_url, 30, height - 19.5, regular, 7.5, width - 60, align="C", color=_MUTED)
    _at(pdf, "Powered by Badgesmith", 30, height - 16, regular, 6, width - 60, align="C", color=_MUTED)

    if state.mark:
        _stamp(pdf, state, bold)
    return bytes(pdf.output())


def _fonts(pdf: FPDF) -> tuple[str, str]:
    """A Unicode TrueType family (DejaVu or the like) when the system has one, else Helvetica (Latin-1)."""
    regular, heavy = font_path(False), font_path(True)
    if regular is None or heavy is None:
        return "helvetica", "helvetica-bold"
    pdf.add_font("body", "", str(regular))
    pdf.add_font("body", "B", str(heavy))
    return "body", "body-bold"


def _use(pdf: FPDF, font: str, size: float) -> None:
    family, _, weight = font.partition("-")
    pdf.set_font(family, "B" if weight else "", size)


def _fitted(pdf: FPDF, text: str, font: str, size: float, width: float, smallest: float = 6) -> float:
    """The largest size, down to ``smallest``, at which ``text`` fits ``width`` on one line."""
    _use(pdf, font, size)
    while size > smallest and pdf.get_string_width(_safe(pdf, text)) > width:
        size -= 0.5
        _use(pdf, font, size)
    return size


def _line(pdf: FPDF, text: str, y: float, font: str, size: float, color: tuple[int, int, int],
          width: float) -> float:
    """One centred line, shrunk to fit ``width``; returns the y below it."""
    size = _fitted(pdf, text, font, size, width)
    pdf.set_text_color(*color)
    height = size * 0.45
    pdf.set_xy((pdf.w - width) / 2, y)
    pdf.cell(width, height, _safe(pdf, text), align="C")
    return y + height


def _wrapped(pdf: FPDF, text: str, y: float, font: str, size: float, color: tuple[int, int, int],
             width: float, *, max_lines: int) -> float:
    """Centred text in at most ``max_lines`` lines, shrinking until it fits; returns the y below it."""
    text = _safe(pdf, text)
    while True:
        _use(pdf, font, size)
        lines = pdf.multi_cell(width, size * 0.45, text, align="C", dry_run=True, output="LINES")
        if len(lines) <= max_lines or size <= 9:
            break
        size -= 1
    pdf.set_text_color(*color)
    pdf.set_xy((pdf.w - width) / 2, y)
    for line in lines[:max_lines]:
        pdf.set_x((pdf.w - width) / 2)
        pdf.cell(width, size * 0.45, line, align="C", new_x="LMARGIN", new_y="NEXT")
    return pdf.get_y()


def _at(pdf: FPDF, text: str, x: float, y: float, font: str, size: float, width: float, *,
        align: str = "L", color: tuple[int, int, int] = _INK) -> None:
    size = _fitted(pdf, text, font, size, width, smallest=4)
    pdf.set_text_color(*color)
    pdf.set_xy(x, y)
    pdf.cell(width, size * 0.45, _safe(pdf, text), align=align)


def _stamp(pdf: FPDF, state: BadgeState, font: str) -> None:
    """The state across the page, and a line saying since when: no one can mistake it for a valid one."""
    pdf.set_text_color(*_STAMP)
    pdf.set_draw_color(*_STAMP)
    with pdf.local_context(fill_opacity=0.85, stroke_opacity=0.85):
        with pdf.rotation(20, x=pdf.w / 2, y=pdf.h / 2):
            size = _fitted(pdf, state.mark or "", font, 96, pdf.w - 80)
            pdf.set_line_width(2)
            box_w = pdf.get_string_width(state.mark or "") + 16
            pdf.rect(pdf.w / 2 - box_w / 2, pdf.h / 2 - size * 0.3, box_w, size * 0.6)
            pdf.set_xy(pdf.w / 2 - box_w / 2, pdf.h / 2 - size * 0.22)
            pdf.cell(box_w, size * 0.45, state.mark or "", align="C")
    _at(pdf, state.sentence, 30, 12.5, font, 10, pdf.w - 60, align="C", color=_STAMP)


def _safe(pdf: FPDF, text: str) -> str:
    # Helvetica (no system font) covers Latin-1 only: anything else becomes "?" rather than an error.
    if pdf.font_family == "helvetica":
        return text.replace("—", "-").replace("·", "-").encode("latin-1", "replace").decode("latin-1")
    return text


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


__all__ = ["CertificateText", "PAPERS", "certificate_pdf", "certificate_text", "credential_code"]
