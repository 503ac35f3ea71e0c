"""A channel's QR PNG and SVG poster over real HTTP: valid files, the right code in them.

The PNG is read back by a small independent reader (signature, CRCs, IHDR, inflate) and,
decoded as a QR code with zxing-cpp.
"""

from __future__ import annotations

import re

import aiohttp
from defusedxml import ElementTree

from tests.admin_api.conftest import AdminClient
from tests.qr_decode import decoded, read_png

SVG = "{http://www.w3.org/2000/svg}"
NAME = '春季<新品>&"会员"日 & more'


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
