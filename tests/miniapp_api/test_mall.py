"""The points mall over real HTTP, as members use it: the shelf with the reasons an item
cannot be redeemed, redemption with its Idempotency-Key (retries, double submits, keys
reused), per-member limits and the last units under concurrency, coupon codes and
benefits, cancelling (refunded once) and confirming receipt, and orders that stay
their member's. After every test the mall's invariants are checked (`mall_invariants`,
tests/handlers/mall_world.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.settings import Settings
from handlers.ledger import award
from handlers.mall_address import read_address
from handlers.mall_items import delete_item
from handlers.mall_orders import ship_order
from handlers.mall_stock import add_codes, clean_codes
from models.mall import ItemKind, MallItem, MallOrder, MemberBenefit
from tests.api_client import Reply
from tests.handlers.mall_world import (  # noqa: F401  (mall_invariants: autouse fixture)
    ADDRESS,
    mall_invariants,
    new_item,
)
from tests.handlers.points_world import balance
from tests.miniapp_api.conftest import MemberClient, MiniApp, miniapp_client
from tests.sandbox_fixtures import SandboxConsole

DAY = timedelta(days=1)
ROUTES = (("GET", "/mall/items"), ("GET", "/mall/items/1"), ("POST", "/mall/redeem"),
          ("GET", "/mall/orders"), ("GET", "/mall/orders/1"),
          ("POST", "/mall/orders/1/cancel"), ("POST", "/mall/orders/1/confirm"),
          ("GET", "/me/benefits"))

_credits = itertools.count(1)


def now_of(miniapp: MiniApp) -> datetime:
    assert miniapp.clock is not None
    return datetime.fromtimestamp(miniapp.clock.now(), UTC)


async def give_points(miniapp: MiniApp, settings: Settings, member_id: int,
                      points: int) -> None:
    await award(member_id, points, key=f"test-mall-credit:{next(_credits)}", reason="test",
                now=now_of(miniapp), settings=settings)


async def shopper(miniapp: MiniApp, settings: Settings,
                  points: int = 0) -> tuple[MemberClient, int]:
    """A new member logged in, holding `points`: their client and id."""
    client, member = await miniapp.log_in(await miniapp.sandbox.miniapp_user())
    if points:
        await give_points(miniapp, settings, int(member["id"]), points)
    return client, int(member["id"])


async def redeem(client: MemberClient, item_id: int, key: str | None = None,
                 **body: Any) -> Reply:
    """POST /mall/redeem for `item_id` (a fresh key unless `key` is given)."""
    return await client.post("/mall/redeem", {"item_id": item_id, **body},
                             headers={"Idempotency-Key": key or uuid.uuid4().hex})


async def stock(item_id: int) -> int:
    return int((await MallItem.get(id=item_id)).stock)


async def state(member_id: int, item_id: int) -> tuple[int, int, int]:
    """The member's balance, the item's stock and the member's order count."""
    return (await balance(member_id), await stock(item_id),
            await MallOrder.filter(member_id=member_id).count())


async def test_the_shelf_shows_what_is_on_sale_and_why_not(
    miniapp: MiniApp, settings: Settings
) -> None:
    now = now_of(miniapp)
    client, _ = await shopper(miniapp, settings, 300)
    cheap = await new_item(settings, title="便签", points_price=100, sort_order=1)
    gold = await new_item(settings, title="金卡礼", levels=[3, 4], sort_order=2)
    dear = await new_item(settings, title="咖啡机", points_price=5000, sort_order=3)
    gone = await new_item(settings, title="雨伞", stock=0, sort_order=4)
    once = await new_item(settings, title="帆布袋", points_price=10, per_member_limit=1,
                          sort_order=5)
    coupon = await new_item(settings, title="满减券", kind=ItemKind.COUPON, stock=0,
                            sort_order=6)
    hidden = [await new_item(settings, title="下架", on_shelf=False),
              await new_item(settings, title="未开售", shelf_from=now + DAY),
              await new_item(settings, title="已结束", shelf_until=now - DAY),
              await new_item(settings, title="删除")]
    await delete_item(hidden[-1].id, now=now)
    assert (await redeem(client, once.id, address=ADDRESS)).status == 201

    reply = await client.get("/mall/items")
    assert reply.status == 200, reply.body
    shelf = reply.json()
    assert shelf["total"] == 6
    assert [i["id"] for i in shelf["items"]] == [
        cheap.id, gold.id, dear.id, gone.id, once.id, coupon.id]
    reasons = {i["id"]: [r["code"] for r in i["reasons"]] for i in shelf["items"]}
    assert reasons == {cheap.id: [], gold.id: ["level_too_low"],
                       dear.id: ["insufficient_points"], gone.id: ["out_of_stock"],
                       once.id: ["limit_reached"], coupon.id: ["out_of_stock"]}
    offers = {i["id"]: i for i in shelf["items"]}
    assert [offers[i.id]["redeemable"] for i in (cheap, gold)] == [True, False]
    assert (offers[once.id]["held"], offers[cheap.id]["held"]) == (1, 0)
    assert offers[cheap.id]["title"] == "便签" and offers[cheap.id]["points_price"] == 100

    page = (await client.get("/mall/items?limit=2&offset=2")).json()
    assert (page["total"], [i["id"] for i in page["items"]]) == (6, [dear.id, gone.id])
    coupons = (await client.get("/mall/items?kind=coupon")).json()
    assert [i["id"] for i in coupons["items"]] == [coupon.id]
    bad = await client.get("/mall/items?kind=food")
    assert (bad.status, bad.error["field"]) == (400, "kind")


async def test_an_item_off_the_shelf_is_shown_with_why(
    miniapp: MiniApp, settings: Settings
) -> None:
    now = now_of(miniapp)
    client, _ = await shopper(miniapp, settings, 1000)
    over = await new_item(settings, shelf_until=now - DAY)
    reply = await client.get(f"/mall/items/{over.id}")
    assert reply.status == 200, reply.body
    offer = reply.json()
    assert (offer["id"], offer["redeemable"]) == (over.id, False)
    assert [r["code"] for r in offer["reasons"]] == ["off_shelf"]
    on_sale = (await client.get(f"/mall/items/{(await new_item(settings)).id}")).json()
    assert (on_sale["redeemable"], on_sale["reasons"]) == (True, [])

    deleted = await new_item(settings)
    await delete_item(deleted.id, now=now)
    for path in (f"/mall/items/{deleted.id}", "/mall/items/999999",
                 "/mall/items/99999999999999999999999"):
        reply = await client.get(path)
        assert (reply.status, reply.error["code"]) == (404, "not_found"), path


async def test_a_redemption_answers_the_order(miniapp: MiniApp, settings: Settings) -> None:
    client, member_id = await shopper(miniapp, settings, 500)
    item = await new_item(settings, title="保温杯", points_price=120, stock=10)
    reply = await redeem(client, item.id, quantity=2, address=ADDRESS)
    assert reply.status == 201, reply.body
    assert "Idempotent-Replayed" not in reply.headers
    order = reply.json()["order"]
    assert (order["status"], order["quantity"], order["points"]) == ("created", 2, 240)
    assert order["item"] == {"id": item.id, "title": "保温杯", "kind": "physical"}
    assert order["address"] == read_address(ADDRESS).as_json()
    assert await state(member_id, item.id) == (260, 8, 1)
    assert (await client.get("/me/points")).json()["balance"] == 260

    listed = (await client.get("/mall/orders")).json()
    assert (listed["total"], listed["items"]) == (1, [order])
    assert (await client.get(f"/mall/orders/{order['id']}")).json() == {"order": order}


async def test_each_refusal_changes_nothing(miniapp: MiniApp, settings: Settings) -> None:
    client, member_id = await shopper(miniapp, settings, 150)
    ok = await new_item(settings, points_price=100, per_member_limit=1)
    max_quantity = settings.mall.max_quantity
    refused: list[tuple[MallItem, dict[str, Any], int, str, str | None]] = [
        (await new_item(settings, points_price=200), {}, 409, "insufficient_points", None),
        (await new_item(settings, stock=0), {}, 409, "out_of_stock", None),
        (ok, {"quantity": 2}, 409, "limit_reached", None),
        (await new_item(settings, levels=[2]), {}, 409, "level_too_low", None),
        (await new_item(settings, on_shelf=False), {}, 409, "off_shelf", None),
        (ok, {"address": None}, 400, "address_required", "address"),
        (ok, {"quantity": 0}, 400, "invalid_input", "quantity"),
        (ok, {"quantity": max_quantity + 1}, 400, "invalid_input", "quantity"),
        (ok, {"quantity": "1"}, 400, "invalid_input", "quantity"),
        (ok, {"colour": "red"}, 400, "invalid_input", "colour"),
        (ok, {"address": {**ADDRESS, "phone": "call me"}}, 400, "invalid_input",
         "address.phone"),
        (ok, {"address": "上海"}, 400, "invalid_input", "address"),
    ]
    for item, body, status, code, field in refused:
        before = await state(member_id, item.id)
        reply = await redeem(client, item.id, **{"address": ADDRESS, **body})
        assert (reply.status, reply.error["code"]) == (status, code), (code, reply.body)
        assert reply.error.get("field") == field, reply.body
        assert await state(member_id, item.id) == before, code
    reply = await client.post("/mall/redeem", {"quantity": 1},
                              headers={"Idempotency-Key": "k"})
    assert (reply.status, reply.error["field"]) == (400, "item_id")
    unknown = await redeem(client, 999999, address=ADDRESS)
    assert (unknown.status, unknown.error["code"]) == (404, "not_found")
    assert await MallOrder.all().count() == 0


async def test_the_idempotency_key_is_required_and_checked(
    miniapp: MiniApp, settings: Settings
) -> None:
    client, member_id = await shopper(miniapp, settings, 500)
    item = await new_item(settings)
    body = {"item_id": item.id, "address": ADDRESS}
    for headers in ({}, {"Idempotency-Key": ""}, {"Idempotency-Key": "k" * 129},
                    {"Idempotency-Key": "tab\there"}):
        reply = await client.post("/mall/redeem", body, headers=headers)
        assert (reply.status, reply.error["code"], reply.error["field"]) == (
            400, "invalid_input", "Idempotency-Key"), headers
    assert await state(member_id, item.id) == (500, 10, 0)
    longest = await client.post("/mall/redeem", body, headers={"Idempotency-Key": "k" * 128})
    assert longest.status == 201, longest.body


async def test_a_retry_with_the_same_key_answers_the_same_order(
    miniapp: MiniApp, settings: Settings
) -> None:
    client, member_id = await shopper(miniapp, settings, 500)
    item = await new_item(settings, points_price=100)
    other = await new_item(settings, points_price=100)
    first = await redeem(client, item.id, "order-1", address=ADDRESS)
    again = await redeem(client, item.id, "order-1", address=ADDRESS)
    assert (first.status, again.status) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert await state(member_id, item.id) == (400, 9, 1)

    for reused in (await redeem(client, other.id, "order-1", address=ADDRESS),
                   await redeem(client, item.id, "order-1", quantity=2, address=ADDRESS)):
        assert (reused.status, reused.error["code"]) == (409, "idempotency_key_reused")
    assert await state(member_id, other.id) == (400, 10, 1)


async def test_twenty_double_submits_make_one_order(
    miniapp: MiniApp, settings: Settings
) -> None:
    client, member_id = await shopper(miniapp, settings, 1000)
    item = await new_item(settings, points_price=100)
    replies = await asyncio.gather(*(redeem(client, item.id, "tap", address=ADDRESS)
                                     for _ in range(20)))
    assert Counter(r.status for r in replies) == {201: 20}
    assert Counter(r.headers.get("Idempotent-Replayed") for r in replies) == {
        None: 1, "true": 19}
    assert len({r.json()["order"]["id"] for r in replies}) == 1
    assert await state(member_id, item.id) == (900, 9, 1)


async def test_twenty_orders_at_once_stop_at_the_per_member_limit(
    miniapp: MiniApp, settings: Settings
) -> None:
    client, member_id = await shopper(miniapp, settings, 10_000)
    item = await new_item(settings, points_price=100, per_member_limit=2)
    replies = await asyncio.gather(*(redeem(client, item.id, address=ADDRESS)
                                     for _ in range(20)))
    assert Counter(r.status for r in replies) == {201: 2, 409: 18}
    assert {r.error["code"] for r in replies if r.status == 409} == {"limit_reached"}
    assert await state(member_id, item.id) == (9800, 8, 2)


async def test_thirty_members_racing_for_the_last_five_units(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    crowd = dataclasses.replace(settings, members=dataclasses.replace(
        settings.members, login_per_minute=100))
    async with miniapp_client(crowd, sandbox) as miniapp:
        item = await new_item(settings, points_price=100, stock=5)
        members = [await shopper(miniapp, settings, 100) for _ in range(30)]
        replies = await asyncio.gather(*(redeem(client, item.id, address=ADDRESS)
                                         for client, _ in members))
        assert Counter(r.status for r in replies) == {201: 5, 409: 25}
        assert {r.error["code"] for r in replies if r.status == 409} == {"out_of_stock"}
        assert await stock(item.id) == 0
        assert await MallOrder.filter(item_id=item.id).count() == 5
        balances = Counter([await balance(member_id) for _, member_id in members])
        assert balances == {0: 5, 100: 25}


async def test_a_coupon_order_carries_its_codes(miniapp: MiniApp, settings: Settings) -> None:
    client, member_id = await shopper(miniapp, settings, 500)
    item = await new_item(settings, kind=ItemKind.COUPON, stock=0, points_price=50)
    await add_codes(item.id, clean_codes(["C-1", "C-2", "C-3"]), operator="admin:test",
                    now=now_of(miniapp))
    reply = await redeem(client, item.id, quantity=2)
    assert reply.status == 201, reply.body
    order = reply.json()["order"]
    assert (order["status"], order["coupon_codes"], order["address"]) == (
        "completed", ["C-1", "C-2"], None)
    assert await state(member_id, item.id) == (400, 1, 1)
    short = await redeem(client, item.id, quantity=2)
    assert (short.status, short.error["code"]) == (409, "out_of_stock")


async def test_a_benefit_is_listed_while_it_is_valid(
    miniapp: MiniApp, settings: Settings
) -> None:
    client, member_id = await shopper(miniapp, settings, 500)
    week = await new_item(settings, kind=ItemKind.BENEFIT, stock=5, points_price=100,
                          title="免邮周卡", benefit_code="free_shipping", benefit_days=7)
    lasting = await new_item(settings, kind=ItemKind.BENEFIT, stock=5, points_price=100,
                             title="专属客服", benefit_code="vip_service")
    assert (await client.get("/me/benefits")).json() == {"items": []}
    orders = []
    for item in (week, lasting):
        reply = await redeem(client, item.id)
        assert reply.status == 201, reply.body
        orders.append(reply.json()["order"])
    assert [o["status"] for o in orders] == ["completed", "completed"]
    benefits = (await client.get("/me/benefits")).json()["items"]
    assert [(b["code"], b["title"], b["order_id"]) for b in benefits] == [
        ("free_shipping", "免邮周卡", orders[0]["id"]),
        ("vip_service", "专属客服", orders[1]["id"])]
    assert benefits[1]["valid_until"] is None
    assert orders[0]["benefit"] == benefits[0]

    assert miniapp.clock is not None
    miniapp.clock.advance(8 * DAY.total_seconds())
    still = (await client.get("/me/benefits")).json()["items"]
    assert [b["code"] for b in still] == ["vip_service"]
    assert await MemberBenefit.filter(member_id=member_id).count() == 2


async def test_ten_cancels_at_once_refund_once(miniapp: MiniApp, settings: Settings) -> None:
    client, member_id = await shopper(miniapp, settings, 500)
    item = await new_item(settings, points_price=100, stock=10)
    order = (await redeem(client, item.id, quantity=3, address=ADDRESS)).json()["order"]
    assert await state(member_id, item.id) == (200, 7, 1)

    replies = await asyncio.gather(*(
        client.post(f"/mall/orders/{order['id']}/cancel", {"reason": "买错了"})
        for _ in range(10)))
    assert Counter(r.status for r in replies) == {200: 10}
    cancelled = replies[0].json()["order"]
    assert (cancelled["status"], cancelled["cancelled_by"], cancelled["cancel_reason"]) == (
        "cancelled", "member", "买错了")
    assert all(r.json() == replies[0].json() for r in replies)
    assert await state(member_id, item.id) == (500, 10, 1)
    bare = await client.post(f"/mall/orders/{order['id']}/cancel")
    assert (bare.status, bare.json()["order"]["status"]) == (200, "cancelled")
    assert await state(member_id, item.id) == (500, 10, 1)


async def test_a_shipped_order_is_confirmed_not_cancelled(
    miniapp: MiniApp, settings: Settings
) -> None:
    client, member_id = await shopper(miniapp, settings, 500)
    item = await new_item(settings, points_price=100)
    order_id = (await redeem(client, item.id, address=ADDRESS)).json()["order"]["id"]
    early = await client.post(f"/mall/orders/{order_id}/confirm")
    assert (early.status, early.error["code"], early.error["status"]) == (
        409, "wrong_status", "created")
    long_reason = await client.post(f"/mall/orders/{order_id}/cancel", {"reason": "x" * 256})
    assert (long_reason.status, long_reason.error["field"]) == (400, "reason")

    await ship_order(order_id, carrier="顺丰", tracking_number="SF1234567890",
                     now=now_of(miniapp))
    late = await client.post(f"/mall/orders/{order_id}/cancel", {"reason": "不要了"})
    assert (late.status, late.error["code"], late.error["status"]) == (
        409, "wrong_status", "shipped")
    assert await state(member_id, item.id) == (400, 9, 1)

    confirmed = await client.post(f"/mall/orders/{order_id}/confirm")
    assert confirmed.status == 200, confirmed.body
    order = confirmed.json()["order"]
    assert (order["status"], order["carrier"], order["tracking_number"]) == (
        "completed", "顺丰", "SF1234567890")
    assert order["completed_at"] is not None
    again = await client.post(f"/mall/orders/{order_id}/confirm")
    assert (again.status, again.json()) == (200, confirmed.json())
    after = await client.post(f"/mall/orders/{order_id}/cancel")
    assert (after.status, after.error["status"]) == (409, "completed")


async def test_orders_stay_their_members(miniapp: MiniApp, settings: Settings) -> None:
    alice, alice_id = await shopper(miniapp, settings, 500)
    bob, _ = await shopper(miniapp, settings, 500)
    item = await new_item(settings, points_price=100)
    coupon = await new_item(settings, kind=ItemKind.COUPON, stock=0, points_price=100)
    await add_codes(coupon.id, clean_codes(["X-1"]), operator="admin:test",
                    now=now_of(miniapp))
    mine = (await redeem(alice, item.id, address=ADDRESS)).json()["order"]
    second = (await redeem(alice, coupon.id)).json()["order"]
    for method, path in (("GET", f"/mall/orders/{mine['id']}"),
                         ("POST", f"/mall/orders/{mine['id']}/cancel"),
                         ("POST", f"/mall/orders/{mine['id']}/confirm"),
                         ("GET", "/mall/orders/99999999999999999999")):
        reply = await bob.request(method, path)
        assert (reply.status, reply.error["code"]) == (404, "not_found"), path
    assert (await bob.get("/mall/orders")).json()["total"] == 0
    # The same key from another member is their own redemption.
    assert (await redeem(bob, item.id, "shared", address=ADDRESS)).status == 201
    assert (await redeem(alice, item.id, "shared", address=ADDRESS)).status == 201

    listed = (await alice.get("/mall/orders")).json()
    assert [o["id"] for o in listed["items"]][1:] == [second["id"], mine["id"]]
    completed = (await alice.get("/mall/orders?status=completed")).json()
    assert [o["id"] for o in completed["items"]] == [second["id"]]
    bad = await alice.get("/mall/orders?status=lost")
    assert (bad.status, bad.error["field"]) == (400, "status")
    assert (await MallOrder.get(id=mine["id"])).status.value == "created"
    assert await balance(alice_id) == 200


async def test_mall_routes_need_a_session(miniapp: MiniApp) -> None:
    for method, path in ROUTES:
        reply = await miniapp.api.request(method, path)
        assert (reply.status, reply.error["code"]) == (401, "unauthorized"), path
    assert await MallOrder.all().count() == 0
