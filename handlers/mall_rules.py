"""Who may redeem what: the reasons a member cannot redeem an item now, each with the
error code the API answers (`off_shelf`, `level_too_low`, `limit_reached`,
`out_of_stock`, `insufficient_points`; `address_required` is the redemption's own).

The same checks serve the item list (every reason that applies, so the mini-program
can say why a button is grey) and the redemption: before its transaction the first one
refuses it cheaply; inside it, `terms_refusals` decides again on the item's row as the
stock update holds it and on the member's row as the debit holds it, with the limits
counted again, so what an operator or a concurrent order changed meanwhile counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from handlers.mall_items import on_shelf
from models.mall import MallItem, MallOrder, OrderState
from models.members import Member
from models.upsert import id_list, placeholders

OFF_SHELF = "off_shelf"
LEVEL_TOO_LOW = "level_too_low"
LIMIT_REACHED = "limit_reached"
OUT_OF_STOCK = "out_of_stock"
INSUFFICIENT_POINTS = "insufficient_points"
ADDRESS_REQUIRED = "address_required"
# Added to the six: the price changed between reading the item and the sale.
PRICE_CHANGED = "price_changed"


class RedeemRefused(Exception):
    """A redemption refused for one of the codes above; nothing was changed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Taken:
    """Units of an item the member's orders that are not cancelled hold."""

    total: int = 0
    today: int = 0


async def units_taken(member_id: int, item_ids: Sequence[int], day: date) -> dict[int, Taken]:
    """Per item, the units the member holds in all and on `day` (one grouped query)."""
    if not item_ids:
        return {}
    conn = MallOrder._meta.db
    dialect = conn.capabilities.dialect
    where, params = id_list(dialect, 3, item_ids, column="item_id")
    m = placeholders(dialect, 0, 3)
    rows = await conn.execute_query_dict(
        f"SELECT item_id, SUM(quantity) AS total, "
        f"SUM(CASE WHEN day = {m[0]} THEN quantity ELSE 0 END) AS today "
        f'FROM "{MallOrder._meta.db_table}" WHERE member_id = {m[1]} AND status <> {m[2]} '
        f"AND {where} GROUP BY item_id",
        [MallOrder._meta.fields_map["day"].to_db_value(day, MallOrder), member_id,
         OrderState.CANCELLED.value, *params])
    return {int(r["item_id"]): Taken(int(r["total"]), int(r["today"])) for r in rows}


def limited(item: MallItem) -> bool:
    """Whether the item limits what one member may hold (else nothing needs counting)."""
    return item.per_member_limit is not None or item.per_member_daily_limit is not None


def limit_refusal(item: MallItem, taken: Taken, quantity: int) -> RedeemRefused | None:
    if item.per_member_limit is not None and taken.total + quantity > item.per_member_limit:
        return RedeemRefused(LIMIT_REACHED,
                             f"at most {item.per_member_limit} per member; you hold "
                             f"{taken.total}")
    if (item.per_member_daily_limit is not None
            and taken.today + quantity > item.per_member_daily_limit):
        return RedeemRefused(LIMIT_REACHED,
                             f"at most {item.per_member_daily_limit} per member a day; "
                             f"you took {taken.today} today")
    return None


def shelf_refusal(item: MallItem, now: datetime) -> RedeemRefused | None:
    if on_shelf(item, now):
        return None
    return RedeemRefused(OFF_SHELF, "the item is not on the shelf")


def level_refusal(item: MallItem, level: int) -> RedeemRefused | None:
    if not item.levels or level in item.levels:
        return None
    allowed = ", ".join(f"V{allowed}" for allowed in sorted(item.levels))
    return RedeemRefused(LEVEL_TOO_LOW, f"for members of {allowed}; you are V{level}")


def terms_refusals(item: MallItem, level: int, taken: Taken, quantity: int,
                   now: datetime) -> list[RedeemRefused]:
    """The reasons the item's own terms (shelf and window, levels, limits) refuse a
    member of `level` who holds `taken` units another `quantity` now."""
    found = (shelf_refusal(item, now), level_refusal(item, level),
             limit_refusal(item, taken, quantity))
    return [refusal for refusal in found if refusal is not None]


def refusals(item: MallItem, member: Member, taken: Taken, quantity: int,
             now: datetime) -> list[RedeemRefused]:
    """Every reason the member cannot redeem `quantity` of the item now, in the order
    a redemption checks them (empty: they can)."""
    found = terms_refusals(item, member.level, taken, quantity, now)
    if item.stock < quantity:
        found.append(RedeemRefused(OUT_OF_STOCK, f"{item.stock} left"))
    cost = item.points_price * quantity
    if member.points < cost:
        found.append(RedeemRefused(INSUFFICIENT_POINTS,
                                   f"costs {cost} points; you have {member.points}"))
    return found
