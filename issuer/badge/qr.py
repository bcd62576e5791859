"""QR codes for credential URLs, as PNG or SVG, fast enough for a 10,000-row roster.

The symbol is the very matrix the ``qrcode`` library makes (error correction
M, its segmentation of the data, the smallest version that fits, its mask
choice: tested over many URLs), computed the way a roster can afford. Its
data segments, version capacities and block structure come from ``qrcode``;
the bit stream is built as one integer, the Reed-Solomon codewords with a
table per generator (one lookup per data byte instead of ``qrcode``'s
polynomial objects), and the codewords' bits are placed in one gather
(``operator.itemgetter`` over the version's module order, computed once). The symbol is laid out once (mask 0 off), the
other masks are derived by XOR on rows held as integers and scored with bit
operations under the ISO/IEC 18004 penalty rules exactly as ``qrcode``
scores them. The PNG is written directly (1-bit greyscale, as Pillow writes
mode "1"), each module ``scale`` pixels, never drawn module by module; at
the default scale of 8 a module is one byte of a scanline.
"""

from __future__ import annotations

import re
import struct
import zlib
from bisect import bisect_left
from functools import lru_cache
from operator import itemgetter
from typing import Callable

import qrcode
from qrcode import base as qr_base, util as qr_util
from qrcode.constants import ERROR_CORRECT_M
from qrcode.util import mask_func

from errors import Code, InputTooLarge

QUIET_ZONE = 4
"""Modules of light margin on each side, the minimum ISO/IEC 18004 asks for."""

# 1:1:3:1:1 finder-like patterns with 4 light modules on one side (ISO/IEC
# 18004 §7.8.3.1, penalty N3); the second is the first reversed.
_FINDER_LIKE = ((1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0), (0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1))


_MODULE_BYTES = bytes.maketrans(b"01", b"\xff\x00")


def qr_png(url: str, *, scale: int = 8) -> bytes:
    """Return a 1-bit PNG QR code for ``url``: ``scale`` pixels per module, quiet zone 4."""
    rows, size = _symbol(url)
    width = size + 2 * QUIET_ZONE
    pixels = width * scale
    pad = -pixels % 8
    # A set bit is white (PNG greyscale, bit depth 1): each module becomes ``scale`` equal bits.
    widen = {ord("0"): "1" * scale, ord("1"): "0" * scale}

    def scanline(modules: int) -> bytes:
        if scale == 8:  # a module is a byte, white 0xFF or black 0x00: one translation of the row's digits
            return b"\0" + format(modules, f"0{width}b").encode("ascii").translate(_MODULE_BYTES)
        bits = format(modules, f"0{width}b").translate(widen) + "0" * pad
        return b"\0" + int(bits, 2).to_bytes((pixels + pad) // 8, "big")

    light = scanline(0) * (QUIET_ZONE * scale)
    body = b"".join(scanline(row << QUIET_ZONE) * scale for row in rows)
    header = struct.pack(">IIBBBBB", pixels, pixels, 1, 0, 0, 0, 0)
    # Level 1: a QR image is runs of equal bytes, so it compresses to under 1 KB at a fifth of level 6's time.
    return b"".join((b"\x89PNG\r\n\x1a\n", _png_chunk(b"IHDR", header),
                     _png_chunk(b"IDAT", zlib.compress(light + body + light, 1)), _png_chunk(b"IEND", b"")))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


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
    version, codewords = _codewords(url)
    layout = _layout(version)
    # The data modules in qrcode's placement order, unmasked: the codewords' bits, most significant first
    # after a constant 0, gathered into the packed symbol's bits (highest first) in one C-level call.
    bits = "0" + format(int.from_bytes(bytes(codewords), "big"), f"0{8 * len(codewords)}b")
    raw = int("".join(layout.gather(bits)), 2)

    def masked(k: int, function: int) -> int:
        return function | ((raw ^ layout.masks[k]) & layout.data)

    # Like qrcode, score each mask with the format and version areas light, and keep the first of equal
    # scores: a later mask whose score without N3 already reaches the best one cannot win, so N3 is skipped.
    best, lowest = 0, _penalty(masked(0, layout.test), layout)
    for k in range(1, 8):
        score = _penalty(masked(k, layout.test), layout, bound=lowest)
        if score < lowest:
            best, lowest = k, score
    symbol = masked(best, layout.final[best])
    full = (1 << layout.size) - 1
    return [(symbol >> (r * layout.stride)) & full for r in range(layout.size)], layout.size


def _too_long(url: str) -> InputTooLarge:
    return InputTooLarge(Code.INPUT_TOO_LARGE, f"The text is too long for a QR code ({len(url)} characters; "
                         "a QR code holds about 2,300 at the error correction badges use).", size=len(url))


def _codewords(url: str) -> tuple[int, list[int]]:
    """The smallest version that holds ``url`` and its interleaved data + error correction codewords,
    as ``qrcode`` computes them (its segments: runs of 20+ digits or upper-case characters get their
    own mode)."""
    segments = list(qr_util.optimal_data_chunks(url, minimum=20))
    version = 1
    while True:  # qrcode's best_fit: length fields grow with the version
        sizes = qr_util.mode_sizes_for_version(version)
        needed = sum(4 + sizes[s.mode] + _data_bits(s)[1] for s in segments)
        fit = bisect_left(qr_util.BIT_LIMIT_TABLE[ERROR_CORRECT_M], needed, version)
        if fit > 40:
            raise _too_long(url)
        if qr_util.mode_sizes_for_version(fit) is sizes:
            version = fit
            break
        version = fit
    value, length = 0, 0
    for segment in segments:
        bits, count = _data_bits(segment)
        header = qr_util.length_in_bits(segment.mode, version)
        value = (((value << 4 | segment.mode) << header | len(segment.data)) << count) | bits
        length += 4 + header + count
    blocks = qr_base.rs_blocks(version, ERROR_CORRECT_M)
    limit = sum(b.data_count for b in blocks) * 8
    if length > limit:
        raise _too_long(url)
    terminator = min(limit - length, 4)  # up to four 0 bits, then 0 bits to a whole byte
    value, length = value << terminator, length + terminator
    value, length = value << (-length % 8), length + (-length % 8)
    stream = list(value.to_bytes(length // 8, "big"))
    stream += [0xEC, 0x11] * ((limit // 8 - len(stream)) // 2 + 1)
    del stream[limit // 8:]
    data_blocks, ec_blocks, offset = [], [], 0
    for block in blocks:
        data = stream[offset:offset + block.data_count]
        offset += block.data_count
        data_blocks.append(data)
        ec_blocks.append(_reed_solomon(data, block.total_count - block.data_count))
    out = [b[i] for i in range(max(map(len, data_blocks))) for b in data_blocks if i < len(b)]
    out += [b[i] for i in range(max(map(len, ec_blocks))) for b in ec_blocks if i < len(b)]
    return version, out


_ALPHANUMERIC = {c: i for i, c in enumerate(qr_util.ALPHA_NUM)}


def _data_bits(segment: qr_util.QRData) -> tuple[int, int]:
    """A segment's data as (bits as an int, how many), in its mode (ISO/IEC 18004 §7.4)."""
    data = segment.data
    if segment.mode == qr_util.MODE_8BIT_BYTE:
        return int.from_bytes(data, "big"), 8 * len(data)
    value, length = 0, 0
    if segment.mode == qr_util.MODE_NUMBER:
        for i in range(0, len(data), 3):
            chunk = data[i:i + 3]
            width = qr_util.NUMBER_LENGTH[len(chunk)]
            value, length = value << width | int(chunk), length + width
        return value, length
    for i in range(0, len(data), 2):  # alphanumeric
        pair = data[i:i + 2]
        if len(pair) == 2:
            value, length = value << 11 | (_ALPHANUMERIC[pair[0]] * 45 + _ALPHANUMERIC[pair[1]]), length + 11
        else:
            value, length = value << 6 | _ALPHANUMERIC[pair[0]], length + 6
    return value, length


def _reed_solomon(data: list[int], count: int) -> list[int]:
    """The ``count`` error correction codewords of ``data`` (the remainder of the generator division)."""
    table = _generator_table(count)
    top = 8 * (count - 1)
    mask = (1 << 8 * count) - 1
    remainder = 0
    for word in data:
        remainder = ((remainder << 8) & mask) ^ table[(remainder >> top) ^ word]
    return list(remainder.to_bytes(count, "big"))


@lru_cache(maxsize=32)
def _generator_table(count: int) -> tuple[int, ...]:
    """For each byte f, f times the generator polynomial of degree ``count`` (its leading 1 left out),
    as one int of ``count`` bytes: a step of the division is then a shift and one XOR."""
    generator = [1]
    for i in range(count):  # the product of (x - a^i), i < count, over GF(256)
        factor = qr_base.gexp(i)
        generator = [a ^ (qr_base.gexp(qr_base.glog(b) + qr_base.glog(factor)) if b else 0)
                     for a, b in zip(generator + [0], [0] + generator)]
    tail = generator[1:]
    rows = [0]
    for f in range(1, 256):
        log_f = qr_base.glog(f)
        rows.append(int.from_bytes(bytes(qr_base.gexp(log_f + qr_base.glog(g)) if g else 0 for g in tail), "big"))
    return tuple(rows)


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
                 "upper", "top", "gather")

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
    layout.gather = _gather(_placement(test, layout), layout)
    return layout


def _gather(places: tuple[tuple[int, ...], ...], layout: _Layout) -> Callable[[str], tuple[str, ...]]:
    """For the packed symbol's bits from the highest down, which character of ``"0" + codeword bits``
    each is (0, the constant "0", for every module that is not a data module)."""
    length = layout.size * layout.stride
    source = [0] * length
    for index, modules in enumerate(places):
        for bit, module in enumerate(modules):
            source[length - module.bit_length()] = 1 + 8 * index + bit
    return itemgetter(*source)


def _placement(modules: list[list], layout: _Layout) -> tuple[tuple[int, ...], ...]:
    """For each codeword, the packed bits of its 8 modules (most significant bit first), in the order
    qrcode's ``map_data`` fills the data modules: two-column strips from the right, up and down."""
    size = layout.size
    order: list[int] = []
    row, step = size - 1, -1
    for col in range(size - 1, 0, -2):
        if col <= 6:
            col -= 1  # skip the vertical timing pattern
        while True:
            for c in (col, col - 1):
                if modules[row][c] is None:
                    order.append(1 << (row * layout.stride + size - 1 - c))
            row += step
            if row < 0 or row >= size:
                row -= step
                step = -step
                break
    return tuple(tuple(order[i:i + 8]) for i in range(0, len(order) - 7, 8))


def _penalty(x: int, layout: _Layout, bound: int | None = None) -> int:
    """ISO/IEC 18004 mask penalty N1-N4 of a packed symbol, equal to ``qrcode.util.lost_point``; once the
    other rules reach ``bound``, that sum without the finder-like patterns (N3), which can only add to it."""
    stride, size = layout.stride, layout.size
    # N4: 10 points per 5% the dark share strays from 50% (qrcode's arithmetic).
    points = int(abs(float(x.bit_count()) / size**2 * 100 - 50) / 5) * 10
    # N1: runs of 5+ same-coloured modules score (length - 2). A window bit
    # marks 5 equal modules in a line; a run of L has L-4 windows and 1 start.
    across = ~(x ^ (x >> 1)) & layout.pairs
    window = across & (across >> 1) & (across >> 2) & (across >> 3)
    points += window.bit_count() + 2 * (window & ~(window << 1)).bit_count()
    down = ~(x ^ (x >> stride)) & layout.upper
    window = down & (down >> stride) & (down >> 2 * stride) & (down >> 3 * stride)
    points += window.bit_count() + 2 * (window & ~(window << stride)).bit_count()
    # N2: each 2x2 block of one colour scores 3.
    points += 3 * (down & (down >> 1) & across).bit_count()
    if bound is not None and points >= bound:
        return points
    # N3: each finder-like pattern, across or down, scores 40.
    inv = ~x & layout.cols
    for pattern in _FINDER_LIKE:
        hit_across, hit_down = layout.span, layout.top
        for k, dark in enumerate(pattern):
            source = x if dark else inv
            hit_across &= source >> (10 - k)
            hit_down &= source >> (k * stride)
        points += 40 * (hit_across.bit_count() + hit_down.bit_count())
    return points


__all__ = ["QUIET_ZONE", "qr_png", "qr_svg"]
