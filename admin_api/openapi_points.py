"""The OpenAPI schemas of the points routes (operator adjustments, order import);
`openapi.py` merges them into the document."""

from __future__ import annotations

from typing import Any

from admin_api.openapi_schemas import INTEGER, STRING, Schema, array, obj, ref
from handlers.order_csv import MAX_REPORTED
from handlers.order_rows import KINDS, MAX_CHANNEL_CHARS, MAX_IDENTITY_CHARS, MAX_ORDER_ID_CHARS
from handlers.points_adjust import MAX_KEY_CHARS, MAX_REASON_CHARS
from models.points import OrderStatus

_IMPORT_DESCRIPTION = (
    "CSV columns (header row, UTF-8): channel, order_id, member (kind:value) or "
    "identity_kind and identity_value, amount (yuan, at most 2 decimals), paid_at (ISO "
    "8601; no offset: Asia/Shanghai), status. Member kinds: " + ", ".join(KINDS) + ".")

POINTS_SCHEMAS: dict[str, Schema] = {
    "PointsAdjust": obj({
        "member_id": {**INTEGER, "minimum": 1},
        "delta": {**INTEGER, "description": "points to credit (> 0) or debit (< 0), not 0"},
        "reason": {**STRING, "minLength": 1, "maxLength": MAX_REASON_CHARS},
        "key": {**STRING, "minLength": 1, "maxLength": MAX_KEY_CHARS,
                "description": "the adjustment's idempotency key (ledger key adjust:<key>)"},
    }, "member_id", "delta", "reason", "key", additionalProperties=False),
    "OrderInput": obj({
        "channel": {**STRING, "minLength": 1, "maxLength": MAX_CHANNEL_CHARS,
                    "description": "tmall, jd, douyin, pos … (no ':')"},
        "order_id": {**STRING, "minLength": 1, "maxLength": MAX_ORDER_ID_CHARS},
        "member": {**STRING, "description": "kind:value, e.g. phone:13800138000, member:42"},
        "identity_kind": {**STRING, "enum": list(KINDS)},
        "identity_value": {**STRING, "maxLength": MAX_IDENTITY_CHARS},
        "amount": {"oneOf": [{"type": "number"}, STRING], "description": "yuan"},
        "paid_at": {**STRING, "format": "date-time"},
        "status": {**STRING, "enum": [s.value for s in OrderStatus]},
    }, "channel", "order_id", "amount", "paid_at", "status", additionalProperties=False,
        description="the member as `member`, or as identity_kind and identity_value"),
    "OrderImportSummary": obj({
        "imported": {**INTEGER, "description": "orders seen for the first time"},
        "matched": {**INTEGER, "description": "orders credited to a member now"},
        "unmatched": {**INTEGER, "description": "new orders whose member is unknown yet"},
        "duplicates": {**INTEGER, "description": "rows that changed nothing"},
        "refunded": {**INTEGER, "description": "orders marked refunded now (points and "
                                               "growth taken back once)"},
    }, "imported", "matched", "unmatched", "duplicates", "refunded"),
}

IMPORT_BODY: dict[str, Any] = {
    "required": True,
    "description": _IMPORT_DESCRIPTION + f" One bad row refuses the import (400 "
                   f"invalid_rows, up to {MAX_REPORTED} rows listed by line or index).",
    "content": {
        "application/json": {"schema": array(ref("OrderInput"))},
        "text/csv": {"schema": STRING},
        "multipart/form-data": {"schema": obj({"file": {**STRING, "format": "binary"}},
                                               "file")},
    },
}
