"""The points mall's catalogue for operators: create, list, read, change and delete items.

Each route reads its input (`mall_input`), calls `handlers.mall_items` with "now" from
the app's clock and the number of member levels from the settings, and answers the
item as `handlers.mall_view.item_json` shows it to operators (with `on_shelf`,
`sort_order` and the timestamps). An item's stock is set once, at creation; after that
it moves only through the audited stock routes (`mall_stock`), so PATCH refuses
`stock`, and `kind`, which decides what orders hold. A deleted item leaves the list and
answers 404 here; its orders and stock ledger stay.
"""

from __future__ import annotations

import logging

from aiohttp import web

from admin_api.json_body import read_object
from admin_api.mall_input import enum_filter, item_changes, new_spec
from admin_api.points import operator_of
from bot import query
from bot.keys import SETTINGS
from bot.pagination import Page
from bot.request_clock import app_now
from handlers.mall_items import create_item, delete_item, get_item, update_item
from handlers.mall_view import item_json
from models.mall import ItemKind, MallItem

log = logging.getLogger("scrm.admin")


def _level_count(request: web.Request) -> int:
    return len(request.config_dict[SETTINGS].members.levels)


async def create_item_route(request: web.Request) -> web.Response:
    spec = new_spec(await read_object(request))
    operator = operator_of(request)
    item = await create_item(spec, level_count=_level_count(request), operator=operator,
                             now=app_now(request))
    log.info("admin.mall_item.created id=%s kind=%s stock=%d operator=%s", item.id,
             item.kind.value, item.stock, operator)
    return web.json_response(item_json(item, audit=True), status=201)


async def list_items(request: web.Request) -> web.Response:
    page = Page.of(request)
    items = MallItem.filter(deleted_at=None)
    kind = enum_filter(request, "kind", ItemKind)
    if kind is not None:
        items = items.filter(kind=kind)
    if "on_shelf" in request.query:
        items = items.filter(on_shelf=query.flag(request, "on_shelf"))
    found, total = await page.rows(items.order_by("sort_order", "id"))
    return page.answer([item_json(item, audit=True) for item in found], total)


async def get_item_route(request: web.Request) -> web.Response:
    return web.json_response(item_json(await get_item(query.path_id(request)), audit=True))


async def patch_item(request: web.Request) -> web.Response:
    item_id = query.path_id(request)
    changes = item_changes(await read_object(request))
    item = await update_item(item_id, changes, level_count=_level_count(request),
                             now=app_now(request))
    log.info("admin.mall_item.updated id=%s fields=%s operator=%s", item_id,
             ",".join(sorted(changes)), operator_of(request))
    return web.json_response(item_json(item, audit=True))


async def delete_item_route(request: web.Request) -> web.Response:
    item_id = query.path_id(request)
    await delete_item(item_id, now=app_now(request))
    log.info("admin.mall_item.deleted id=%s operator=%s", item_id, operator_of(request))
    return web.Response(status=204)


routes = [
    web.get("/mall/items", list_items),
    web.post("/mall/items", create_item_route),
    web.get(r"/mall/items/{id:\d+}", get_item_route),
    web.patch(r"/mall/items/{id:\d+}", patch_item),
    web.delete(r"/mall/items/{id:\d+}", delete_item_route),
]
