"""A channel's printable media: its QR code as a PNG, and a poster as an SVG.

Both render the channel's `qr_code` URL (the contact way's own QR, which WeCom serves
as an image URL) as a fresh QR code, so a printer gets a file it can scale. The poster
needs no font files: the channel's name is SVG text in the viewer's CJK-capable
sans-serif, escaped by ElementTree, sized to fit the width.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from aiohttp import web

from admin_api.channels import find_channel
from admin_api.errors import NotFound
from bot import query
from handlers.qr_render import qr_path, qr_png
from models.channels import Channel

DEFAULT_BOX_SIZE = 10
MAX_BOX_SIZE = 32
SVG_NS = "http://www.w3.org/2000/svg"

POSTER_WIDTH, POSTER_HEIGHT = 600, 800
QR_SIDE, QR_TOP = 480, 180
TITLE_MAX_PX = 44
FONT_FAMILY = "'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif"
HINT = "微信扫码，添加专属顾问"


async def _printable(request: web.Request) -> Channel:
    channel = await find_channel(request)
    if not channel.qr_code:
        raise NotFound(f"channel {channel.id} has no QR code")
    return channel


async def qr_png_route(request: web.Request) -> web.Response:
    box_size = query.integer(request, "size", DEFAULT_BOX_SIZE, 1, MAX_BOX_SIZE)
    channel = await _printable(request)
    return web.Response(body=qr_png(channel.qr_code, box_size), content_type="image/png")


def _title_size(name: str) -> float:
    """A font size that keeps the name inside the poster's margins (CJK glyphs are about
    1 em wide, Latin ones about 0.6 em)."""
    ems = sum(1.0 if ord(char) > 0x2E80 else 0.6 for char in name) or 1.0
    return round(min(TITLE_MAX_PX, (POSTER_WIDTH - 80) / ems), 1)


def _text(parent: ET.Element, y: int, size: float, content: str, weight: str) -> None:
    element = ET.SubElement(parent, "text", {
        "x": str(POSTER_WIDTH // 2), "y": str(y), "text-anchor": "middle",
        "font-family": FONT_FAMILY, "font-size": str(size), "font-weight": weight,
        "fill": "#1f1f1f",
    })
    element.text = content


def poster_svg(name: str, qr_text: str) -> bytes:
    path = qr_path(qr_text)
    svg = ET.Element("svg", {
        "xmlns": SVG_NS, "version": "1.1", "width": str(POSTER_WIDTH),
        "height": str(POSTER_HEIGHT), "viewBox": f"0 0 {POSTER_WIDTH} {POSTER_HEIGHT}",
    })
    ET.SubElement(svg, "title").text = name
    ET.SubElement(svg, "rect", {"width": "100%", "height": "100%", "fill": "#ffffff"})
    _text(svg, 110, _title_size(name), name, "bold")
    qr = ET.SubElement(svg, "svg", {
        "x": str((POSTER_WIDTH - QR_SIDE) // 2), "y": str(QR_TOP), "width": str(QR_SIDE),
        "height": str(QR_SIDE), "viewBox": f"0 0 {path.side} {path.side}",
        "shape-rendering": "crispEdges",
    })
    ET.SubElement(qr, "rect", {"width": "100%", "height": "100%", "fill": "#ffffff"})
    ET.SubElement(qr, "path", {"d": path.d, "fill": "#000000"})
    _text(svg, QR_TOP + QR_SIDE + 70, 24, HINT, "normal")
    return ET.tostring(svg, encoding="utf-8", xml_declaration=True)


async def poster_svg_route(request: web.Request) -> web.Response:
    channel = await _printable(request)
    return web.Response(body=poster_svg(channel.name, channel.qr_code),
                        content_type="image/svg+xml", charset="utf-8")


routes = [
    web.get(r"/channels/{id:\d+}/qr.png", qr_png_route),
    web.get(r"/channels/{id:\d+}/poster.svg", poster_svg_route),
]
