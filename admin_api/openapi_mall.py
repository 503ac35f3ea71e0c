"""The OpenAPI paths and schemas of the points mall routes (items, stock, coupon codes,
orders); `openapi.py` merges them into the document."""

from __future__ import annotations

from typing import Any

from admin_api.mall_input import MAX_INTEGER
from admin_api.mall_orders import CODE_SEPARATOR, ORDER_COLUMNS
from admin_api.mall_stock import MAX_UPLOAD_BYTES
from admin_api.openapi_ops import (
    ID,
    INPUT,
    PAGE,
    json_content,
    op,
    query_param,
    with_response,
)
from admin_api.openapi_schemas import (
    BOOLEAN,
    DATE_TIME,
    INTEGER,
    NULLABLE_STRING,
    STRING,
    Schema,
    array,
    obj,
    page_of,
    ref,
)
from handlers.mall_address import FIELDS as ADDRESS_FIELDS
from handlers.mall_items import (
    MAX_BENEFIT_CODE_CHARS,
    MAX_BENEFIT_DAYS,
    MAX_DESCRIPTION_CHARS,
    MAX_IMAGE_URL_CHARS,
    MAX_IMAGES,
    MAX_POINTS_PRICE,
    MAX_STOCK,
    MAX_TITLE_CHARS,
)
from handlers.mall_orders import MAX_CARRIER_CHARS, MAX_TRACKING_CHARS
from handlers.mall_orders import MAX_REASON_CHARS as MAX_CANCEL_REASON_CHARS
from handlers.mall_stock import MAX_CODE_CHARS, MAX_CODES_PER_UPLOAD, MAX_KEY_CHARS
from handlers.mall_stock import MAX_REASON_CHARS as MAX_STOCK_REASON_CHARS
from models.mall import ItemKind, OrderState, StockKind

_KINDS = [kind.value for kind in ItemKind]
_STATUSES = [state.value for state in OrderState]
_LIMIT: Schema = {**INTEGER, "nullable": True, "minimum": 1, "maximum": MAX_INTEGER,
                  "description": "units of the member's orders not cancelled; null: no limit"}

_ITEM_FIELDS: dict[str, Schema] = {
    "title": {**STRING, "minLength": 1, "maxLength": MAX_TITLE_CHARS},
    "kind": {**STRING, "enum": _KINDS,
             "description": "physical: shipped; coupon: a code of the pool at once; "
                            "benefit: granted to the member at once"},
    "points_price": {**INTEGER, "minimum": 1, "maximum": MAX_POINTS_PRICE},
    "stock": {**INTEGER, "minimum": 0, "maximum": MAX_STOCK, "default": 0,
              "description": "the initial stock; 0 for a coupon (its stock is its code pool)"},
    "images": {**array({**STRING, "format": "uri", "maxLength": MAX_IMAGE_URL_CHARS}),
               "maxItems": MAX_IMAGES},
    "description": {**STRING, "maxLength": MAX_DESCRIPTION_CHARS},
    "per_member_limit": _LIMIT,
    "per_member_daily_limit": {**_LIMIT, "description": "the same, per local day"},
    "levels": {**array({**INTEGER, "minimum": 1}),
               "description": "member levels that may redeem it; empty: every level"},
    "on_shelf": {**BOOLEAN, "default": True},
    "shelf_from": {**DATE_TIME, "description": "on the shelf from then (with a UTC offset)"},
    "shelf_until": {**DATE_TIME, "description": "off the shelf from then"},
    "sort_order": {**INTEGER, "default": 0, "description": "lists are ordered by it, then id"},
    "benefit_code": {**STRING, "maxLength": MAX_BENEFIT_CODE_CHARS,
                     "description": "a benefit item's benefit, e.g. free_shipping "
                                    "(required for a benefit, refused for the others)"},
    "benefit_days": {**INTEGER, "nullable": True, "minimum": 1, "maximum": MAX_BENEFIT_DAYS,
                     "description": "days a benefit lasts per unit; null: no end"},
}
_PATCH_FIELDS = {name: schema for name, schema in _ITEM_FIELDS.items()
                 if name not in ("kind", "stock")}
_DATE_TIME_INPUT: Schema = {**STRING, "format": "date-time",
                            "description": "with its UTC offset (`+` written %2B)"}

MALL_SCHEMAS: dict[str, Schema] = {
    "MallItemCreate": obj(_ITEM_FIELDS, "title", "kind", "points_price",
                          additionalProperties=False),
    "MallItemPatch": obj(_PATCH_FIELDS, additionalProperties=False,
                         description="only the fields to change; kind and stock cannot "
                                     "change (stock moves by POST /mall/items/{id}/stock)"),
    "MallItem": obj({
        "id": INTEGER, **{name: _ITEM_FIELDS[name] for name in (
            "title", "kind", "points_price", "images", "description", "per_member_limit",
            "per_member_daily_limit", "levels", "shelf_from", "shelf_until", "on_shelf",
            "sort_order")},
        "stock": {**INTEGER, "description": "units left"},
        "benefit": {**obj({"code": STRING, "days": {**INTEGER, "nullable": True}}),
                    "nullable": True},
        "created_at": DATE_TIME, "updated_at": DATE_TIME,
    }, "id", "title", "kind", "points_price", "stock", "levels", "on_shelf", "sort_order"),
    "MallItemPage": page_of(ref("MallItem")),
    "StockAdjust": obj({
        "delta": {**INTEGER, "minimum": -MAX_STOCK, "maximum": MAX_STOCK,
                  "description": "units to add (> 0, not for a coupon) or take (< 0)"},
        "reason": {**STRING, "minLength": 1, "maxLength": MAX_STOCK_REASON_CHARS},
        "key": {**STRING, "minLength": 1, "maxLength": MAX_KEY_CHARS,
                "description": "the adjustment's idempotency key (ledger key adjust:<key>)"},
    }, "delta", "reason", "key", additionalProperties=False),
    "StockMovement": obj({
        "id": INTEGER, "item_id": INTEGER, "delta": INTEGER,
        "kind": {**STRING, "enum": [kind.value for kind in StockKind]},
        "key": {**STRING, "description": "unique per item: initial, adjust:<key>, "
                                         "codes:<upload>, order:<id>, cancel:<id>"},
        "reason": STRING, "operator": STRING,
        "stock_after": INTEGER, "at": DATE_TIME,
    }, "id", "item_id", "delta", "kind", "key", "reason", "operator", "stock_after", "at"),
    "StockMovementPage": page_of(ref("StockMovement")),
    "CodeUpload": obj({
        "added": {**INTEGER, "description": "codes new to the pool"},
        "duplicates": {**INTEGER, "description": "codes the pool held already (a code "
                                                 "repeated in the upload counts once)"},
        "stock": {**INTEGER, "description": "the item's stock now"},
    }, "added", "duplicates", "stock"),
    "MallOrder": obj({
        "id": INTEGER, "status": {**STRING, "enum": _STATUSES},
        "item": obj({"id": INTEGER, "title": STRING, "kind": {**STRING, "enum": _KINDS}},
                    "id", "title", "kind"),
        "quantity": INTEGER, "points": {**INTEGER, "description": "what the order cost"},
        "address": {**obj({name: STRING for name in ADDRESS_FIELDS}), "nullable": True,
                    "description": "a physical order's shipping address"},
        "coupon_codes": array(STRING),
        "benefit": {**obj({"code": STRING, "title": STRING, "valid_from": DATE_TIME,
                           "valid_until": DATE_TIME, "order_id": INTEGER}),
                    "nullable": True},
        "carrier": NULLABLE_STRING, "tracking_number": NULLABLE_STRING,
        "created_at": DATE_TIME, "shipped_at": DATE_TIME, "completed_at": DATE_TIME,
        "cancelled_at": DATE_TIME,
        "cancelled_by": {**NULLABLE_STRING, "description": "member, or the operator"},
        "cancel_reason": NULLABLE_STRING, "member_id": INTEGER,
        "idempotency_key": STRING,
    }, "id", "status", "item", "quantity", "points", "coupon_codes", "created_at",
        "member_id"),
    "MallOrderPage": page_of(ref("MallOrder")),
    "OrderShip": obj({
        "carrier": {**STRING, "minLength": 1, "maxLength": MAX_CARRIER_CHARS},
        "tracking_number": {**STRING, "minLength": 1, "maxLength": MAX_TRACKING_CHARS},
    }, "carrier", "tracking_number", additionalProperties=False,
        description="on a shipped order: corrects carrier and tracking number"),
    "OrderCancel": obj({
        "reason": {**STRING, "minLength": 1, "maxLength": MAX_CANCEL_REASON_CHARS},
    }, "reason", additionalProperties=False),
    "WrongStatusError": obj({"error": obj({
        "code": {**STRING, "enum": ["wrong_status"]}, "message": STRING,
        "status": {**STRING, "enum": _STATUSES, "description": "the order's status now"},
    }, "code", "message", "status")}, "error"),
}

_CODES_BODY: dict[str, Any] = {
    "required": True,
    "description": f"at most {MAX_CODES_PER_UPLOAD} codes of at most {MAX_CODE_CHARS} "
                   f"characters, {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB; blanks dropped, "
                   "repeats counted once. Text: one code a line; CSV: the first column, "
                   "under an optional header `code`; a multipart file is CSV when typed "
                   "text/csv or named *.csv, JSON when typed application/json or named "
                   "*.json, else text",
    "content": {
        "application/json": {"schema": obj({"codes": array(STRING)}, "codes",
                                           additionalProperties=False)},
        "text/plain": {"schema": STRING},
        "text/csv": {"schema": STRING},
        "multipart/form-data": {"schema": obj({"file": {**STRING, "format": "binary"}},
                                               "file")},
    },
}
_ORDER = (200, "the order", json_content(ref("MallOrder")))
_ORDER_CSV = (f"CSV columns: {', '.join(ORDER_COLUMNS)}; coupon_codes joined by "
              f"{CODE_SEPARATOR!r}")


def _wrong_status(operation: dict[str, Any]) -> dict[str, Any]:
    return with_response(operation, "409", "wrong_status: the order's status does not "
                         "allow it; `status` is the one it is in", ref("WrongStatusError"))


MALL_PATHS: dict[str, dict[str, Any]] = {
    "/mall/items": {
        "get": op("List the mall's items (not deleted), by sort_order then id",
                  "listMallItems", (200, "a page of items", json_content(ref("MallItemPage"))),
                  errors=("BadRequest",),
                  parameters=(*PAGE,
                              query_param("kind", "only items of this kind",
                                          {**STRING, "enum": _KINDS}),
                              query_param("on_shelf", "only items whose on_shelf switch is "
                                          "this (the shelf window aside)", BOOLEAN))),
        "post": op("Create a mall item with its initial stock (an audited movement)",
                   "createMallItem", (201, "the item", json_content(ref("MallItem"))),
                   errors=INPUT, body="MallItemCreate"),
    },
    "/mall/items/{id}": {
        "get": op("Read a mall item", "getMallItem",
                  (200, "the item", json_content(ref("MallItem"))), errors=("NotFound",),
                  parameters=(ID,)),
        "patch": op("Change some of an item's fields (not kind, not stock)", "updateMallItem",
                    (200, "the item", json_content(ref("MallItem"))),
                    errors=(*INPUT, "NotFound"), parameters=(ID,), body="MallItemPatch"),
        "delete": op("Delete an item: off the shelf for good; its orders and stock ledger "
                     "stay", "deleteMallItem", (204, "deleted", None), errors=("NotFound",),
                     parameters=(ID,)),
    },
    "/mall/items/{id}/stock": {
        "get": op("The item's stock movements, newest first (deleted items too)",
                  "listStockMovements",
                  (200, "a page of movements", json_content(ref("StockMovementPage"))),
                  errors=("BadRequest", "NotFound"), parameters=(ID, *PAGE)),
        "post": with_response(
            with_response(op("An operator's audited stock correction, idempotent by key",
                             "adjustStock", (201, "the movement made",
                                             json_content(ref("StockMovement"))),
                             errors=(*INPUT, "NotFound"), parameters=(ID,),
                             body="StockAdjust"),
                          "200", "the same key again: the movement made the first time",
                          ref("StockMovement")),
            "409", "conflict: the key was used with another delta; out_of_stock: the "
                   "stock would go below 0 (nothing changed)", ref("Error")),
    },
    "/mall/items/{id}/codes": {"post": {**op(
        "Upload codes to a coupon item's pool; the stock grows by the codes added",
        "uploadCouponCodes", (200, "what the upload did", json_content(ref("CodeUpload"))),
        errors=(*INPUT, "NotFound"), parameters=(ID,)), "requestBody": _CODES_BODY}},
    "/mall/orders": {"get": op(
        "List mall orders, newest first; as CSV every matching order", "listMallOrders",
        (200, f"a page of orders (CSV: all of them). {_ORDER_CSV}",
         {**json_content(ref("MallOrderPage")), "text/csv": {"schema": STRING}}),
        errors=("BadRequest",),
        parameters=(
            *PAGE,
            query_param("format", "json, or csv with a header row (or Accept: text/csv)",
                        {**STRING, "enum": ["json", "csv"], "default": "json"}),
            query_param("status", "only orders in this status", {**STRING, "enum": _STATUSES}),
            query_param("kind", "only orders of items of this kind",
                        {**STRING, "enum": _KINDS}),
            query_param("item_id", "only this item's orders", {**INTEGER, "minimum": 1}),
            query_param("member_id", "only this member's orders", {**INTEGER, "minimum": 1}),
            query_param("created_from", "created at or after", _DATE_TIME_INPUT),
            query_param("created_until", "created before", _DATE_TIME_INPUT),
        ))},
    "/mall/orders/{id}": {"get": op(
        "Read a mall order, its address opened", "getMallOrder", _ORDER,
        errors=("NotFound",), parameters=(ID,))},
    "/mall/orders/{id}/ship": {"post": _wrong_status(op(
        "Ship a created order, or correct a shipped one's tracking", "shipMallOrder", _ORDER,
        errors=(*INPUT, "NotFound"), parameters=(ID,), body="OrderShip"))},
    "/mall/orders/{id}/cancel": {"post": _wrong_status(op(
        "Cancel an order not completed: points refunded, stock restored (once)",
        "cancelMallOrder", (200, "the order, cancelled (a repeated cancel changes nothing)",
                            json_content(ref("MallOrder"))),
        errors=(*INPUT, "NotFound"), parameters=(ID,), body="OrderCancel"))},
    "/mall/orders/{id}/complete": {"post": _wrong_status(op(
        "Complete a shipped order (a completed one answers as it is)", "completeMallOrder",
        _ORDER, errors=("NotFound",), parameters=(ID,)))},
}
