"""The points mall's domain: redemptions that never oversell (many members racing for
the last units), one order per Idempotency-Key (a member double-submitting), per-member
limits under concurrency, coupon codes and benefits, cancellation racing shipment,
refunds once, automatic completion, and what merges and erasure do to orders; the
transaction deciding on the item and the member as they are when it sells, whatever
changed since they were read. After every test the invariants are checked
(`mall_invariants`, tests/handlers/mall_world.py), and a test shows that check fails
on what breaks them."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from bot.runtime import open_runtime
from bot.settings import Settings
from handlers.ledger import award, deduct
from handlers.levels import apply_level
from handlers.mall_address import read_address
from handlers.mall_items import delete_item, update_item
from handlers.mall_orders import (
    WrongStatus,
    cancel_order,
    complete_due_orders,
    complete_order,
    ship_order,
)
from handlers.mall_redeem import KeyReused, Redemption, place_order, redeem
from handlers.mall_rules import RedeemRefused
from handlers.mall_stock import KeyReused as StockKeyReused
from handlers.mall_stock import NotEnoughStock, add_codes, adjust_stock, clean_codes
from handlers.member_merge import merge_members
from handlers.member_privacy import erase_member, export_member
from models.mall import (
    CouponCode,
    ItemKind,
    MallItem,
    MallOrder,
    MemberBenefit,
    OrderState,
    StockMovement,
)
from models.members import Member
from models.points import PointsEntry
from tests.handlers.mall_world import (  # noqa: F401  (mall_invariants: autouse fixture)
    ADDRESS,
    assert_mall_consistent,
    mall_invariants,
    new_item,
    rich_member,
)
from tests.handlers.points_world import T0, balance

DAY = timedelta(days=1)
HOME = read_address(ADDRESS)


async def outcome(redemption: Awaitable[tuple[MallOrder, bool]]) -> str:
    """"ok", "replayed" or the refusal's code."""
    try:
        _, new = await redemption
    except RedeemRefused as refused:
        return refused.code
    return "ok" if new else "replayed"


async def attempt(settings: Settings, member_id: int, item_id: int, key: str,
                  quantity: int = 1, now: datetime = T0) -> str:
    """Redeem as the member (read now); "ok", "replayed" or the refusal's code."""
    member = await Member.get(id=member_id)
    return await outcome(redeem(member, Redemption(item_id, quantity, key, HOME), settings,
                                now))


async def state(member_id: int, item_id: int) -> tuple[int, int, int, int, int]:
    """The member's balance and ledger entries, the item's stock and stock movements,
    and the orders of the item."""
    return (await balance(member_id), await PointsEntry.filter(member_id=member_id).count(),
            (await MallItem.get(id=item_id)).stock,
            await StockMovement.filter(item_id=item_id).count(),
            await MallOrder.filter(item_id=item_id).count())


async def test_members_racing_for_the_last_units_never_oversell(settings: Settings) -> None:
    async with open_runtime(settings):
        item = await new_item(settings, stock=5)
        members = [await rich_member(settings, 300) for _ in range(40)]
        results = await asyncio.gather(*(attempt(settings, m, item.id, f"race-{m}")
                                         for m in members))
        assert Counter(results) == {"ok": 5, "out_of_stock": 35}
        assert (await MallItem.get(id=item.id)).stock == 0
        winners = {o.member_id for o in await MallOrder.all()}
        assert len(winners) == 5
        for member_id in members:
            assert await balance(member_id) == (200 if member_id in winners else 300)


async def test_a_double_submit_makes_one_order_and_debits_once(settings: Settings) -> None:
    async with open_runtime(settings):
        item = await new_item(settings, stock=10, points_price=50)
        member_id = await rich_member(settings, 500)
        results = await asyncio.gather(*(attempt(settings, member_id, item.id, "tap-1")
                                         for _ in range(20)))
        assert Counter(results) == {"ok": 1, "replayed": 19}
        assert await MallOrder.filter(member_id=member_id).count() == 1
        assert await balance(member_id) == 450
        assert (await MallItem.get(id=item.id)).stock == 9
        # The key names that request: another item or quantity under it is refused.
        other = await new_item(settings, stock=10)
        member = await Member.get(id=member_id)
        for ask in (Redemption(other.id, 1, "tap-1", HOME), Redemption(item.id, 2, "tap-1", HOME)):
            with pytest.raises(KeyReused):
                await redeem(member, ask, settings, T0)
        assert await MallOrder.filter(member_id=member_id).count() == 1


async def test_limits_hold_when_one_member_sends_many_at_once(settings: Settings) -> None:
    async with open_runtime(settings):
        item = await new_item(settings, stock=50, points_price=10, per_member_limit=3,
                              per_member_daily_limit=2)
        member_id = await rich_member(settings, 1000)
        results = await asyncio.gather(*(attempt(settings, member_id, item.id, f"a{i}")
                                         for i in range(12)))
        assert Counter(results) == {"ok": 2, "limit_reached": 10}
        # The next day the daily limit allows 2 more, but the total limit only 1.
        tomorrow = T0 + DAY
        results = await asyncio.gather(*(attempt(settings, member_id, item.id, f"b{i}",
                                                 now=tomorrow) for i in range(6)))
        assert Counter(results) == {"ok": 1, "limit_reached": 5}
        # A cancelled order gives its unit back to the limit.
        first = await MallOrder.filter(member_id=member_id).order_by("id").first()
        assert first is not None
        await cancel_order(first.id, by="member", reason="", now=tomorrow, settings=settings,
                           member_id=member_id)
        assert await attempt(settings, member_id, item.id, "c1", now=tomorrow + DAY) == "ok"
        assert await MallOrder.filter(member_id=member_id).exclude(
            status=OrderState.CANCELLED).count() == 3


async def test_points_run_out_before_stock_and_nothing_else_changes(settings: Settings) -> None:
    async with open_runtime(settings):
        item = await new_item(settings, stock=20, points_price=100)
        member_id = await rich_member(settings, 250)
        results = await asyncio.gather(*(attempt(settings, member_id, item.id, f"p{i}")
                                         for i in range(6)))
        assert Counter(results) == {"ok": 2, "insufficient_points": 4}
        assert await balance(member_id) == 50
        assert (await MallItem.get(id=item.id)).stock == 18
        assert await attempt(settings, member_id, item.id, "big", quantity=1) == (
            "insufficient_points")
        assert await MallOrder.filter(member_id=member_id).count() == 2


async def test_shelf_window_level_and_address_are_checked(settings: Settings) -> None:
    async with open_runtime(settings):
        later = await new_item(settings, shelf_from=T0 + DAY)
        gold = await new_item(settings, levels=[3, 4, 5])
        member_id = await rich_member(settings, 1000)
        assert await attempt(settings, member_id, later.id, "w1") == "off_shelf"
        assert await attempt(settings, member_id, later.id, "w2", now=T0 + 2 * DAY) == "ok"
        assert await attempt(settings, member_id, gold.id, "g1") == "level_too_low"
        await update_item(gold.id, {"on_shelf": False}, level_count=5, now=T0)
        assert await attempt(settings, member_id, gold.id, "g2") == "off_shelf"
        member = await Member.get(id=member_id)
        with pytest.raises(RedeemRefused) as refused:
            await redeem(member, Redemption(later.id, 1, "no-address"), settings, T0 + 2 * DAY)
        assert refused.value.code == "address_required"
        assert await MallOrder.filter(member_id=member_id).count() == 1


async def test_what_changed_since_the_item_was_read_decides_the_sale(
        settings: Settings) -> None:
    """The transaction, not the early checks on the item as the request read it,
    decides: an operator's change or a sale in between counts, and a refusal changes
    nothing (the read item goes straight to the transaction, as a request's does when
    the change lands between its read and its transaction)."""
    async with open_runtime(settings):
        member_id = await rich_member(settings, 1000, level=3)
        rival = await rich_member(settings, 1000)

        def change(**changes: Any) -> Callable[[int], Awaitable[object]]:
            return lambda item_id: update_item(item_id, changes, level_count=5, now=T0)

        async def sold_out(item_id: int) -> None:
            assert await attempt(settings, rival, item_id, f"rival-{item_id}") == "ok"

        async def sold_out_and_off(item_id: int) -> None:
            await sold_out(item_id)
            await change(on_shelf=False)(item_id)

        async def deleted(item_id: int) -> None:
            await delete_item(item_id, now=T0)

        cases: list[tuple[str, dict[str, Any], Callable[[int], Awaitable[object]], str]] = [
            ("switched off", {}, change(on_shelf=False), "off_shelf"),
            ("window closed", {}, change(shelf_until=T0), "off_shelf"),
            ("window moved later", {}, change(shelf_from=T0 + DAY), "off_shelf"),
            ("deleted", {}, deleted, "off_shelf"),
            ("price lowered", {}, change(points_price=60), "price_changed"),
            ("levels narrowed", {"levels": [3]}, change(levels=[4, 5]), "level_too_low"),
            ("limit lowered", {"per_member_limit": 2}, change(per_member_limit=1),
             "limit_reached"),
            ("daily limit set", {}, change(per_member_daily_limit=1), "limit_reached"),
            ("last units sold", {"stock": 2}, sold_out, "out_of_stock"),
            ("sold and switched off", {"stock": 2}, sold_out_and_off, "off_shelf"),
            ("levels widened", {"levels": [3]}, change(levels=[2, 3]), "ok"),
            ("retitled", {}, change(title="新保温杯"), "ok"),
        ]
        for name, fields, meanwhile, code in cases:
            item = await new_item(settings, **fields)  # 100 points a unit
            await meanwhile(item.id)
            before = await state(member_id, item.id)
            ask = Redemption(item.id, 2, f"late-{item.id}", HOME)
            assert await outcome(place_order(member_id, item, ask, settings, T0)) == code, name
            points, entries, stock, moves, orders = before
            assert await state(member_id, item.id) == (
                (points - 200, entries + 1, stock - 2, moves + 1, orders + 1) if code == "ok"
                else before), name


async def test_a_price_raised_meanwhile_is_not_sold_at_the_old_price(
        settings: Settings) -> None:
    async with open_runtime(settings):
        member_id = await rich_member(settings, 1000)
        read = await new_item(settings, points_price=100)
        await update_item(read.id, {"points_price": 150}, level_count=5, now=T0)
        before = await state(member_id, read.id)
        ask = Redemption(read.id, 1, "tapped-at-100", HOME)
        with pytest.raises(RedeemRefused) as refused:
            await place_order(member_id, read, ask, settings, T0)
        assert (refused.value.code, refused.value.message) == (
            "price_changed", "the price changed to 150 points: look again")
        assert await state(member_id, read.id) == before
        # The shelf shows the new price; the next tap buys at it.
        assert await attempt(settings, member_id, read.id, "tapped-at-150") == "ok"
        assert (await MallOrder.get(idempotency_key="tapped-at-150")).points == 150
        assert await balance(member_id) == 850


async def test_a_member_whose_level_fell_meanwhile_is_refused(settings: Settings) -> None:
    async with open_runtime(settings):
        member_id = await rich_member(settings, 1000, level=3)
        item = await new_item(settings, levels=[3, 4, 5])
        read = await Member.get(id=member_id)  # as the request read them: V3
        await apply_level(member_id, settings, T0)  # no growth: back to V1
        assert (await Member.get(id=member_id)).level == 1
        before = await state(member_id, item.id)
        ask = Redemption(item.id, 1, "as-v3", HOME)
        assert await outcome(redeem(read, ask, settings, T0)) == "level_too_low"
        assert await state(member_id, item.id) == before


class _Undo(Exception):
    """Rolls back what a test planted."""


async def test_the_invariant_check_catches_what_breaks_them(settings: Settings) -> None:
    """Each breach, planted in a transaction that is then rolled back, fails the check
    that runs after every mall test."""
    async with open_runtime(settings):
        member_id = await rich_member(settings, 1000)
        item = await new_item(settings, points_price=100)
        assert await attempt(settings, member_id, item.id, "kept") == "ok"
        order = await MallOrder.get(idempotency_key="kept")

        async def debit_without_order() -> None:
            await deduct(member_id, 100, key=f"mall:{order.id + 1}", reason="", now=T0)

        async def refund_of_a_live_order() -> None:
            await award(member_id, 100, key=f"mall-refund:{order.id}", reason="", now=T0,
                        settings=settings)

        async def cancelled_without_refund() -> None:
            await MallOrder.filter(id=order.id).update(status=OrderState.CANCELLED)

        async def points_not_what_was_debited() -> None:
            await MallOrder.filter(id=order.id).update(points=order.points + 1)

        async def order_without_debit() -> None:
            await MallOrder.create(**{
                **{f: getattr(order, f) for f in MallOrder._meta.db_fields if f != "id"},
                "idempotency_key": "undebited"})

        for breach in (debit_without_order, refund_of_a_live_order, cancelled_without_refund,
                       points_not_what_was_debited, order_without_debit):
            with pytest.raises(_Undo):
                async with in_transaction():
                    await breach()
                    with pytest.raises(AssertionError):
                        await assert_mall_consistent()
                    raise _Undo
        await assert_mall_consistent()  # the breaches were all rolled back


async def test_coupon_orders_take_one_code_per_unit(settings: Settings) -> None:
    async with open_runtime(settings):
        item = await new_item(settings, kind=ItemKind.COUPON, stock=0, points_price=20)
        upload = await add_codes(item.id, clean_codes([" C1 ", "C2", "C2", "", "C3", "C4"]),
                                 operator="admin:test", now=T0)
        assert (upload.added, upload.duplicates, upload.stock) == (4, 0, 4)
        again = await add_codes(item.id, clean_codes(["C4", "C5"]), operator="admin:test",
                                now=T0)
        assert (again.added, again.duplicates, again.stock) == (1, 1, 5)
        members = [await rich_member(settings, 100) for _ in range(8)]
        results = await asyncio.gather(*(attempt(settings, m, item.id, f"k{m}", quantity=2)
                                         for m in members))
        assert Counter(results) == {"ok": 2, "out_of_stock": 6}
        orders = await MallOrder.all()
        assert {o.status for o in orders} == {OrderState.COMPLETED}
        taken = [c.code for c in await CouponCode.exclude(order_id=None)]
        assert len(taken) == len(set(taken)) == 4
        assert await CouponCode.filter(order_id=None).count() == 1
        with pytest.raises(WrongStatus):  # a code shown cannot be taken back
            await cancel_order(orders[0].id, by="admin:test", reason="", now=T0,
                               settings=settings)


async def test_a_benefit_is_granted_for_its_days_times_quantity(settings: Settings) -> None:
    async with open_runtime(settings):
        item = await new_item(settings, kind=ItemKind.BENEFIT, benefit_code="free_shipping",
                              benefit_days=30)
        member_id = await rich_member(settings, 500)
        assert await attempt(settings, member_id, item.id, "b", quantity=2) == "ok"
        benefit = await MemberBenefit.get(member_id=member_id)
        assert benefit.code == "free_shipping"
        assert benefit.valid_until == T0 + 60 * DAY


async def test_cancel_racing_ship_lets_exactly_one_win(settings: Settings) -> None:
    async with open_runtime(settings):
        item = await new_item(settings, stock=30, points_price=10)
        member_id = await rich_member(settings, 1000)
        outcomes: Counter[str] = Counter()
        for round_ in range(15):
            assert await attempt(settings, member_id, item.id, f"r{round_}") == "ok"
            order = await MallOrder.get(member_id=member_id, idempotency_key=f"r{round_}")
            ship, cancel = await asyncio.gather(
                ship_order(order.id, carrier="SF", tracking_number=f"SF{round_}", now=T0),
                cancel_order(order.id, by="member", reason="changed my mind", now=T0,
                             settings=settings, member_id=member_id),
                return_exceptions=True)
            if isinstance(cancel, WrongStatus):
                assert not isinstance(ship, BaseException)
                assert ship.status is OrderState.SHIPPED
                outcomes["shipped"] += 1
            else:
                assert isinstance(ship, WrongStatus), ship
                assert not isinstance(cancel, BaseException) and cancel[1]
                outcomes["cancelled"] += 1
            final = await MallOrder.get(id=order.id)
            assert final.status in (OrderState.SHIPPED, OrderState.CANCELLED)
        assert sum(outcomes.values()) == 15
        shipped = await MallOrder.filter(status=OrderState.SHIPPED).count()
        assert await balance(member_id) == 1000 - 10 * shipped
        assert (await MallItem.get(id=item.id)).stock == 30 - shipped


async def test_a_cancellation_refunds_once_however_many_arrive(settings: Settings) -> None:
    async with open_runtime(settings):
        item = await new_item(settings, stock=3, points_price=40)
        member_id = await rich_member(settings, 100)
        assert await attempt(settings, member_id, item.id, "x", quantity=2) == "ok"
        order = await MallOrder.get(member_id=member_id)
        results = await asyncio.gather(*(cancel_order(
            order.id, by="admin:ops", reason="out of season", now=T0, settings=settings)
            for _ in range(10)))
        assert [changed for _, changed in results].count(True) == 1
        assert await balance(member_id) == 100
        assert (await MallItem.get(id=item.id)).stock == 3
        assert await StockMovement.filter(item_id=item.id, key=f"cancel:{order.id}").count() == 1
        with pytest.raises(WrongStatus):
            await ship_order(order.id, carrier="SF", tracking_number="1", now=T0)


async def test_shipped_orders_complete_when_confirmed_or_after_the_days(
        settings: Settings) -> None:
    async with open_runtime(settings):
        item = await new_item(settings, stock=5, points_price=10)
        member_id = await rich_member(settings, 100)
        for key in ("one", "two"):
            assert await attempt(settings, member_id, item.id, key) == "ok"
        one, two = await MallOrder.filter(member_id=member_id).order_by("id")
        with pytest.raises(WrongStatus):  # not shipped yet
            await complete_order(one.id, now=T0, member_id=member_id)
        for order in (one, two):
            await ship_order(order.id, carrier="SF", tracking_number=f"T{order.id}", now=T0)
        done = await complete_order(one.id, now=T0 + DAY, member_id=member_id)
        assert done.status is OrderState.COMPLETED
        assert (await complete_order(one.id, now=T0 + DAY, member_id=member_id)).completed_at \
            == T0 + DAY
        days = settings.mall.auto_complete_days
        assert await complete_due_orders(settings, T0 + (days - 1) * DAY) == 0
        assert await complete_due_orders(settings, T0 + days * DAY) == 1
        assert (await MallOrder.get(id=two.id)).status is OrderState.COMPLETED
        with pytest.raises(WrongStatus):  # received: too late to cancel
            await cancel_order(two.id, by="admin:ops", reason="", now=T0, settings=settings)


async def test_operator_stock_adjustments_are_audited_and_never_go_below_zero(
        settings: Settings) -> None:
    async with open_runtime(settings):
        item = await new_item(settings, stock=4)
        first, new = await adjust_stock(item.id, 6, key="recount", reason="recount",
                                        operator="admin:a", now=T0)
        assert new and first.stock_after == 10
        again, new = await adjust_stock(item.id, 6, key="recount", reason="recount",
                                        operator="admin:a", now=T0)
        assert not new and again.id == first.id
        racing = await asyncio.gather(*(adjust_stock(
            item.id, -1, key="breakage", reason="broken in the store", operator="admin:b",
            now=T0) for _ in range(10)))
        assert [new for _, new in racing].count(True) == 1
        assert {movement.id for movement, _ in racing} == {racing[0][0].id}
        with pytest.raises(StockKeyReused):
            await adjust_stock(item.id, 7, key="recount", reason="", operator="admin:a", now=T0)
        with pytest.raises(NotEnoughStock):
            await adjust_stock(item.id, -10, key="loss", reason="", operator="admin:a", now=T0)
        assert (await MallItem.get(id=item.id)).stock == 9
        moves = await StockMovement.filter(item_id=item.id).order_by("id")
        assert [(m.kind.value, m.delta, m.stock_after) for m in moves] == [
            ("initial", 4, 4), ("adjust", 6, 10), ("adjust", -1, 9)]


async def test_merge_moves_orders_and_erasure_blanks_addresses(settings: Settings) -> None:
    async with open_runtime(settings):
        item = await new_item(settings, stock=10, points_price=10, per_member_limit=2)
        older = await rich_member(settings, 100)
        newer = await rich_member(settings, 100)
        for member_id in (older, newer):  # both clients happened to send the same key
            assert await attempt(settings, member_id, item.id, "tap-1") == "ok"
        await merge_members(older, newer, reason="phone", settings=settings, now=T0)
        moved = await MallOrder.filter(member_id=older).order_by("id")
        assert [o.idempotency_key for o in moved] == ["tap-1", f"merged:{moved[1].id}"]
        assert await attempt(settings, older, item.id, "third") == "limit_reached"
        export = await export_member(await Member.get(id=older), settings)
        addresses = [row["address"] for row in export["records"]["mall_order"]]
        assert addresses == [ADDRESS | {"postal_code": ""}] * 2
        assert all("address_cipher" not in row for row in export["records"]["mall_order"])
        await erase_member(older, now=T0)
        assert await MallOrder.filter(address_cipher__not_isnull=True).count() == 0
