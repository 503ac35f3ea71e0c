"""The points mall's shelf and redemption for members: `GET /mall/items` (what is on the
shelf now, each with whether the member may redeem one and why not), `GET
/mall/items/{id}` (one item, on the shelf or not) and `POST /mall/redeem`.

The rules are handlers.mall_rules' and the redemption is handlers.mall_redeem's; this
module reads the request (the list's page and filter, the Idempotency-Key header, the
body) and shapes the answer. A retry with the same key answers the same order, 201
again, marked `Idempotent-Replayed: true`. The refusals get their status codes in
miniapp_api/errors.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from bot import query
from bot.http_errors import InputError
from bot.keys import SETTINGS
from bot.pagination import Page
from bot.request_clock import app_now
from handlers.mall_address import read_address
from handlers.mall_items import get_item
from handlers.mall_redeem import MAX_KEY_CHARS, Redemption, redeem
from handlers.mall_rules import Taken, refusals, units_taken
from handlers.mall_view import offer_json
from handlers.points_rules import local_day
from miniapp_api.auth import member_of
from miniapp_api.body import read_object
from miniapp_api.mall_orders import ID, order_view
from models.mall import ItemKind, MallItem
from models.members import Member

IDEMPOTENCY_KEY = "Idempotency-Key"
# The largest id the database's BIGINT holds.
MAX_ID = 2**63 - 1


def shelf(now: datetime) -> QuerySet[MallItem]:
    """The items members may redeem now (stock and limits aside), as on_shelf decides
    for one item, in the shelf's order."""
    return MallItem.filter(
        Q(shelf_from=None) | Q(shelf_from__lte=now),
        Q(shelf_until=None) | Q(shelf_until__gt=now),
        deleted_at=None, on_shelf=True,
    ).order_by("sort_order", "id")


async def offers(items: list[MallItem], member: Member, now: datetime) -> list[dict[str, Any]]:
    """The items as the member sees them: every reason they may not redeem one now,
    and the units their live orders hold (one units_taken call for all)."""
    taken = await units_taken(member.id, [item.id for item in items], local_day(now))
    shown = []
    for item in items:
        held = taken.get(item.id, Taken())
        shown.append(offer_json(item, refusals(item, member, held, 1, now), held.total))
    return shown


async def list_items(request: web.Request) -> web.Response:
    page = Page.of(request)
    now = app_now(request)
    items = shelf(now)
    kind = query.choice(request, "kind", ("any", *ItemKind))
    if kind != "any":
        items = items.filter(kind=kind)
    found, total = await page.rows(items)
    return page.answer(await offers(found, member_of(request), now), total)


async def get_offer(request: web.Request) -> web.Response:
    item = await get_item(query.path_id(request))
    [offer] = await offers([item], member_of(request), app_now(request))
    return web.json_response(offer)


def idempotency_key(request: web.Request) -> str:
    key = request.headers.get(IDEMPOTENCY_KEY)
    if key is None:
        raise InputError(IDEMPOTENCY_KEY, "the header is required: a key made once per "
                                          "redemption (e.g. a UUID) and sent again on a retry")
    if not (1 <= len(key) <= MAX_KEY_CHARS and key.isascii() and key.isprintable()):
        raise InputError(IDEMPOTENCY_KEY, f"must be 1-{MAX_KEY_CHARS} printable ASCII "
                                          "characters")
    return key


async def redemption_of(request: web.Request, key: str) -> Redemption:
    """What the body asks for: `item_id`, `quantity` (default 1) and `address` (an
    object, or null / absent for items that are not shipped)."""
    body = await read_object(request)
    body.only(("item_id", "quantity", "address"))
    body.require("item_id")
    item_id = body.integer("item_id")
    if not 1 <= item_id <= MAX_ID:
        raise InputError("item_id", "not an item id")
    max_quantity = request.config_dict[SETTINGS].mall.max_quantity
    quantity = body.integer("quantity") if body.has("quantity") else 1
    if not 1 <= quantity <= max_quantity:
        raise InputError("quantity", f"must be 1-{max_quantity}")
    address = body.data.get("address")
    return Redemption(item_id, quantity, key,
                      read_address(address) if address is not None else None)


async def redeem_route(request: web.Request) -> web.Response:
    ask = await redemption_of(request, idempotency_key(request))
    order, new = await redeem(member_of(request), ask, request.config_dict[SETTINGS],
                              app_now(request))
    return web.json_response({"order": await order_view(request, order)}, status=201,
                             headers=None if new else {"Idempotent-Replayed": "true"})


routes = [
    web.get("/mall/items", list_items),
    web.get(f"/mall/items/{ID}", get_offer),
    web.post("/mall/redeem", redeem_route),
]
