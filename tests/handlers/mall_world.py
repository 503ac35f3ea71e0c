"""Helpers for the mall tests: items made through the catalogue handler, members with
points, and the mall's invariants, which `mall_invariants` checks after every test of
the modules that import it."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from bot.runtime import open_runtime
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
    StockKind,
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
    """Stock never below 0 and always the sum of its movements. The points ledger holds
    exactly one debit per order, `mall:<order>` of its points from its member, and one
    refund per cancelled order, `mall-refund:<order>` of the same points (ledger keys
    are unique, so a key present is a movement made once), and no other `mall` entry:
    none for an order that does not exist, no refund of an order not cancelled. The
    stock ledger likewise: `order:<order>` takes the order's units, `cancel:<order>`
    gives a cancelled order's back, and nothing else. A coupon order holds one code
    per unit, a benefit order its benefit; the points ledger adds up."""
    for item in await MallItem.all():
        moves = await StockMovement.filter(item_id=item.id)
        assert item.stock >= 0, item.id
        assert item.stock == sum(m.delta for m in moves), item.id
    orders = await MallOrder.all()
    cancelled = [o for o in orders if o.status is OrderState.CANCELLED]
    entries = {e.key: (e.member_id, e.delta)
               for e in await PointsEntry.filter(key__startswith="mall")}
    assert entries == (
        {f"mall:{o.id}": (o.member_id, -o.points) for o in orders}
        | {f"mall-refund:{o.id}": (o.member_id, o.points) for o in cancelled})
    order_moves = {(m.item_id, m.key): m.delta for m in await StockMovement.filter(
        kind__in=[StockKind.ORDER, StockKind.CANCEL])}
    assert order_moves == ({(o.item_id, f"order:{o.id}"): -o.quantity for o in orders}
                           | {(o.item_id, f"cancel:{o.id}"): o.quantity for o in cancelled})
    codes = Counter(c.order_id for c in await CouponCode.exclude(order_id=None))
    assert codes == {o.id: o.quantity for o in orders if o.kind is ItemKind.COUPON}
    benefits = [b.order_id for b in await MemberBenefit.all()]
    assert sorted(benefits) == sorted(o.id for o in orders if o.kind is ItemKind.BENEFIT)
    await assert_ledger_consistent()


@pytest.fixture(autouse=True)
async def mall_invariants(settings: Settings) -> AsyncIterator[None]:
    """Autouse in the modules that import it: after the test, once everything it
    opened is closed, the invariants hold on what it left in the database."""
    yield
    async with open_runtime(settings):
        await assert_mall_consistent()
