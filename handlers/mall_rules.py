"""Who may redeem what: the reasons a member cannot redeem an item now, each with the
error code the API answers (`off_shelf`, `level_too_low`, `limit_reached`,
`out_of_stock`, `insufficient_points`; `address_required` is the redemption's own).

The same checks serve the item list (every reason that applies, so the mini-program
can say why a button is grey) and the redemption (the first one refuses it; in the
redemption's transaction the limits are counted again with the member's row held, so
two orders at once cannot both take the last unit a limit allows).
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


def refusals(item: MallItem, member: Member, taken: Taken, quantity: int,
             now: datetime) -> list[RedeemRefused]:
    """Every reason the member cannot redeem `quantity` of the item now, in the order
    a redemption checks them (empty: they can)."""
    found: list[RedeemRefused] = []
    if not on_shelf(item, now):
        found.append(RedeemRefused(OFF_SHELF, "the item is not on the shelf"))
    if item.levels and member.level not in item.levels:
        allowed = ", ".join(f"V{level}" for level in sorted(item.levels))
        found.append(RedeemRefused(LEVEL_TOO_LOW, f"for members of {allowed}; "
                                                  f"you are V{member.level}"))
    limit = limit_refusal(item, taken, quantity)
    if limit is not None:
        found.append(limit)
    if item.stock < quantity:
        found.append(RedeemRefused(OUT_OF_STOCK, f"{item.stock} left"))
    cost = item.points_price * quantity
    if member.points < cost:
        found.append(RedeemRefused(INSUFFICIENT_POINTS,
                                   f"costs {cost} points; you have {member.points}"))
    return found
