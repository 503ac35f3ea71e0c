"""A mall order after its redemption: shipped (carrier and tracking number), completed
(the member confirms receipt, an operator completes it, or mall.auto_complete_days
after shipping), or cancelled.

Every change of status is one conditional UPDATE of the order's row (`WHERE status IN
…`), so of a cancellation and a shipment at once exactly one wins, and the other is
refused with the status it found. A cancellation refunds the points through the
ledger (key `mall-refund:<id>`: the debit comes back as a fresh credit) and restores
the stock through the stock ledger (key `cancel:<id>`), in the transaction that
cancels, so both happen once and together. A member cancels an order that was not
shipped yet; an operator also one that was shipped (a returned or lost parcel). A
coupon or benefit order is completed at once: what it gave cannot be taken back.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from handlers.ledger import reverse, utc
from handlers.mall_address import MallInputError
from handlers.mall_stock import move_stock
from handlers.member_cache import announcing_transaction
from models.mall import MallOrder, OrderState, StockKind

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger("scrm.mall")

MAX_CARRIER_CHARS = 32
MAX_TRACKING_CHARS = 64
MAX_REASON_CHARS = 255
MEMBER = "member"

# Who may cancel an order in which status.
_CANCELLABLE = {MEMBER: (OrderState.CREATED,),
                "operator": (OrderState.CREATED, OrderState.SHIPPED)}


class UnknownOrder(LookupError):
    """No such order (or not the member's own)."""


class WrongStatus(Exception):
    """The order is not in a status that allows the change; nothing changed."""

    def __init__(self, order: MallOrder, wanted: str) -> None:
        super().__init__(f"order {order.id} is {order.status.value}: it cannot be {wanted}")
        self.order = order


async def order_of(order_id: int, member_id: int | None = None) -> MallOrder:
    """The order (the member's own when `member_id` is given)."""
    scope: dict[str, Any] = {"id": order_id}
    if member_id is not None:
        scope["member_id"] = member_id
    order = await MallOrder.get_or_none(**scope)
    if order is None:
        raise UnknownOrder(f"no order {order_id}")
    return order


async def _transition(order_id: int, member_id: int | None, allowed: tuple[OrderState, ...],
                      **changes: Any) -> MallOrder | None:
    """Set `changes` if the order is in an `allowed` status; the order after, or None
    when it was not (in the current transaction, if any)."""
    scope: dict[str, Any] = {"id": order_id, "status__in": list(allowed)}
    if member_id is not None:
        scope["member_id"] = member_id
    if await MallOrder.filter(**scope).update(**changes):
        return await order_of(order_id)
    return None


async def cancel_order(order_id: int, *, by: str, reason: str, now: datetime,
                       settings: Settings, member_id: int | None = None) -> tuple[MallOrder, bool]:
    """Cancel: (the order, whether this call cancelled it). `by` is "member" (then
    `member_id` must own it) or an operator's name. A second cancellation answers the
    cancelled order and changes nothing; WrongStatus when it is too late."""
    allowed = _CANCELLABLE[MEMBER if by == MEMBER else "operator"]
    async with announcing_transaction() as conn:
        order = await _transition(order_id, member_id, allowed,
                                  status=OrderState.CANCELLED, cancelled_at=utc(now),
                                  cancelled_by=by[:64], cancel_reason=reason[:MAX_REASON_CHARS])
        if order is not None:
            await reverse(f"mall:{order.id}", key=f"mall-refund:{order.id}", now=now,
                          reason=f"积分商城订单取消 {order.title} ×{order.quantity}",
                          settings=settings)
            await move_stock(conn, order.item_id, order.quantity, kind=StockKind.CANCEL,
                             key=f"cancel:{order.id}", now=now,
                             reason=f"order {order.id} cancelled by {by}")
    if order is not None:
        log.info("mall.cancelled order_id=%s by=%s points=%d quantity=%d", order.id, by,
                 order.points, order.quantity)
        return order, True
    found = await order_of(order_id, member_id)
    if found.status is OrderState.CANCELLED:
        return found, False
    raise WrongStatus(found, f"cancelled by {'the member' if by == MEMBER else 'an operator'}")


async def ship_order(order_id: int, *, carrier: str, tracking_number: str,
                     now: datetime) -> MallOrder:
    """Mark a created order shipped; on a shipped one, correct the carrier and tracking
    number (shipped_at stays)."""
    carrier, tracking_number = carrier.strip(), tracking_number.strip()
    if not 1 <= len(carrier) <= MAX_CARRIER_CHARS:
        raise MallInputError("carrier", f"must be 1-{MAX_CARRIER_CHARS} characters")
    if not 1 <= len(tracking_number) <= MAX_TRACKING_CHARS:
        raise MallInputError("tracking_number", f"must be 1-{MAX_TRACKING_CHARS} characters")
    tracked = {"carrier": carrier, "tracking_number": tracking_number}
    order = (await _transition(order_id, None, (OrderState.CREATED,),
                               status=OrderState.SHIPPED, shipped_at=utc(now), **tracked)
             or await _transition(order_id, None, (OrderState.SHIPPED,), **tracked))
    if order is None:
        raise WrongStatus(await order_of(order_id), "shipped")
    log.info("mall.shipped order_id=%s carrier=%s", order_id, carrier)
    return order


async def complete_order(order_id: int, *, now: datetime,
                         member_id: int | None = None) -> MallOrder:
    """The parcel arrived: a shipped order completes (a completed one is answered as it
    is, so a second tap changes nothing)."""
    order = await _transition(order_id, member_id, (OrderState.SHIPPED,),
                              status=OrderState.COMPLETED, completed_at=utc(now))
    if order is not None:
        log.info("mall.completed order_id=%s by=%s", order_id,
                 MEMBER if member_id is not None else "operator")
        return order
    found = await order_of(order_id, member_id)
    if found.status is OrderState.COMPLETED:
        return found
    raise WrongStatus(found, "completed")


async def complete_due_orders(settings: Settings, now: datetime) -> int:
    """Complete the orders shipped more than mall.auto_complete_days ago; how many."""
    due = utc(now) - timedelta(days=settings.mall.auto_complete_days)
    done = await MallOrder.filter(status=OrderState.SHIPPED, shipped_at__lte=due).update(
        status=OrderState.COMPLETED, completed_at=utc(now))
    if done:
        log.info("mall.auto_completed orders=%d", done)
    return int(done)
