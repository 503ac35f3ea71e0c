"""The mall order routes over HTTP: the list with its filters, one order with its address
opened, the CSV export of every matching order; shipping, cancelling (points and stock
back, once) and completing, refused with the order's status when too late; a
cancellation racing a shipment or a completion. After every test the mall's invariants
are checked (`mall_invariants`, tests/handlers/mall_world.py)."""

from __future__ import annotations

import asyncio
import csv
import io
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from datetime import timedelta
from typing import Any

import pytest

from bot.settings import Settings
from handlers.mall_address import read_address
from handlers.mall_redeem import Redemption, redeem
from handlers.mall_stock import add_codes, clean_codes
from models.mall import ItemKind, MallItem, MallOrder, OrderState, StockMovement
from models.members import Member
from models.points import PointsEntry
from tests.admin_api.conftest import TOKEN, AdminClient, Reply, admin_client
from tests.admin_api.test_points import fingerprint
from tests.handlers.mall_world import (  # noqa: F401  (mall_invariants: autouse fixture)
    ADDRESS,
    mall_invariants,
    new_item,
    rich_member,
)
from tests.handlers.points_world import T0, balance
from tests.sandbox_fixtures import SandboxConsole

HOME = read_address(ADDRESS)
HOUR = timedelta(hours=1)
CSV_HEADER = ["id", "created_at", "status", "member_id", "item_id", "title", "kind",
              "quantity", "points", "name", "phone", "province", "city", "district", "detail",
              "postal_code", "carrier", "tracking_number", "coupon_codes", "shipped_at",
              "completed_at", "cancelled_at", "cancelled_by", "cancel_reason"]


@pytest.fixture
async def mall(settings: Settings, sandbox: SandboxConsole) -> AsyncIterator[AdminClient]:
    """The admin API with its clock at T0."""
    async with admin_client(settings, clock=T0.timestamp) as client:
        yield client


async def order(settings: Settings, member_id: int, item: MallItem, key: str, *,
                quantity: int = 1, hours: int = 0) -> MallOrder:
    """A member's redemption, `hours` after T0 (with the address for a physical item)."""
    ask = Redemption(item.id, quantity, key, HOME if item.kind is ItemKind.PHYSICAL else None)
    made, new = await redeem(await Member.get(id=member_id), ask, settings, T0 + hours * HOUR)
    assert new
    return made


def ids(reply: Any) -> list[int]:
    return [o["id"] for o in reply.json()["items"]]


async def race(first: Awaitable[Reply], second: Awaitable[Reply],
               round_: int) -> tuple[Reply, Reply]:
    """Both requests at once, sent in turn one first and the other first."""
    if round_ % 2:
        to_second, to_first = await asyncio.gather(second, first)
    else:
        to_first, to_second = await asyncio.gather(first, second)
    return to_first, to_second


def csv_rows(body: bytes) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(body.decode()))
    assert reader.fieldnames == CSV_HEADER
    return list(reader)


async def test_orders_are_listed_filtered_and_read(mall: AdminClient, settings: Settings) -> None:
    cup = await new_item(settings, points_price=100)
    coupon = await new_item(settings, title="满减券", kind=ItemKind.COUPON, stock=0,
                            points_price=20)
    await add_codes(coupon.id, clean_codes(["Q1", "Q2"]), operator="admin:test", now=T0)
    perk = await new_item(settings, title="包邮卡", kind=ItemKind.BENEFIT,
                          benefit_code="free_shipping", benefit_days=30, points_price=10)
    ann, bob = await rich_member(settings, 1000), await rich_member(settings, 1000)
    two_cups = await order(settings, ann, cup, "a1", quantity=2)
    one_cup = await order(settings, bob, cup, "b1", hours=1)
    codes = await order(settings, ann, coupon, "a2", hours=2)
    granted = await order(settings, bob, perk, "b2", hours=3)

    everything = await mall.get("/mall/orders")
    assert ids(everything) == [granted.id, codes.id, one_cup.id, two_cups.id]  # newest first
    assert everything.json()["total"] == 4
    shown = everything.json()["items"][3]
    assert {k: shown[k] for k in ("status", "item", "quantity", "points", "address",
                                  "member_id", "idempotency_key", "coupon_codes")} == {
        "status": "created", "item": {"id": cup.id, "title": "保温杯", "kind": "physical"},
        "quantity": 2, "points": 200, "address": ADDRESS | {"postal_code": ""},
        "member_id": ann, "idempotency_key": "a1", "coupon_codes": []}
    assert shown["created_at"] == T0.isoformat()
    assert (await mall.get(f"/mall/orders/{two_cups.id}")).json() == shown
    assert (await mall.get(f"/mall/orders/{codes.id}")).json()["coupon_codes"] == ["Q1"]
    benefit = (await mall.get(f"/mall/orders/{granted.id}")).json()["benefit"]
    assert (benefit["code"], benefit["order_id"]) == ("free_shipping", granted.id)

    for params, expected in (
            ({"status": "created"}, [one_cup.id, two_cups.id]),
            ({"status": "completed"}, [granted.id, codes.id]),
            ({"kind": "coupon"}, [codes.id]), ({"item_id": str(cup.id)}, [one_cup.id,
                                                                        two_cups.id]),
            ({"member_id": str(ann)}, [codes.id, two_cups.id]),
            ({"member_id": str(bob), "status": "created"}, [one_cup.id]),
            # T0 + 1 h is 11:00 in Shanghai: from (included) and until (excluded).
            ({"created_from": "2025-03-01T11:00:00+08:00"}, [granted.id, codes.id,
                                                              one_cup.id]),
            ({"created_until": "2025-03-01T11:00:00+08:00"}, [two_cups.id]),
            ({"created_from": "2025-03-01T03:00:00Z",
              "created_until": "2025-03-01T05:00:00Z"}, [codes.id, one_cup.id]),
            ({"limit": "2", "offset": "1"}, [codes.id, one_cup.id])):
        reply = await mall.get("/mall/orders", params=params)
        assert ids(reply) == expected, params
    page = (await mall.get("/mall/orders", params={"limit": "2", "offset": "1"})).json()
    assert (page["total"], page["limit"], page["offset"]) == (4, 2, 1)
    for params, field in (({"status": "lost"}, "status"), ({"kind": "gift"}, "kind"),
                          ({"item_id": "x"}, "item_id"), ({"member_id": "0"}, "member_id"),
                          ({"created_from": "2025-03-01T00:00:00"}, "created_from"),
                          ({"created_until": "yesterday"}, "created_until"),
                          ({"format": "xml"}, "format")):
        reply = await mall.get("/mall/orders", params=params)
        assert (reply.status, reply.error["field"]) == (400, field), params
    missing = await mall.get("/mall/orders/987654")
    assert (missing.status, missing.error["code"]) == (404, "not_found")


async def test_every_matching_order_exports_as_csv(mall: AdminClient, settings: Settings,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("admin_api.mall_orders.CSV_BATCH", 2)  # several batches
    cup = await new_item(settings, points_price=10, stock=20)
    coupon = await new_item(settings, title="满减券", kind=ItemKind.COUPON, stock=0,
                            points_price=20)
    await add_codes(coupon.id, clean_codes(["Q1", "Q2", "Q3"]), operator="admin:test", now=T0)
    member_id = await rich_member(settings, 1000)
    cups = [await order(settings, member_id, cup, f"c{n}", hours=n) for n in range(5)]
    codes = await order(settings, member_id, coupon, "codes", quantity=2, hours=6)
    await mall.post(f"/mall/orders/{cups[1].id}/ship", {"carrier": "SF",
                                                        "tracking_number": "SF100"})
    await mall.post(f"/mall/orders/{cups[2].id}/cancel", {"reason": "缺货"})

    reply = await mall.get("/mall/orders", params={"format": "csv"})
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in reply.headers["Content-Disposition"]
    rows = csv_rows(reply.body)
    assert [int(r["id"]) for r in rows] == [o.id for o in (*cups, codes)]  # in id order
    assert rows[0] == {
        "id": str(cups[0].id), "created_at": T0.isoformat(), "status": "created",
        "member_id": str(member_id), "item_id": str(cup.id), "title": "保温杯",
        "kind": "physical", "quantity": "1", "points": "10", "name": "张三",
        "phone": "13800138000", "province": "上海市", "city": "上海市", "district": "徐汇区",
        "detail": "漕溪北路 1 号", "postal_code": "", "carrier": "", "tracking_number": "",
        "coupon_codes": "", "shipped_at": "", "completed_at": "", "cancelled_at": "",
        "cancelled_by": "", "cancel_reason": ""}
    assert (rows[1]["status"], rows[1]["carrier"], rows[1]["tracking_number"],
            rows[1]["shipped_at"]) == ("shipped", "SF", "SF100", T0.isoformat())
    assert (rows[2]["status"], rows[2]["cancelled_by"], rows[2]["cancel_reason"]) == (
        "cancelled", fingerprint(TOKEN), "缺货")
    assert (rows[5]["kind"], rows[5]["coupon_codes"], rows[5]["name"]) == ("coupon", "Q1;Q2",
                                                                          "")

    filtered = await mall.get("/mall/orders", params={"status": "created"},
                              headers={"Accept": "text/csv"})
    assert [int(r["id"]) for r in csv_rows(filtered.body)] == [cups[0].id, cups[3].id,
                                                               cups[4].id]
    nothing = await mall.get("/mall/orders", params={"format": "csv", "member_id": "987654"})
    assert csv_rows(nothing.body) == []
    refused = await mall.get("/mall/orders", params={"format": "csv", "status": "lost"})
    assert (refused.status, refused.error["field"]) == (400, "status")


async def test_orders_ship_cancel_and_complete(mall: AdminClient, settings: Settings) -> None:
    cup = await new_item(settings, points_price=100, stock=5)
    member_id = await rich_member(settings, 500)
    first = await order(settings, member_id, cup, "k1")
    shipped = await mall.post(f"/mall/orders/{first.id}/ship",
                              {"carrier": " SF ", "tracking_number": "SF1001"})
    assert shipped.status == 200, shipped.body
    assert (shipped.json()["status"], shipped.json()["carrier"],
            shipped.json()["shipped_at"]) == ("shipped", "SF", T0.isoformat())
    corrected = await mall.post(f"/mall/orders/{first.id}/ship",
                                {"carrier": "JD", "tracking_number": "JD2002"})
    assert (corrected.json()["carrier"], corrected.json()["tracking_number"]) == ("JD", "JD2002")
    completed = await mall.post(f"/mall/orders/{first.id}/complete")
    assert (completed.status, completed.json()["status"],
            completed.json()["completed_at"]) == (200, "completed", T0.isoformat())
    again = await mall.post(f"/mall/orders/{first.id}/complete")
    assert (again.status, again.json()) == (200, completed.json())
    late = await mall.post(f"/mall/orders/{first.id}/cancel", {"reason": "退货"})
    assert (late.status, late.error["code"], late.error["status"]) == (
        409, "wrong_status", "completed")
    assert await balance(member_id) == 400

    second = await order(settings, member_id, cup, "k2", quantity=2)
    assert (await balance(member_id), (await MallItem.get(id=cup.id)).stock) == (200, 2)
    early = await mall.post(f"/mall/orders/{second.id}/complete")
    assert (early.status, early.error["code"], early.error["status"]) == (
        409, "wrong_status", "created")
    cancelled = await mall.post(f"/mall/orders/{second.id}/cancel", {"reason": "缺货"})
    assert cancelled.status == 200, cancelled.body
    assert (cancelled.json()["status"], cancelled.json()["cancelled_by"],
            cancelled.json()["cancel_reason"], cancelled.json()["cancelled_at"]) == (
        "cancelled", fingerprint(TOKEN), "缺货", T0.isoformat())
    assert (await balance(member_id), (await MallItem.get(id=cup.id)).stock) == (400, 4)
    twice = await mall.post(f"/mall/orders/{second.id}/cancel", {"reason": "again"})
    assert (twice.status, twice.json()) == (200, cancelled.json())  # changes nothing
    assert (await balance(member_id), (await MallItem.get(id=cup.id)).stock) == (400, 4)
    assert await PointsEntry.filter(key=f"mall-refund:{second.id}").count() == 1
    too_late = await mall.post(f"/mall/orders/{second.id}/ship",
                               {"carrier": "SF", "tracking_number": "SF3"})
    assert (too_late.status, too_late.error["code"], too_late.error["status"]) == (
        409, "wrong_status", "cancelled")

    coupon = await new_item(settings, kind=ItemKind.COUPON, stock=0, points_price=10)
    await add_codes(coupon.id, clean_codes(["Z1"]), operator="admin:test", now=T0)
    given = await order(settings, member_id, coupon, "k3")
    shown = await mall.post(f"/mall/orders/{given.id}/cancel", {"reason": "r"})
    assert (shown.status, shown.error["status"]) == (409, "completed")

    third = await order(settings, member_id, cup, "k4")
    for path, body, field in (("ship", {"carrier": "SF"}, "tracking_number"),
                              ("ship", {"carrier": " ", "tracking_number": "1"}, "carrier"),
                              ("ship", {"carrier": "SF", "tracking_number": "1", "x": 1}, "x"),
                              ("cancel", {}, "reason"), ("cancel", {"reason": ""}, "reason")):
        reply = await mall.post(f"/mall/orders/{third.id}/{path}", body)
        assert (reply.status, reply.error["field"]) == (400, field), body
    assert (await MallOrder.get(id=third.id)).status is OrderState.CREATED
    for path, sent in (("ship", {"carrier": "SF", "tracking_number": "1"}),
                       ("cancel", {"reason": "r"}), ("complete", None)):
        reply = await mall.post(f"/mall/orders/987654/{path}", sent)
        assert (reply.status, reply.error["code"]) == (404, "not_found"), path


async def test_cancellation_racing_shipment_refunds_once(mall: AdminClient,
                                                         settings: Settings) -> None:
    """An operator may cancel a shipped order (a parcel lost or returned): the cancel
    always takes effect, and the shipment either came first or is refused."""
    cup = await new_item(settings, points_price=10, stock=30)
    member_id = await rich_member(settings, 1000)
    outcomes: Counter[str] = Counter()
    for round_ in range(15):
        made = await order(settings, member_id, cup, f"r{round_}")
        ship, cancel = await race(
            mall.post(f"/mall/orders/{made.id}/ship",
                      {"carrier": "SF", "tracking_number": f"SF{round_}"}),
            mall.post(f"/mall/orders/{made.id}/cancel", {"reason": "拦截"}), round_)
        assert (cancel.status, cancel.json()["status"]) == (200, "cancelled")
        final = await MallOrder.get(id=made.id)
        assert final.status is OrderState.CANCELLED
        if ship.status == 200:
            assert final.shipped_at is not None and final.tracking_number == f"SF{round_}"
            outcomes["shipped, then cancelled"] += 1
        else:
            assert (ship.status, ship.error["code"], ship.error["status"]) == (
                409, "wrong_status", "cancelled")
            assert final.shipped_at is None and final.tracking_number is None
            outcomes["cancelled first"] += 1
        assert await balance(member_id) == 1000
        assert (await MallItem.get(id=cup.id)).stock == 30
    assert sum(outcomes.values()) == 15
    refunds = await PointsEntry.filter(key__startswith="mall-refund:").count()
    restocks = await StockMovement.filter(item_id=cup.id, kind="cancel").count()
    assert refunds == restocks == 15


async def test_cancellation_racing_completion_lets_exactly_one_win(
        mall: AdminClient, settings: Settings) -> None:
    cup = await new_item(settings, points_price=10, stock=30)
    member_id = await rich_member(settings, 1000)
    winners: Counter[str] = Counter()
    for round_ in range(15):
        made = await order(settings, member_id, cup, f"r{round_}")
        shipped = await mall.post(f"/mall/orders/{made.id}/ship",
                                  {"carrier": "SF", "tracking_number": f"SF{round_}"})
        assert shipped.status == 200
        complete, cancel = await race(
            mall.post(f"/mall/orders/{made.id}/complete"),
            mall.post(f"/mall/orders/{made.id}/cancel", {"reason": "丢件"}), round_)
        final = (await MallOrder.get(id=made.id)).status
        if complete.status == 200:
            assert (cancel.status, cancel.error["code"], cancel.error["status"]) == (
                409, "wrong_status", "completed")
            assert final is OrderState.COMPLETED
        else:
            assert (complete.status, complete.error["code"], complete.error["status"]) == (
                409, "wrong_status", "cancelled")
            assert cancel.status == 200 and final is OrderState.CANCELLED
        winners[final.value] += 1
    completed = winners["completed"]
    assert completed + winners["cancelled"] == 15
    assert await balance(member_id) == 1000 - 10 * completed
    assert (await MallItem.get(id=cup.id)).stock == 30 - completed
