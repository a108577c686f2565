"""Just enough PNG decoding (zlib and struct) to tell a rendered page from a blank one."""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from dataclasses import dataclass

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}
"""Bytes per pixel by PNG colour type, at 8 bits per sample."""


@dataclass(frozen=True)
class Image:
    """Decoded 8-bit pixels, row by row."""

    width: int
    height: int
    channels: int
    rows: list[bytes]

    def pixel(self, x: int, y: int) -> bytes:
        """The RGB (or grey) bytes of one pixel."""
        start = x * self.channels
        return self.rows[y][start : start + min(3, self.channels)]

    def colours(self, *, step: int = 4) -> Counter[bytes]:
        """How often each colour appears, sampling every ``step``-th pixel both ways."""
        counts: Counter[bytes] = Counter()
        for y in range(0, self.height, step):
            for x in range(0, self.width, step):
                counts[self.pixel(x, y)] += 1
        return counts


def decode(data: bytes) -> Image:
    """Decode a non-interlaced 8-bit PNG (what Chromium writes)."""
    assert data[:8] == SIGNATURE, "not a PNG"
    position, idat = 8, bytearray()
    width = height = channels = 0
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8, f"bit depth {depth}"
            assert interlace == 0, "interlaced"
            channels = CHANNELS[colour_type]
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    raw = zlib.decompress(bytes(idat))
    assert len(raw) == height * (1 + width * channels), "pixel data does not match the size"
    return Image(width, height, channels, _unfilter(raw, width * channels, channels, height))


def _unfilter(raw: bytes, stride: int, bpp: int, height: int) -> list[bytes]:
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = previous[i]
                c = previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return rows
