"""Helpers for the mall tests: items made through the catalogue handler, members with
points, and the invariants every mall test ends by asserting."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import datetime
from typing import Any

from bot.settings import Settings
from handlers.ledger import award
from handlers.mall_items import ItemSpec, create_item
from models.mall import (
    CouponCode,
    ItemKind,
    MallItem,
    MallOrder,
    MemberBenefit,
    OrderState,
    StockMovement,
)
from models.points import PointsEntry
from tests.handlers.points_world import T0, assert_ledger_consistent, new_member

_keys = itertools.count(1)

ADDRESS = {"name": "张三", "phone": "13800138000", "province": "上海市", "city": "上海市",
           "district": "徐汇区", "detail": "漕溪北路 1 号"}


async def new_item(settings: Settings, *, now: datetime = T0, **fields: Any) -> MallItem:
    """An item (default: physical, 100 points, stock 10) created as an operator would."""
    spec = ItemSpec(**{"title": "保温杯", "kind": ItemKind.PHYSICAL, "points_price": 100,
                       "stock": 10, **fields})
    return await create_item(spec, level_count=len(settings.members.levels),
                             operator="admin:test", now=now)


async def rich_member(settings: Settings, points: int, **fields: Any) -> int:
    """A new active member holding `points`."""
    member_id = await new_member(**fields)
    if points:
        await award(member_id, points, key=f"test-credit:{next(_keys)}", reason="test",
                    now=T0, settings=settings)
    return member_id


async def assert_mall_consistent() -> None:
    """Stock never below 0 and always the sum of its movements; every order's points
    debited once through the ledger (and refunded once if it was cancelled), its
    units taken once from stock (and given back once if cancelled); a coupon order
    holds one code per unit, a benefit order its benefit; the ledger adds up."""
    for item in await MallItem.all():
        moves = await StockMovement.filter(item_id=item.id)
        assert item.stock >= 0, item.id
        assert item.stock == sum(m.delta for m in moves), item.id
    entries = {e.key: e for e in await PointsEntry.filter(key__startswith="mall")}
    moves_by_key = {(m.item_id, m.key): m for m in await StockMovement.all()}
    codes = Counter(c.order_id for c in await CouponCode.exclude(order_id=None))
    benefits = {b.order_id for b in await MemberBenefit.all()}
    for order in await MallOrder.all():
        spent = entries[f"mall:{order.id}"]
        assert (spent.delta, spent.member_id) == (-order.points, order.member_id), order.id
        assert moves_by_key[(order.item_id, f"order:{order.id}")].delta == -order.quantity
        cancelled = order.status is OrderState.CANCELLED
        refund = entries.get(f"mall-refund:{order.id}")
        assert (refund is not None) == cancelled, order.id
        if refund is not None:
            assert refund.delta == order.points, order.id
            assert moves_by_key[(order.item_id, f"cancel:{order.id}")].delta == order.quantity
        else:
            assert (order.item_id, f"cancel:{order.id}") not in moves_by_key, order.id
        assert codes.get(order.id, 0) == (order.quantity if order.kind is ItemKind.COUPON
                                          else 0), order.id
        assert (order.id in benefits) == (order.kind is ItemKind.BENEFIT), order.id
    mall_keys = [k for k in entries if k.startswith(("mall:", "mall-refund:"))]
    assert len(mall_keys) == len(set(mall_keys))
    await assert_ledger_consistent()
