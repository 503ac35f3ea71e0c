"""The points mall's orders for operators: the list (JSON pages, or every matching order
as CSV for the warehouse), one order, and what operators do to an order: ship it,
cancel it (points refunded, stock restored), complete it (handlers/mall_orders.py).

Orders show as `handlers.mall_view.orders_json` shows them to operators: with the
member, the idempotency key, the shipping address opened, and who cancelled. A change
the order's status does not allow is 409 `wrong_status` with the status it is in; a
cancellation of a cancelled order answers it as it is, and changes nothing.

List filters: `status`, `kind`, `item_id`, `member_id`, and `created_from` (included)
and `created_until` (excluded), ISO 8601 date-times with their UTC offset. The JSON
pages are newest first; the CSV (`?format=csv` or `Accept: text/csv`) holds every
matching order in id order, streamed in batches, one coupon code list per row.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any

from aiohttp import web
from tortoise.queryset import QuerySet

from admin_api.csv_export import stream_csv, wants_csv
from admin_api.json_body import read_object
from admin_api.mall_input import enum_filter, moment_filter
from admin_api.points import operator_of
from bot import query
from bot.keys import SETTINGS
from bot.pagination import Page
from bot.request_clock import app_now
from bot.settings import MemberSettings
from handlers.mall_address import FIELDS as ADDRESS_FIELDS
from handlers.mall_orders import (
    MAX_REASON_CHARS,
    cancel_order,
    complete_order,
    order_of,
    ship_order,
)
from handlers.mall_view import orders_json
from models.mall import ItemKind, MallOrder, OrderState

log = logging.getLogger("scrm.admin")

ORDER_COLUMNS = ("id", "created_at", "status", "member_id", "item_id", "title", "kind",
                 "quantity", "points", *ADDRESS_FIELDS, "carrier", "tracking_number",
                 "coupon_codes", "shipped_at", "completed_at", "cancelled_at",
                 "cancelled_by", "cancel_reason")
CODE_SEPARATOR = ";"
# Orders per batch of the CSV export (their addresses are opened batch by batch).
CSV_BATCH = 500


def _keys(request: web.Request) -> MemberSettings:
    """The members' keys, which open the orders' addresses."""
    return request.config_dict[SETTINGS].members


def _filtered(request: web.Request) -> QuerySet[MallOrder]:
    orders = MallOrder.all()
    for name, kind in (("status", OrderState), ("kind", ItemKind)):
        value = enum_filter(request, name, kind)
        if value is not None:
            orders = orders.filter(**{name: value})
    for name in ("item_id", "member_id"):
        value_id = query.integer(request, name, 0, 1)
        if value_id:
            orders = orders.filter(**{name: value_id})
    created_from = moment_filter(request, "created_from")
    if created_from is not None:
        orders = orders.filter(created_at__gte=created_from.astimezone(UTC))
    created_until = moment_filter(request, "created_until")
    if created_until is not None:
        orders = orders.filter(created_at__lt=created_until.astimezone(UTC))
    return orders


def _csv_row(order: Mapping[str, Any]) -> dict[str, Any]:
    address = order["address"] or {}
    item = order["item"]
    return {
        **{name: order[name] for name in ORDER_COLUMNS if name in order},
        "item_id": item["id"], "title": item["title"], "kind": item["kind"],
        **{name: address.get(name, "") for name in ADDRESS_FIELDS},
        "coupon_codes": CODE_SEPARATOR.join(order["coupon_codes"]),
    }


async def _csv_rows(orders: Sequence[MallOrder], keys: MemberSettings) -> list[dict[str, Any]]:
    return [_csv_row(shown) for shown in await orders_json(orders, keys, audit=True)]


async def list_orders(request: web.Request) -> web.StreamResponse:
    orders = _filtered(request)
    keys = _keys(request)
    if wants_csv(request):
        return await stream_csv(request, orders, ORDER_COLUMNS,
                                lambda batch: _csv_rows(batch, keys), "mall-orders.csv",
                                batch=CSV_BATCH)
    page = Page.of(request)
    found, total = await page.rows(orders.order_by("-id"))
    return page.answer(await orders_json(found, keys, audit=True), total)


async def _answer(request: web.Request, order: MallOrder) -> web.Response:
    return web.json_response((await orders_json([order], _keys(request), audit=True))[0])


async def get_order(request: web.Request) -> web.Response:
    return await _answer(request, await order_of(query.path_id(request)))


async def ship_route(request: web.Request) -> web.Response:
    order_id = query.path_id(request)
    body = await read_object(request)
    body.only(("carrier", "tracking_number"))
    body.require("carrier", "tracking_number")
    order = await ship_order(order_id, carrier=body.text("carrier"),
                             tracking_number=body.text("tracking_number"),
                             now=app_now(request))
    log.info("admin.mall_order.shipped id=%s operator=%s", order_id, operator_of(request))
    return await _answer(request, order)


async def cancel_route(request: web.Request) -> web.Response:
    order_id = query.path_id(request)
    body = await read_object(request)
    body.only(("reason",))
    body.require("reason")
    # cancel_order logs the cancellation with the operator; a repeated one changes nothing.
    order, _ = await cancel_order(
        order_id, by=operator_of(request), reason=body.text("reason", max_chars=MAX_REASON_CHARS),
        now=app_now(request), settings=request.config_dict[SETTINGS])
    return await _answer(request, order)


async def complete_route(request: web.Request) -> web.Response:
    order_id = query.path_id(request)
    order = await complete_order(order_id, now=app_now(request))
    log.info("admin.mall_order.completed id=%s operator=%s", order_id, operator_of(request))
    return await _answer(request, order)


routes = [
    web.get("/mall/orders", list_orders),
    web.get(r"/mall/orders/{id:\d+}", get_order),
    web.post(r"/mall/orders/{id:\d+}/ship", ship_route),
    web.post(r"/mall/orders/{id:\d+}/cancel", cancel_route),
    web.post(r"/mall/orders/{id:\d+}/complete", complete_route),
]
