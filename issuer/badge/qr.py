"""QR codes for credential URLs, as PNG or SVG, fast enough for a 10,000-row roster.

The ``qrcode`` library encodes the data (error correction M, the smallest
version that fits) but then spends most of its time choosing the mask: it
re-lays the whole symbol eight times and scores each in pure Python (about
6 ms of 7). We keep the library's layout and ISO/IEC 18004 penalty rules
exactly, but lay the symbol out once (mask 0), derive the other seven masks
by XOR on rows held as integers, and score them with bit operations. The
result is the very matrix ``qrcode`` would produce (tested), several times
faster. Images are drawn from the module matrix at one pixel per module and
scaled with NEAREST, never drawn module by module.
"""

from __future__ import annotations

import io
import re
from functools import lru_cache

import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M
from qrcode.exceptions import DataOverflowError
from qrcode.util import mask_func

from errors import Code, InputTooLarge

QUIET_ZONE = 4
"""Modules of light margin on each side, the minimum ISO/IEC 18004 asks for."""

# 1:1:3:1:1 finder-like patterns with 4 light modules on one side (ISO/IEC
# 18004 §7.8.3.1, penalty N3); the second is the first reversed.
_FINDER_LIKE = ((1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0), (0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1))


def qr_png(url: str, *, scale: int = 8) -> bytes:
    """Return a 1-bit PNG QR code for ``url``: ``scale`` pixels per module, quiet zone 4."""
    rows, size = _symbol(url)
    width = size + 2 * QUIET_ZONE
    full = (1 << width) - 1
    row_bytes = (width + 7) // 8
    pad = row_bytes * 8 - width
    light = (full << pad).to_bytes(row_bytes, "big")  # mode "1": a set bit is white
    margin = [light] * QUIET_ZONE
    body = [((full ^ (row << QUIET_ZONE)) << pad).to_bytes(row_bytes, "big") for row in rows]
    image = Image.frombytes("1", (width, width), b"".join(margin + body + margin))
    image = image.resize((width * scale, width * scale), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=6)
    return out.getvalue()


def qr_svg(url: str) -> bytes:
    """Return an SVG QR code for ``url``: one path of dark runs on a white square, quiet zone 4.

    Sized in modules through ``viewBox`` so it scales cleanly to any size.
    """
    rows, size = _symbol(url)
    width = size + 2 * QUIET_ZONE
    runs = []
    for y, row in enumerate(rows, QUIET_ZONE):
        for match in re.finditer("1+", format(row, f"0{size}b")):
            length = match.end() - match.start()
            runs.append(f"M{match.start() + QUIET_ZONE} {y}h{length}v1h-{length}z")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {width}" '
            f'shape-rendering="crispEdges"><rect width="{width}" height="{width}" fill="#fff"/>'
            f'<path fill="#000" d="{"".join(runs)}"/></svg>').encode("ascii")


def _symbol(url: str) -> tuple[list[int], int]:
    """The QR symbol (no quiet zone) as rows of ints, leftmost module in the top bit."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0, mask_pattern=0)
    code.add_data(url)
    try:
        code.make(fit=True)
    except (DataOverflowError, ValueError):  # qrcode says "Invalid version (was 41…)" for some lengths
        raise InputTooLarge(Code.INPUT_TOO_LARGE, f"The text is too long for a QR code ({len(url)} characters; "
                            "a QR code holds about 2,300 at the error correction badges use).",
                            size=len(url)) from None
    layout = _layout(code.version)
    # Only data modules are masked: XOR mask 0 off, and mask k on.
    raw = _pack(code.modules, layout.stride) ^ layout.masks[0]

    def masked(k: int, function: int) -> int:
        return function | ((raw ^ layout.masks[k]) & layout.data)

    # Like qrcode, score each mask with the format and version areas light,
    # and keep the first of equal scores.
    best = min(range(8), key=lambda k: (_penalty(masked(k, layout.test), layout), k))
    symbol = masked(best, layout.final[best])
    full = (1 << layout.size) - 1
    return [(symbol >> (r * layout.stride)) & full for r in range(layout.size)], layout.size


_BOOL_DIGITS = bytes.maketrans(b"\x00\x01", b"01")


def _pack(modules, stride: int) -> int:
    """All rows in one int: row r at bit r*stride, its leftmost module highest.

    The gap of ``stride - size`` zero bits between rows lets shifts of up to
    10 columns stay inside a row, so one big-int operation handles every row.
    """
    value = 0
    for row in reversed(modules):
        value = (value << stride) | int(bytes(map(bool, row)).translate(_BOOL_DIGITS), 2)
    return value


class _Layout:
    """Per-version constants: data modules, the 8 masks, function patterns, row masks."""

    __slots__ = ("size", "stride", "data", "masks", "test", "final", "cols", "pairs", "span",
                 "upper", "top")

    def __init__(self, size: int) -> None:
        self.size, self.stride = size, size + 11

        def repeat(bits: int, rows: int) -> int:
            return sum(bits << (r * self.stride) for r in range(rows))

        self.cols = repeat((1 << size) - 1, size)  # every module
        self.pairs = repeat((1 << (size - 1)) - 1, size)  # a module and its right neighbour
        self.span = repeat((1 << (size - 10)) - 1, size)  # 11-module windows across
        self.upper = repeat((1 << size) - 1, size - 1)  # a module and the one below
        self.top = repeat((1 << size) - 1, size - 10)  # 11-module windows down


@lru_cache(maxsize=40)  # one entry per QR version, computed once per process
def _layout(version: int) -> _Layout:
    def function_modules(test: bool, mask: int) -> list[list]:
        code = qrcode.QRCode(version=version, error_correction=ERROR_CORRECT_M)
        code.modules_count = size = version * 4 + 17
        code.modules = [[None] * size for _ in range(size)]
        code.setup_position_probe_pattern(0, 0)
        code.setup_position_probe_pattern(size - 7, 0)
        code.setup_position_probe_pattern(0, size - 7)
        code.setup_position_adjust_pattern()
        code.setup_timing_pattern()
        code.setup_type_info(test, mask)
        if version >= 7:
            code.setup_type_number(test)
        return code.modules

    test = function_modules(True, 0)
    layout = _Layout(len(test))
    layout.data = _pack([[cell is None for cell in row] for row in test], layout.stride)
    layout.masks = tuple(
        _pack([[cell is None and check(r, c) for c, cell in enumerate(row)]
               for r, row in enumerate(test)], layout.stride)
        for check in map(mask_func, range(8)))
    layout.test = _pack(test, layout.stride)
    layout.final = tuple(_pack(function_modules(False, k), layout.stride) for k in range(8))
    return layout


def _penalty(x: int, layout: _Layout) -> int:
    """ISO/IEC 18004 mask penalty N1-N4 of a packed symbol, equal to ``qrcode.util.lost_point``."""
    stride, size = layout.stride, layout.size
    inv = ~x & layout.cols
    # N1: runs of 5+ same-coloured modules score (length - 2). A window bit
    # marks 5 equal modules in a line; a run of L has L-4 windows and 1 start.
    across = ~(x ^ (x >> 1)) & layout.pairs
    window = across & (across >> 1) & (across >> 2) & (across >> 3)
    points = window.bit_count() + 2 * (window & ~(window << 1)).bit_count()
    down = ~(x ^ (x >> stride)) & layout.upper
    window = down & (down >> stride) & (down >> 2 * stride) & (down >> 3 * stride)
    points += window.bit_count() + 2 * (window & ~(window << stride)).bit_count()
    # N2: each 2x2 block of one colour scores 3.
    points += 3 * (down & (down >> 1) & across).bit_count()
    # N3: each finder-like pattern, across or down, scores 40.
    for pattern in _FINDER_LIKE:
        hit_across, hit_down = layout.span, layout.top
        for k, dark in enumerate(pattern):
            source = x if dark else inv
            hit_across &= source >> (10 - k)
            hit_down &= source >> (k * stride)
        points += 40 * (hit_across.bit_count() + hit_down.bit_count())
    # N4: 10 points per 5% the dark share strays from 50% (qrcode's arithmetic).
    return points + int(abs(float(x.bit_count()) / size**2 * 100 - 50) / 5) * 10


__all__ = ["QUIET_ZONE", "qr_png", "qr_svg"]
