"""The member's mall orders and what they granted: `GET /mall/orders` (newest first,
paged, `?status=`), `GET /mall/orders/{id}`, `POST /mall/orders/{id}/cancel` (an order
not shipped yet; its points and stock come back once, and a second cancel answers the
cancelled order), `POST /mall/orders/{id}/confirm` (the parcel of a shipped order
arrived) and `GET /me/benefits` (the benefits orders granted that are still valid).

A member reaches only their own orders: another member's is a 404, as if it did not
exist. How an order looks is handlers.mall_view's (`orders_json`: its address opened
for its owner, its coupon codes, its benefit).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from tortoise.expressions import Q

from bot import query
from bot.keys import SETTINGS
from bot.pagination import Page
from bot.request_clock import app_now
from handlers.mall_orders import (
    MAX_REASON_CHARS,
    MEMBER,
    cancel_order,
    complete_order,
    order_of,
)
from handlers.mall_view import benefit_json, orders_json
from miniapp_api.auth import member_id_of
from miniapp_api.body import read_object_or_empty
from models.mall import MallOrder, MemberBenefit, OrderState

# An item's or order's id in a path; more digits could not be a BIGINT (a 404, not a 500).
ID = r"{id:\d{1,18}}"


async def order_view(request: web.Request, order: MallOrder) -> dict[str, Any]:
    """One order as its member sees it."""
    [shown] = await orders_json([order], request.config_dict[SETTINGS].members)
    return shown


async def _answer(request: web.Request, order: MallOrder) -> web.Response:
    return web.json_response({"order": await order_view(request, order)})


async def list_orders(request: web.Request) -> web.Response:
    page = Page.of(request)
    orders = MallOrder.filter(member_id=member_id_of(request))
    status = query.choice(request, "status", ("any", *OrderState))
    if status != "any":
        orders = orders.filter(status=status)
    found, total = await page.rows(orders.order_by("-id"))
    return page.answer(await orders_json(found, request.config_dict[SETTINGS].members), total)


async def get_order(request: web.Request) -> web.Response:
    return await _answer(request, await order_of(query.path_id(request), member_id_of(request)))


async def cancel_route(request: web.Request) -> web.Response:
    body = await read_object_or_empty(request)
    body.only(("reason",))
    reason = body.text("reason", max_chars=MAX_REASON_CHARS) if body.has("reason") else ""
    order, _ = await cancel_order(query.path_id(request), by=MEMBER, reason=reason,
                                  now=app_now(request), settings=request.config_dict[SETTINGS],
                                  member_id=member_id_of(request))
    return await _answer(request, order)


async def confirm_route(request: web.Request) -> web.Response:
    order = await complete_order(query.path_id(request), now=app_now(request),
                                 member_id=member_id_of(request))
    return await _answer(request, order)


async def my_benefits(request: web.Request) -> web.Response:
    now = app_now(request)
    benefits = await MemberBenefit.filter(
        Q(valid_until=None) | Q(valid_until__gt=now),
        member_id=member_id_of(request)).order_by("id")
    return web.json_response({"items": [benefit_json(benefit) for benefit in benefits]})


routes = [
    web.get("/mall/orders", list_orders),
    web.get(f"/mall/orders/{ID}", get_order),
    web.post(f"/mall/orders/{ID}/cancel", cancel_route),
    web.post(f"/mall/orders/{ID}/confirm", confirm_route),
    web.get("/me/benefits", my_benefits),
]
