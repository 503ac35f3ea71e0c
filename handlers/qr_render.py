"""QR codes of a text, as a PNG and as an SVG path, both made by the `qrcode` package.

Error correction M and a 4-module quiet zone, as printed channel codes need. The PNG is
written here with `zlib` (1-bit greyscale, one IDAT) from qrcode's module matrix, so
neither Pillow nor pypng is needed; the SVG path comes from qrcode's `SvgPathImage`.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import qrcode
from qrcode.image.svg import SvgPathImage

QUIET_ZONE = 4
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _qr(text: str) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=QUIET_ZONE)
    qr.add_data(text)
    qr.make(fit=True)
    return qr


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data)))


def qr_png(text: str, box_size: int) -> bytes:
    """`text` as a black-on-white PNG, `box_size` pixels per module, quiet zone included."""
    matrix = _qr(text).get_matrix()  # rows of modules, True = dark, quiet zone included
    side = len(matrix) * box_size
    padding = "1" * (-side % 8)
    scanlines = []
    for row in matrix:
        bits = "".join(("0" if dark else "1") * box_size for dark in row) + padding
        # Filter type 0 (none) before each scanline.
        line = b"\x00" + int(bits, 2).to_bytes(len(bits) // 8, "big")
        scanlines.append(line * box_size)
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (PNG_SIGNATURE + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(b"".join(scanlines), 9)) + _chunk(b"IEND", b""))


@dataclass(frozen=True)
class QrPath:
    """The dark modules as one SVG path `d`, in module units; `side` counts the modules
    across, quiet zone included (the path's viewBox is `0 0 side side`)."""

    d: str
    side: int


def qr_path(text: str) -> QrPath:
    qr = _qr(text)
    # With qrcode's default box_size (10 "pixels" = 1 unit) a module is 1 unit across.
    image = qr.make_image(image_factory=SvgPathImage)
    return QrPath(d=image.path.get("d"), side=qr.modules_count + 2 * QUIET_ZONE)
