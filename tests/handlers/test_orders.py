"""Order import: points per yuan times the level's multiplier, growth per yuan, once per
order; a refund takes both back once; unmatched orders are credited when their member
appears; CSV rows are checked by line."""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import timedelta

from bot.runtime import open_runtime
from bot.settings import Settings
from handlers.ledger import deduct
from handlers.member_identity import add_identities
from handlers.order_csv import check, csv_rows, good_rows, json_rows
from handlers.order_rows import OrderRow, RowError
from handlers.orders import claim_unmatched_orders, import_orders
from models.members import IdentityKind, Member, MemberStatus
from models.points import ImportedOrder, OrderStatus, PointsEntry
from tests.handlers.points_world import T0, assert_ledger_consistent, balance, new_member


def rows(settings: Settings, *orders: Mapping[str, object]) -> list[OrderRow]:
    parsed = list(json_rows([{"paid_at": "2025-02-20T12:00:00+08:00", "status": "paid",
                              **order} for order in orders], settings))
    assert all(isinstance(row, OrderRow) for row in parsed), parsed
    return [row for row in parsed if isinstance(row, OrderRow)]


async def test_order_points_use_the_level_multiplier(settings: Settings) -> None:
    async with open_runtime(settings):
        member = await new_member((IdentityKind.TMALL, "t-1"))
        first = await import_orders(rows(settings, {
            "channel": "tmall", "order_id": "A1", "member": "tmall:t-1", "amount": "599.99"}),
            settings, T0)
        assert first.as_json() == {"imported": 1, "matched": 1, "unmatched": 0,
                                   "duplicates": 0, "refunded": 0}
        stored = await Member.get(id=member)
        assert (stored.points, stored.growth, stored.level) == (599, 599, 2)
        # Now V2 (× 1.1): 100.50 yuan → floor(110.55) points, 100 growth.
        await import_orders(rows(settings, {
            "channel": "jd", "order_id": "B7", "member": f"member:{member}", "amount": 100.5}),
            settings, T0)
        order = await ImportedOrder.get(channel="jd", order_id="B7")
        assert (order.points, order.growth, order.amount_cents) == (110, 100, 10050)
        assert await balance(member) == 599 + 110
        again = await import_orders(rows(settings, {
            "channel": "jd", "order_id": "B7", "member": f"member:{member}", "amount": 100.5}),
            settings, T0)
        assert (again.imported, again.duplicates) == (0, 1)
        await assert_ledger_consistent()


async def test_a_refund_reverses_points_and_growth_once(settings: Settings) -> None:
    async with open_runtime(settings):
        member = await new_member((IdentityKind.POS, "card-9"))
        paid = {"channel": "pos", "order_id": "P1", "member": "pos:card-9", "amount": "800"}
        refunded = {**paid, "status": "refunded"}
        summary = await import_orders(rows(settings, paid, refunded, refunded, paid), settings,
                                      T0)
        assert summary.as_json() == {"imported": 1, "matched": 1, "unmatched": 0,
                                     "duplicates": 2, "refunded": 1}
        stored = await Member.get(id=member)
        assert (stored.points, stored.growth, stored.level) == (0, 0, 1)
        refund = await PointsEntry.get(key="refund:pos:P1")
        assert (refund.delta, refund.growth_delta) == (-800, -800)
        assert (await ImportedOrder.get(order_id="P1")).status == OrderStatus.REFUNDED
        # Spent points are not taken below zero: the refund takes what is left.
        await import_orders(rows(settings, {**paid, "order_id": "P2", "amount": "300"}),
                            settings, T0)
        await deduct(member, 250, key="mall:1", reason="", now=T0)
        await import_orders(rows(settings, {**refunded, "order_id": "P2", "amount": "300"}),
                            settings, T0)
        assert (await PointsEntry.get(key="refund:pos:P2")).delta == -50
        assert await balance(member) == 0
        # Refunded before it was ever seen paid: recorded, nothing credited, ever.
        late = await import_orders(rows(settings, {**refunded, "order_id": "P3"},
                                        {**paid, "order_id": "P3"}), settings, T0)
        assert (late.imported, late.refunded, late.duplicates, late.matched) == (1, 1, 1, 0)
        await assert_ledger_consistent()


async def test_unmatched_orders_are_credited_when_the_member_appears(
    settings: Settings,
) -> None:
    async with open_runtime(settings):
        orders = rows(settings,
                      {"channel": "douyin", "order_id": "D1", "member": "douyin:dy-5",
                       "amount": "88"},
                      {"channel": "tmall", "order_id": "T1", "member": "phone:138 0013 8000",
                       "amount": "12.34"},
                      {"channel": "jd", "order_id": "J1", "member": "member:424242",
                       "amount": "10"})
        first = await import_orders(orders, settings, T0)
        assert (first.imported, first.matched, first.unmatched) == (3, 0, 3)
        phone_order = await ImportedOrder.get(order_id="T1")
        assert "13800138000" not in phone_order.identity_value  # only its lookup hash

        member = await new_member((IdentityKind.DOUYIN, "dy-5"))
        again = await import_orders(orders, settings, T0 + timedelta(days=1))
        assert (again.imported, again.matched, again.duplicates) == (0, 1, 2)
        assert await balance(member) == 88

        # Binding the phone later: the member's unmatched orders are claimed once.
        await add_identities(member, [(IdentityKind.PHONE, phone_order.identity_value)])
        assert await claim_unmatched_orders(member, settings, T0) == 1
        assert await claim_unmatched_orders(member, settings, T0) == 0
        assert await balance(member) == 88 + 12
        assert (await ImportedOrder.get(order_id="T1")).member_id == member
        await assert_ledger_consistent()


async def test_a_member_id_of_a_merged_member_credits_the_survivor(settings: Settings) -> None:
    async with open_runtime(settings):
        survivor, merged = await new_member(), await new_member()
        await Member.filter(id=merged).update(status=MemberStatus.MERGED,
                                              merged_into_id=survivor)
        await import_orders(rows(settings, {"channel": "pos", "order_id": "M1",
                                            "member": f"member:{merged}", "amount": "5"}),
                            settings, T0)
        assert (await balance(survivor), await balance(merged)) == (5, 0)
        await assert_ledger_consistent()


def test_csv_rows_are_checked_by_line(settings: Settings) -> None:
    text = (
        "\ufeffChannel,order_id,member,amount,paid_at,status,note\n"
        "tmall,T1,tmall:t-1,19.90,2025-03-01 10:00:00,paid,ok\n"
        "tmall,T2,tmall:t-1,abc,2025-03-01T10:00:00+08:00,paid,\n"
        "tmall,T3,nobody,1,2025-03-01T10:00:00+08:00,paid,\n"
        "\n"
        "jd,J1,wechat:x,1,2025-03-01T10:00:00+08:00,paid,\n"
        "jd,J2,member:12,1.005,2025-03-01T10:00:00+08:00,paid,\n"
        "jd,J3,phone:12,1,2025-03-01T10:00:00+08:00,paid,\n"
        "jd,J4,member:12,1,yesterday,paid,\n"
        "jd,J5,member:12,1,2025-03-01T10:00:00+08:00,shipped,\n"
        "jd:x,J6,member:12,1,2025-03-01T10:00:00+08:00,paid,\n"
        ",J7,member:12,1,2025-03-01T10:00:00+08:00,paid,\n"
        "jd,J8,member:12,-1,2025-03-01T10:00:00+08:00,paid,,extra\n"
    )
    checked = check(csv_rows(io.StringIO(text), settings))
    assert checked.valid == 1
    assert [(e.position, e.field) for e in checked.errors] == [
        (3, "amount"), (4, "member"), (6, "member"), (7, "amount"), (8, "member"),
        (9, "paid_at"), (10, "status"), (11, "channel"), (12, "channel"), (13, "row")]
    good = list(good_rows(csv_rows(io.StringIO(text), settings)))
    assert [(r.order_id, r.amount_cents, r.paid_at.utcoffset()) for r in good] == [
        ("T1", 1990, timedelta(hours=8))]
    missing = list(csv_rows(io.StringIO("channel,order_id,amount\n"), settings))
    assert missing == [RowError(1, "header", "missing column(s): paid_at, status, member "
                                             "(or identity_kind and identity_value)")]
    columns = ("channel,order_id,identity_kind,identity_value,amount,paid_at,status\n"
               "pos,1,POS,card-1,3,2025-03-01T10:00:00Z,Paid\n")
    (row,) = list(csv_rows(io.StringIO(columns), settings))
    assert isinstance(row, OrderRow)
    assert (row.identity_kind, row.identity_value, row.status) == ("pos", "card-1", "paid")
