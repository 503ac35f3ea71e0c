"""Points: the append-only ledger, daily check-ins and orders imported from other sales
channels (积分通).

Every movement of a member's points or growth is one `PointsEntry` with a unique
business key, so a retried request, a double click or a re-imported order file finds
its key taken and moves nothing. `Member.points` and `Member.growth` (models/members.py)
are cached sums of this ledger, changed only by handlers/ledger.py.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class EntryKind(StrEnum):
    EARN = "earn"  # a rule credited points (check-in, order, scan, guide add …)
    SPEND = "spend"  # the member spent points (mall)
    EXPIRE = "expire"  # earned points reached their expiry unspent
    REVERSE = "reverse"  # an earlier movement taken back (an order refunded)
    ADJUST = "adjust"  # an operator's correction
    MERGE = "merge"  # another member's history moved here (delta 0, an audit row)


class PointsEntry(Model):
    """One movement of a member's points and growth. Rows are never deleted, and only
    the bookkeeping columns `remaining` (and `member_id` when two members are merged)
    change after the insert.

    A row that credits points (delta > 0) holds them until `expires_at`, and
    `remaining` is how many of them are neither spent nor expired: spending takes the
    rows that expire first, expiry takes what is left. So a member's balance is always
    the sum of their rows' `remaining`, and the sum of their deltas."""

    id = fields.BigIntField(primary_key=True)
    member_id = fields.BigIntField()
    delta = fields.IntField()
    growth_delta = fields.IntField(default=0)
    kind = fields.CharEnumField(EntryKind, max_length=16)
    key = fields.CharField(max_length=255, unique=True)
    reason = fields.CharField(max_length=255, default="")
    operator = fields.CharField(max_length=64, default="")
    balance_after = fields.IntField(default=0)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(null=True)
    remaining = fields.IntField(default=0)

    class Meta:
        table = "points_entry"
        indexes = (("member_id", "id"), ("remaining", "expires_at"))


class CheckIn(Model):
    """A member's daily check-in (the day in Asia/Shanghai) and the streak it made."""

    id = fields.BigIntField(primary_key=True)
    member_id = fields.BigIntField()
    day = fields.DateField()
    streak = fields.IntField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "check_in"
        unique_together = (("member_id", "day"),)


class OrderStatus(StrEnum):
    PAID = "paid"
    REFUNDED = "refunded"


class ImportedOrder(Model):
    """An order from another sales channel (Tmall, JD, Douyin, POS …) as imported.
    `member_id` is null while no member carries the identity the order names, and
    `points`/`growth` are what the order credited (0 until it is matched)."""

    id = fields.BigIntField(primary_key=True)
    channel = fields.CharField(max_length=32)
    order_id = fields.CharField(max_length=64)
    member_id = fields.BigIntField(null=True)
    # The member identifier as given (kind:value), a phone number as its lookup hash.
    identity_kind = fields.CharField(max_length=32)
    identity_value = fields.CharField(max_length=128)
    amount_cents = fields.BigIntField()
    paid_at = fields.DatetimeField()
    status = fields.CharEnumField(OrderStatus, max_length=16)
    points = fields.IntField(default=0)
    growth = fields.IntField(default=0)
    imported_at = fields.DatetimeField()
    refunded_at = fields.DatetimeField(null=True)

    class Meta:
        table = "imported_order"
        unique_together = (("channel", "order_id"),)
        indexes = (("identity_kind", "identity_value"),)
