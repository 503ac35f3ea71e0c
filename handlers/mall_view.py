"""How mall items and orders look in JSON, to members (the mini-program) and to
operators (the admin API, which also sees the audit fields). Datetimes are ISO 8601
with their UTC offset; an order's address is opened only here, for its reader."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.settings import MemberSettings
from handlers.mall_address import open_address
from handlers.mall_rules import RedeemRefused
from models.mall import CouponCode, MallItem, MallOrder, MemberBenefit


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def item_json(item: MallItem, *, audit: bool = False) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": item.id, "title": item.title, "kind": item.kind.value,
        "images": list(item.images), "description": item.description,
        "points_price": item.points_price, "stock": item.stock,
        "per_member_limit": item.per_member_limit,
        "per_member_daily_limit": item.per_member_daily_limit,
        "levels": list(item.levels), "shelf_from": _when(item.shelf_from),
        "shelf_until": _when(item.shelf_until),
        "benefit": dict(item.benefit) or None,
    }
    if audit:
        shown.update(on_shelf=item.on_shelf, sort_order=item.sort_order,
                     created_at=_when(item.created_at), updated_at=_when(item.updated_at))
    return shown


def offer_json(item: MallItem, refused: Sequence[RedeemRefused], held: int) -> dict[str, Any]:
    """An item as a member sees it: whether they may redeem one now, and if not why."""
    return {**item_json(item), "redeemable": not refused, "held": held,
            "reasons": [{"code": r.code, "message": r.message} for r in refused]}


def benefit_json(benefit: MemberBenefit) -> dict[str, Any]:
    return {"code": benefit.code, "title": benefit.title,
            "valid_from": _when(benefit.valid_from), "valid_until": _when(benefit.valid_until),
            "order_id": benefit.order_id}


async def orders_json(orders: Sequence[MallOrder], keys: MemberSettings, *,
                      audit: bool = False) -> list[dict[str, Any]]:
    """The orders with their coupon codes and benefits (two queries for the lot)."""
    ids = [order.id for order in orders]
    codes: dict[int, list[str]] = defaultdict(list)
    benefits: dict[int, MemberBenefit] = {}
    if ids:
        for row in await CouponCode.filter(order_id__in=ids).order_by("id").values(
                "order_id", "code"):
            codes[int(row["order_id"])].append(str(row["code"]))
        benefits = {b.order_id: b for b in await MemberBenefit.filter(order_id__in=ids)}
    return [_order_json(order, codes.get(order.id, []), benefits.get(order.id), keys, audit)
            for order in orders]


def _order_json(order: MallOrder, codes: list[str], benefit: MemberBenefit | None,
                keys: MemberSettings, audit: bool) -> dict[str, Any]:
    cancelled_by = order.cancelled_by
    if cancelled_by and not audit and cancelled_by != "member":
        cancelled_by = "operator"  # which operator is the admin's business
    shown: dict[str, Any] = {
        "id": order.id, "status": order.status.value,
        "item": {"id": order.item_id, "title": order.title, "kind": order.kind.value},
        "quantity": order.quantity, "points": order.points,
        "address": open_address(keys, order.address_cipher),
        "coupon_codes": codes, "benefit": benefit_json(benefit) if benefit else None,
        "carrier": order.carrier, "tracking_number": order.tracking_number,
        "created_at": _when(order.created_at), "shipped_at": _when(order.shipped_at),
        "completed_at": _when(order.completed_at), "cancelled_at": _when(order.cancelled_at),
        "cancelled_by": cancelled_by, "cancel_reason": order.cancel_reason,
    }
    if audit:
        shown.update(member_id=order.member_id, idempotency_key=order.idempotency_key)
    return shown
