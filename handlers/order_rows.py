"""One imported order as given (a CSV line or a JSON object), checked field by field.

`parse_order` turns the raw fields into an `OrderRow` or raises `RowInvalid` naming the
field and why; the importers check every row before they import any. The member is
named by `member` = "kind:value", or by the columns `identity_kind` and
`identity_value`: a member id (`member:123`), a phone number (`phone:13800138000`,
kept only as its keyed lookup hash), a unionid or openid, a WeCom external_userid, or
an id on a sales channel (`tmall:…`, `jd:…`, `douyin:…`, `pos:…`). A paid time without
a UTC offset is Asia/Shanghai time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from handlers.member_crypto import phone_lookup_hash
from handlers.points_rules import ZONE
from models.members import IdentityKind
from models.points import OrderStatus

if TYPE_CHECKING:
    from bot.settings import Settings

MEMBER_ID = "member"
KINDS = (MEMBER_ID, *(kind.value for kind in IdentityKind))
FIELDS = ("channel", "order_id", "member", "identity_kind", "identity_value", "amount",
          "paid_at", "status")
MAX_CHANNEL_CHARS = 32
MAX_ORDER_ID_CHARS = 64
MAX_IDENTITY_CHARS = 128
MAX_AMOUNT = Decimal("100000000")  # 1亿 yuan: anything above is a unit mistake


class RowInvalid(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class RowError:
    """Where (a CSV line, or a JSON array index) and what is wrong."""

    position: int
    field: str
    reason: str


@dataclass(frozen=True)
class OrderRow:
    channel: str
    order_id: str
    identity_kind: str
    identity_value: str  # a phone number: its lookup hash
    amount_cents: int
    paid_at: datetime
    status: OrderStatus

    @property
    def key(self) -> str:
        return f"order:{self.channel}:{self.order_id}"

    @property
    def refund_key(self) -> str:
        return f"refund:{self.channel}:{self.order_id}"


def parse_order(raw: Mapping[str, Any], settings: Settings) -> OrderRow:
    kind, value = _identity(raw, settings)
    return OrderRow(
        channel=_text(raw, "channel", MAX_CHANNEL_CHARS, no_colon=True),
        order_id=_text(raw, "order_id", MAX_ORDER_ID_CHARS),
        identity_kind=kind, identity_value=value,
        amount_cents=_amount(raw.get("amount")),
        paid_at=_moment(raw.get("paid_at")),
        status=_status(raw.get("status")))


def _text(raw: Mapping[str, Any], name: str, max_chars: int, *, no_colon: bool = False) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value.strip():
        raise RowInvalid(name, "is required")
    value = value.strip()
    if len(value) > max_chars:
        raise RowInvalid(name, f"at most {max_chars} characters")
    if no_colon and ":" in value:
        raise RowInvalid(name, "must not contain ':'")
    return value


def _identity(raw: Mapping[str, Any], settings: Settings) -> tuple[str, str]:
    given = raw.get("member")
    if isinstance(given, str) and given.strip():
        kind, sep, value = given.strip().partition(":")
        field = "member"
        if not sep:
            raise RowInvalid(field, "must be kind:value, e.g. phone:13800138000 or tmall:t123")
    else:
        field = "identity_kind"
        kind = _text(raw, "identity_kind", 32) if raw.get("identity_kind") else ""
        if not kind:
            raise RowInvalid("member", "is required (kind:value, or identity_kind and "
                                       "identity_value)")
        value = _text(raw, "identity_value", MAX_IDENTITY_CHARS)
    kind, value = kind.strip().lower(), value.strip()
    if kind not in KINDS:
        raise RowInvalid(field, f"unknown kind {kind!r}, one of {', '.join(KINDS)}")
    if not value or len(value) > MAX_IDENTITY_CHARS:
        raise RowInvalid(field, f"the value must be 1-{MAX_IDENTITY_CHARS} characters")
    if kind == MEMBER_ID and not (value.isascii() and value.isdigit()):
        raise RowInvalid(field, "a member id is a number")
    if kind == IdentityKind.PHONE:
        try:
            value = phone_lookup_hash(settings.members, value)
        except ValueError:
            raise RowInvalid(field, "not a phone number") from None
    return kind, value


def _amount(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RowInvalid("amount", "is required (yuan, e.g. 199.00)")
    try:
        yuan = Decimal(str(value).strip())
    except InvalidOperation:
        raise RowInvalid("amount", f"not a number: {str(value)[:20]!r}") from None
    if not yuan.is_finite() or yuan < 0:
        raise RowInvalid("amount", "must be a number >= 0")
    if yuan > MAX_AMOUNT:
        raise RowInvalid("amount", f"must be at most {MAX_AMOUNT} yuan")
    cents = yuan * 100
    if cents != cents.to_integral_value():
        raise RowInvalid("amount", "at most 2 decimal places (fen)")
    return int(cents)


def _moment(value: Any) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise RowInvalid("paid_at", "is required (ISO 8601, e.g. 2025-03-01T10:00:00+08:00)")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise RowInvalid("paid_at", f"not an ISO 8601 date-time: {value[:32]!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZONE)


def _status(value: Any) -> OrderStatus:
    text = value.strip().lower() if isinstance(value, str) else ""
    try:
        return OrderStatus(text)
    except ValueError:
        raise RowInvalid("status", "must be paid or refunded") from None
