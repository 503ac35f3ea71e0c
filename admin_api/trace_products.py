"""The 安心码 catalogue's products for operators: create, list and read
(handlers/trace_catalog.py).

`POST /trace/products` creates the product with its "add your guide" channel: an
`anxin_code` contact way in WeCom whose state is `ax<GTIN>` and whose tags are the
product's, answered under `channel` with its QR code. A product is named by its
GTIN-14 in paths.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from aiohttp import web

from admin_api.json_body import read_object
from admin_api.points import operator_of
from admin_api.trace_input import product_spec
from bot.keys import SETTINGS, WECOM
from bot.pagination import Page
from bot.request_clock import app_now
from handlers.trace_catalog import create_product, product_of
from models.channels import Channel
from models.trace import Product

log = logging.getLogger("scrm.admin")


async def channels_of(products: Iterable[Product]) -> dict[int, Channel]:
    """The products' channels by id, in one query."""
    ids = sorted({p.channel_id for p in products if p.channel_id is not None})
    return {channel.id: channel for channel in await Channel.filter(id__in=ids)} if ids else {}


def product_json(product: Product, channels: Mapping[int, Channel]) -> dict[str, Any]:
    channel = channels.get(product.channel_id) if product.channel_id is not None else None
    return {
        "id": product.id,
        "gtin": product.gtin,
        "name": product.name,
        "sku": product.sku,
        "images": list(product.images),
        "tags": list(product.tags),
        "channel": None if channel is None else {
            "id": channel.id, "state": channel.state, "qr_code": channel.qr_code},
    }


async def _answer(product: Product, status: int = 200) -> web.Response:
    return web.json_response(product_json(product, await channels_of([product])),
                             status=status)


async def create_product_route(request: web.Request) -> web.Response:
    spec = product_spec(await read_object(request))
    product = await create_product(spec, wecom=request.config_dict[WECOM],
                                   settings=request.config_dict[SETTINGS],
                                   now=app_now(request))
    log.info("admin.trace.product_created id=%s gtin=%s channel_id=%s operator=%s",
             product.id, product.gtin, product.channel_id, operator_of(request))
    return await _answer(product, status=201)


async def list_products(request: web.Request) -> web.Response:
    page = Page.of(request)
    found, total = await page.rows(Product.all().order_by("id"))
    channels = await channels_of(found)
    return page.answer([product_json(product, channels) for product in found], total)


async def get_product(request: web.Request) -> web.Response:
    return await _answer(await product_of(request.match_info["gtin"]))


routes = [
    web.get("/trace/products", list_products),
    web.post("/trace/products", create_product_route),
    web.get("/trace/products/{gtin}", get_product),
]
