"""Reading QR PNGs back in tests: a small independent PNG reader (signature, CRCs,
IHDR, inflate) for the 1-bit greyscale images handlers/qr_render.py writes, and
zxing-cpp (a real decoder) for the code in them."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import zxingcpp


@dataclass
class Grey:
    width: int
    height: int
    pixels: bytes  # one byte a pixel, 0 black, 255 white

    def dark(self, x: int, y: int) -> bool:
        return self.pixels[y * self.width + x] == 0


def read_png(data: bytes) -> Grey:
    """A 1-bit greyscale, non-interlaced PNG (what the QR route promises)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        chunks.append((kind, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, colour, interlace) == (1, 0, 0)
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = (width + 7) // 8
    assert len(raw) == height * (stride + 1)
    pixels = bytearray()
    for row in range(height):
        line = raw[row * (stride + 1):(row + 1) * (stride + 1)]
        assert line[0] == 0, "only filter type 0 is expected"
        bits = "".join(f"{byte:08b}" for byte in line[1:])[:width]
        pixels += bytes(255 if bit == "1" else 0 for bit in bits)
    return Grey(width, height, bytes(pixels))


def decoded(image: Grey) -> str | None:
    view = memoryview(image.pixels).cast("B", (image.height, image.width))
    found = zxingcpp.read_barcodes(view)
    return found[0].text if found else None
