"""The points mall: items members redeem with points, the stock ledger of each item,
the coupon code pools, the orders, and the benefits orders grant.

`MallItem.stock` is a cached sum of the item's `StockMovement` rows, as a member's
points are of their ledger: it changes only in handlers/mall_stock.py and
handlers/mall_redeem.py, always together with a movement whose business key is unique
(`order:<id>`, `cancel:<id>`, `adjust:<key>`, `codes:<upload>`, `initial`), so a
cancellation restores stock once, and `stock >= 0` is a database condition of every
decrement. The points an order costs move through the points ledger (models/points.py)
under the key `mall:<order id>`, and come back under `mall-refund:<order id>`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class ItemKind(StrEnum):
    PHYSICAL = "physical"  # goods shipped to the member's address
    COUPON = "coupon"  # a code from the item's pool, shown to the member at once
    BENEFIT = "benefit"  # a benefit recorded on the member (MemberBenefit) at once


class MallItem(Model):
    """An item of the mall. `levels` lists the levels that may redeem it (empty: every
    level). `per_member_limit` and `per_member_daily_limit` count the units of a
    member's orders that are not cancelled (null: no limit). The item is on the shelf
    while `on_shelf` is true, `deleted_at` is null and now is within the window."""

    id = fields.BigIntField(primary_key=True)
    title = fields.CharField(max_length=64)
    images: fields.Field[list[str]] = fields.JSONField(default=list)
    description = fields.TextField(default="")
    kind = fields.CharEnumField(ItemKind, max_length=16)
    points_price = fields.IntField()
    stock = fields.IntField(default=0)
    per_member_limit = fields.IntField(null=True)
    per_member_daily_limit = fields.IntField(null=True)
    levels: fields.Field[list[int]] = fields.JSONField(default=list)
    on_shelf = fields.BooleanField(default=True)
    shelf_from = fields.DatetimeField(null=True)
    shelf_until = fields.DatetimeField(null=True)
    sort_order = fields.IntField(default=0)
    # For a benefit: what the member is granted ({"code", "days"}).
    benefit: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    deleted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "mall_item"
        indexes = (("sort_order", "id"),)


class StockKind(StrEnum):
    INITIAL = "initial"  # the stock the item was created with
    ADJUST = "adjust"  # an operator's correction
    CODES = "codes"  # coupon codes uploaded to the pool
    ORDER = "order"  # units an order took
    CANCEL = "cancel"  # units a cancelled order gave back


class StockMovement(Model):
    """One change of an item's stock: the item's stock is the sum of their deltas."""

    id = fields.BigIntField(primary_key=True)
    item_id = fields.BigIntField()
    delta = fields.IntField()
    kind = fields.CharEnumField(StockKind, max_length=16)
    key = fields.CharField(max_length=160)
    reason = fields.CharField(max_length=255, default="")
    operator = fields.CharField(max_length=64, default="")
    stock_after = fields.IntField()
    at = fields.DatetimeField()

    class Meta:
        table = "stock_movement"
        unique_together = (("item_id", "key"),)


class CouponCode(Model):
    """A code of a coupon item's pool, `order_id` set when an order took it."""

    id = fields.BigIntField(primary_key=True)
    item_id = fields.BigIntField()
    code = fields.CharField(max_length=128)
    order_id = fields.BigIntField(null=True)
    uploaded_at = fields.DatetimeField()

    class Meta:
        table = "coupon_code"
        unique_together = (("item_id", "code"),)
        indexes = (("item_id", "order_id"), ("order_id",))


class OrderState(StrEnum):
    CREATED = "created"  # physical goods waiting to be shipped
    SHIPPED = "shipped"
    COMPLETED = "completed"  # received, or a coupon or benefit given at once
    CANCELLED = "cancelled"  # points refunded and stock restored


class MallOrder(Model):
    """A redemption. (`member_id`, `idempotency_key`) is unique: the same request sent
    again finds its order. `request_hash` fingerprints what was asked (item, quantity,
    address), so a key reused for another request is refused. The shipping address is
    personal data, stored sealed (`address_cipher`, see handlers.member_crypto)."""

    id = fields.BigIntField(primary_key=True)
    member_id = fields.BigIntField()
    item_id = fields.BigIntField()
    kind = fields.CharEnumField(ItemKind, max_length=16)
    title = fields.CharField(max_length=64)
    quantity = fields.IntField()
    points = fields.IntField()
    status = fields.CharEnumField(OrderState, max_length=16)
    idempotency_key = fields.CharField(max_length=128)
    request_hash = fields.CharField(max_length=64)
    day = fields.DateField()
    address_cipher = fields.TextField(null=True)
    carrier = fields.CharField(max_length=32, null=True)
    tracking_number = fields.CharField(max_length=64, null=True)
    cancelled_by = fields.CharField(max_length=64, null=True)
    cancel_reason = fields.CharField(max_length=255, null=True)
    created_at = fields.DatetimeField()
    shipped_at = fields.DatetimeField(null=True)
    completed_at = fields.DatetimeField(null=True)
    cancelled_at = fields.DatetimeField(null=True)

    class Meta:
        table = "mall_order"
        unique_together = (("member_id", "idempotency_key"),)
        indexes = (("member_id", "item_id", "day"), ("status", "shipped_at"),
                   ("item_id", "id"))


class MemberBenefit(Model):
    """A benefit an order granted: `code` names it for the systems that honour it (e.g.
    free_shipping), valid until `valid_until` (null: no end)."""

    id = fields.BigIntField(primary_key=True)
    member_id = fields.BigIntField()
    order_id = fields.BigIntField(unique=True)
    code = fields.CharField(max_length=64)
    title = fields.CharField(max_length=64)
    valid_from = fields.DatetimeField()
    valid_until = fields.DatetimeField(null=True)

    class Meta:
        table = "member_benefit"
        indexes = (("member_id", "valid_until"),)
