"""A channel's QR PNG and SVG poster over real HTTP: valid files, the right code in them.

The PNG is read back by a small independent reader (signature, CRCs, IHDR, inflate) and,
decoded as a QR code with zxing-cpp.
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass

import aiohttp
import zxingcpp
from defusedxml import ElementTree

from tests.admin_api.conftest import AdminClient

SVG = "{http://www.w3.org/2000/svg}"
NAME = '春季<新品>&"会员"日 & more'


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


def svg_modules(d: str) -> set[tuple[int, int]]:
    """The unit squares of qrcode's path (`Mx,yHx+1Vy+1Hxz` each)."""
    squares = re.findall(r"M(\d+),(\d+)H(\d+)V(\d+)H(\d+)z", d)
    assert squares and "".join(f"M{x},{y}H{a}V{b}H{c}z" for x, y, a, b, c in squares) == d
    return {(int(x), int(y)) for x, y, *_ in squares}


async def test_qr_png_is_the_channel_code(admin: AdminClient) -> None:
    channel = await admin.create_channel()
    reply = await admin.get(f"/channels/{channel['id']}/qr.png", params={"size": "4"})
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "image/png"
    image = read_png(reply.body)
    assert image.width == image.height and image.width % 4 == 0
    modules = image.width // 4 - 8  # 4-module quiet zone on each side
    assert modules >= 21 and (modules - 17) % 4 == 0  # a QR version's size
    assert not any(image.dark(x, 0) or image.dark(0, x) for x in range(image.width))
    assert image.dark(16, 16)  # the top-left finder pattern starts after the quiet zone
    default = read_png((await admin.get(f"/channels/{channel['id']}/qr.png")).body)
    assert default.width == (modules + 8) * 10


async def test_qr_png_decodes_to_the_contact_way(admin: AdminClient) -> None:
    channel = await admin.create_channel()
    reply = await admin.get(f"/channels/{channel['id']}/qr.png", params={"size": "3"})
    assert decoded(read_png(reply.body)) == channel["qr_code"]
    # The code leads to the sandbox's page of this contact way.
    async with aiohttp.ClientSession() as session, session.get(channel["qr_code"]) as page:
        assert page.status == 200
        assert channel["config_id"] in await page.text()


async def test_qr_size_is_checked(admin: AdminClient) -> None:
    channel = await admin.create_channel()
    for size in ("0", "33", "big"):
        reply = await admin.get(f"/channels/{channel['id']}/qr.png", params={"size": size})
        assert reply.status == 400, size
        assert reply.error["field"] == "size"


async def test_poster_has_the_escaped_name_and_the_same_code(admin: AdminClient) -> None:
    channel = await admin.create_channel(name=NAME)
    reply = await admin.get(f"/channels/{channel['id']}/poster.svg")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "image/svg+xml; charset=utf-8"
    text = reply.body.decode("utf-8")
    assert "春季&lt;新品&gt;&amp;" in text and "<新品>" not in text
    root = ElementTree.fromstring(reply.body)
    assert root.tag == f"{SVG}svg"
    assert NAME in [t.text for t in root.iter(f"{SVG}text")]
    paths = list(root.iter(f"{SVG}path"))
    assert len(paths) == 1

    png = read_png((await admin.get(f"/channels/{channel['id']}/qr.png",
                                    params={"size": "1"})).body)
    dark = {(x, y) for y in range(png.height) for x in range(png.width) if png.dark(x, y)}
    assert svg_modules(paths[0].get("d")) == dark
    nested = [s for s in root.iter(f"{SVG}svg") if s is not root]
    assert nested[0].get("viewBox") == f"0 0 {png.width} {png.width}"


async def test_deleted_channels_have_no_media(admin: AdminClient) -> None:
    channel = await admin.create_channel()
    await admin.delete(f"/channels/{channel['id']}")
    for media in ("qr.png", "poster.svg"):
        reply = await admin.get(f"/channels/{channel['id']}/{media}")
        assert reply.status == 404
        assert reply.error["code"] == "not_found"
