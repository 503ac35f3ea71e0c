"""Redeeming a mall item with points: one database transaction that checks the limits,
debits the points through the ledger, takes the stock and (for a coupon) a code from
the pool, and creates the order. It all happens or none of it does.

Idempotency: the order row is inserted first, unique on (member, Idempotency-Key); a
retry finds the order the key made and gets it back, a concurrent duplicate waits for
the first transaction and then finds it. The key with a different request (another
item, quantity or address) is refused.

Concurrency: the ledger's debit holds the member's row until the commit, so a member's
redemptions follow one another; the stock is taken last with a conditional UPDATE (see
handlers/mall_stock.py), which holds the item's row only for the last statements of the
transaction: the hot row of a popular item is held as briefly as possible. With both
rows held, the transaction decides, and it is the authority: the shelf and its window,
the levels and the limits (counted again) against the item's row as the UPDATE answered
it and the member's level as their row now is, and the price against the one debited.
Before the transaction, the same rules are checked against what was read
(handlers/mall_rules.py): most refusals (sold out, not enough points, a double click)
cost a read, not a rolled-back transaction.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from tortoise.backends.base.client import BaseDBAsyncClient

from handlers.ledger import InsufficientPoints, deduct, marks, utc
from handlers.mall_address import Address, seal_address
from handlers.mall_items import get_item
from handlers.mall_rules import (
    ADDRESS_REQUIRED,
    INSUFFICIENT_POINTS,
    OUT_OF_STOCK,
    PRICE_CHANGED,
    RedeemRefused,
    Taken,
    limited,
    refusals,
    shelf_refusal,
    terms_refusals,
    units_taken,
)
from handlers.mall_stock import NotEnoughStock, move_stock
from handlers.member_cache import announcing_transaction
from handlers.points_rules import local_day
from models.mall import (
    CouponCode,
    ItemKind,
    MallItem,
    MallOrder,
    MemberBenefit,
    OrderState,
    StockKind,
)
from models.members import Member
from models.upsert import find_row, insert_row

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger("scrm.mall")

MAX_KEY_CHARS = 128


class KeyReused(Exception):
    """The Idempotency-Key was used for another redemption by this member."""


@dataclass(frozen=True)
class Redemption:
    item_id: int
    quantity: int
    key: str
    address: Address | None = None

    def fingerprint(self) -> str:
        asked = {"item_id": self.item_id, "quantity": self.quantity,
                 "address": self.address.as_json() if self.address else None}
        return hashlib.sha256(json.dumps(asked, sort_keys=True).encode()).hexdigest()


class _Exists(Exception):
    """Roll back: the key's order exists (a concurrent duplicate committed it)."""


async def redeem(member: Member, ask: Redemption, settings: Settings,
                 now: datetime) -> tuple[MallOrder, bool]:
    """(the order, whether it is new). Raises RedeemRefused, KeyReused, the items'
    UnknownItem, the ledger's UnknownMember; nothing changes then. `member` is the
    row as read for this request (its level and balance decide the early refusals)."""
    done = await _replay(member.id, ask)
    if done is not None:
        return done, False
    item = await get_item(ask.item_id)
    day = local_day(now)
    taken = ((await units_taken(member.id, [item.id], day)).get(item.id, Taken())
             if limited(item) else Taken())
    found = refusals(item, member, taken, ask.quantity, now)
    if found:
        raise found[0]
    if item.kind is ItemKind.PHYSICAL and ask.address is None:
        raise RedeemRefused(ADDRESS_REQUIRED, "a physical item needs a shipping address")
    return await place_order(member.id, item, ask, settings, now)


async def place_order(member_id: int, item: MallItem, ask: Redemption, settings: Settings,
                      now: datetime) -> tuple[MallOrder, bool]:
    """The redemption's transaction for `item` as the request read it, which sets what
    the order costs (its price × quantity); whether it is sold is decided on the item
    and the member as they are once the transaction holds their rows. Returns the order
    and whether it is new; raises RedeemRefused, KeyReused or the ledger's
    UnknownMember, and nothing changes then.

    A price changed since the item was read refuses the order `price_changed`: the
    offer it was decided on is withdrawn. The shopper confirmed the price the shelf showed
    them, so neither the old price (no longer the item's) nor a new one they have not
    seen is charged; the item's page shows the new price, and the next tap buys at it."""
    try:
        order = await _redeem(member_id, item, ask, settings, now)
    except _Exists:
        done = await _replay(member_id, ask)
        if done is None:  # pragma: no cover - a committed order is never deleted
            raise RuntimeError(f"the order of key {ask.key!r} vanished") from None
        return done, False
    log.info("mall.redeemed order_id=%s member_id=%s item_id=%s quantity=%d points=%d",
             order.id, member_id, item.id, order.quantity, order.points)
    return order, True


async def _replay(member_id: int, ask: Redemption) -> MallOrder | None:
    order = await find_row(MallOrder, {"member_id": member_id, "idempotency_key": ask.key})
    if order is not None and order.request_hash != ask.fingerprint():
        raise KeyReused(f"Idempotency-Key {ask.key!r} was used for another redemption")
    return order


async def _redeem(member_id: int, item: MallItem, ask: Redemption, settings: Settings,
                  now: datetime) -> MallOrder:
    given_at_once = item.kind is not ItemKind.PHYSICAL
    cost = item.points_price * ask.quantity
    async with announcing_transaction() as conn:
        order = await insert_row(MallOrder, {
            "member_id": member_id, "item_id": item.id, "kind": item.kind,
            "title": item.title, "quantity": ask.quantity, "points": cost,
            "status": OrderState.COMPLETED if given_at_once else OrderState.CREATED,
            "idempotency_key": ask.key, "request_hash": ask.fingerprint(),
            "day": local_day(now), "created_at": utc(now),
            "completed_at": utc(now) if given_at_once else None,
            "address_cipher": (seal_address(settings.members, ask.address)
                               if ask.address and not given_at_once else None),
        }, unless=("member_id", "idempotency_key"))
        if order is None:
            raise _Exists
        try:
            await deduct(member_id, cost, key=f"mall:{order.id}", now=now,
                         reason=f"积分商城兑换 {item.title} ×{ask.quantity}")
        except InsufficientPoints as exc:
            raise RedeemRefused(INSUFFICIENT_POINTS,
                                f"costs {cost} points; you have {exc.balance}") from None
        level = await _level(member_id)
        held = await _take_stock(conn, item.id, order, now)
        await _decide(member_id, level, held, item.points_price, order, now)
        if item.kind is ItemKind.COUPON:
            await _take_codes(conn, item.id, order.id, ask.quantity)
        elif item.kind is ItemKind.BENEFIT:
            await _grant(member_id, held, order, now)
    return order


async def _level(member_id: int) -> int:
    """The member's level, read once the debit holds their row: final until the commit
    (a level change waits for it)."""
    return (await Member.get(id=member_id).only("id", "level")).level


async def _take_stock(conn: BaseDBAsyncClient, item_id: int, order: MallOrder,
                      now: datetime) -> MallItem:
    """Take the order's units: the item after, its row held until the commit. Refused
    `off_shelf` rather than `out_of_stock` when the item is not on the shelf now (it
    may have been deleted or switched off since it was read)."""
    try:
        return await move_stock(conn, item_id, -order.quantity, kind=StockKind.ORDER,
                                key=f"order:{order.id}", now=now, reason=f"order {order.id}")
    except NotEnoughStock:
        off = shelf_refusal(await MallItem.get(id=item_id), now)
        raise off or RedeemRefused(OUT_OF_STOCK, "sold out") from None


async def _decide(member_id: int, level: int, held: MallItem, price: int, order: MallOrder,
                  now: datetime) -> None:
    """Refuse the order unless the item as held (see _take_stock) takes it: on the shelf
    now, for the member's `level`, within its limits (counted with the member's row
    held, so their orders committed meanwhile count; this order is taken off), at the
    `price` debited (see place_order)."""
    taken = Taken()
    if limited(held):
        counted = (await units_taken(member_id, [held.id], order.day)).get(held.id, Taken())
        taken = Taken(counted.total - order.quantity, counted.today - order.quantity)
    found = terms_refusals(held, level, taken, order.quantity, now)
    if held.points_price != price:
        found.append(RedeemRefused(PRICE_CHANGED, f"the price changed to {held.points_price} "
                                              "points: look again"))
    if found:
        raise found[0]


async def _take_codes(conn: BaseDBAsyncClient, item_id: int, order_id: int,
                      quantity: int) -> None:
    """Give the order `quantity` unused codes of the pool. The stock, taken just before
    under the item's row, never exceeds the unused codes, so there are enough."""
    m = marks(conn, 3)
    skip = " FOR UPDATE SKIP LOCKED" if conn.capabilities.dialect == "postgres" else ""
    table = f'"{CouponCode._meta.db_table}"'
    rows = await conn.execute_query_dict(
        f"UPDATE {table} SET order_id = {m[0]} WHERE id IN (SELECT id FROM {table} "
        f"WHERE item_id = {m[1]} AND order_id IS NULL ORDER BY id LIMIT {m[2]}{skip}) "
        "RETURNING id", [order_id, item_id, quantity])
    if len(rows) < quantity:
        log.error("mall.codes_short item_id=%s order_id=%s wanted=%d got=%d", item_id,
                  order_id, quantity, len(rows))
        raise RedeemRefused(OUT_OF_STOCK, "the code pool ran out")


async def _grant(member_id: int, item: MallItem, order: MallOrder, now: datetime) -> None:
    """Record the item's benefit (as the transaction holds it) on the member: `days` ×
    quantity from now (no end without `days`)."""
    days = item.benefit.get("days")
    until = utc(now) + timedelta(days=int(days) * order.quantity) if days else None
    await MemberBenefit.create(member_id=member_id, order_id=order.id,
                               code=str(item.benefit.get("code", "")), title=item.title,
                               valid_from=utc(now), valid_until=until)
