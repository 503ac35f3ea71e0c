"""A mall item's stock for operators: audited adjustments, the stock ledger, and the
coupon code pool upload (handlers/mall_stock.py).

- `POST /mall/items/{id}/stock {"delta", "reason", "key"}`: 201 with the movement; the
  same `key` again answers 200 with the movement of the first time and changes
  nothing (409 `conflict` when the key was used with another delta), 409
  `out_of_stock` when it would take the stock below 0.
- `GET /mall/items/{id}/stock`: the item's movements, newest first: the audit trail of
  its stock (creation, adjustments, uploads, orders, cancellations); still readable
  after the item was deleted.
- `POST /mall/items/{id}/codes`: codes for a coupon item's pool, as JSON `{"codes":
  [...]}`, a text or CSV body (one code a line; a CSV's first column, under an optional
  header named `code`), or such a file in a multipart form; at most 8 MiB. Codes the
  pool holds already count as duplicates; the stock grows by the codes added.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from aiohttp import web

from admin_api.errors import InputError, NotFound
from admin_api.json_body import JsonObject, read_object
from admin_api.points import operator_of
from admin_api.serialize import iso
from admin_api.upload import Upload, receive
from bot import query
from bot.pagination import Page
from bot.request_clock import app_now
from handlers.mall_items import MAX_STOCK
from handlers.mall_stock import (
    MAX_KEY_CHARS,
    MAX_REASON_CHARS,
    add_codes,
    adjust_stock,
    clean_codes,
)
from models.mall import MallItem, StockMovement

MAX_UPLOAD_BYTES = 8 * 1024 * 1024
_CSV_TYPES = ("text/csv", "application/csv")
_UPLOAD_TYPES = ("application/json", "text/plain", *_CSV_TYPES)


def movement_json(movement: StockMovement) -> dict[str, Any]:
    return {"id": movement.id, "item_id": movement.item_id, "delta": movement.delta,
            "kind": movement.kind.value, "key": movement.key, "reason": movement.reason,
            "operator": movement.operator, "stock_after": movement.stock_after,
            "at": iso(movement.at)}


async def adjust_route(request: web.Request) -> web.Response:
    item_id = query.path_id(request)
    body = await read_object(request)
    body.only(("delta", "reason", "key"))
    body.require("delta", "reason", "key")
    delta = body.integer("delta")
    if not -MAX_STOCK <= delta <= MAX_STOCK:
        raise InputError("delta", f"must be within ±{MAX_STOCK}")
    movement, new = await adjust_stock(
        item_id, delta, key=body.text("key", max_chars=MAX_KEY_CHARS),
        reason=body.text("reason", max_chars=MAX_REASON_CHARS),
        operator=operator_of(request), now=app_now(request))
    return web.json_response(movement_json(movement), status=201 if new else 200)


async def list_movements(request: web.Request) -> web.Response:
    page = Page.of(request)
    item_id = query.path_id(request)
    if not await MallItem.exists(id=item_id):
        raise NotFound(f"no mall item {item_id}")
    found, total = await page.rows(StockMovement.filter(item_id=item_id).order_by("-id"))
    return page.answer([movement_json(movement) for movement in found], total)


async def upload_codes(request: web.Request) -> web.Response:
    item_id = query.path_id(request)
    with io.BytesIO() as sink:
        upload = await receive(
            request, sink, accepted=_UPLOAD_TYPES, max_bytes=MAX_UPLOAD_BYTES,
            too_large=f"an upload over {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB; split it",
            expected='send application/json {"codes": [...]}, text/plain or text/csv (one '
                     "code a line), or multipart/form-data with such a file")
        codes = clean_codes(_codes(upload, sink.getvalue()))
    done = await add_codes(item_id, codes, operator=operator_of(request),
                           now=app_now(request))
    return web.json_response({"added": done.added, "duplicates": done.duplicates,
                              "stock": done.stock})


def _codes(upload: Upload, raw: bytes) -> list[str]:
    """The upload's codes as sent (clean_codes strips them and drops blank ones)."""
    name = upload.filename.lower()
    if upload.media_type == "application/json" or name.endswith(".json"):
        return _json_codes(raw)
    try:
        text = raw.decode("utf-8-sig")  # spreadsheet programs write a byte order mark
    except UnicodeDecodeError:
        raise InputError("body", "not UTF-8 text") from None
    if upload.media_type in _CSV_TYPES or name.endswith(".csv"):
        return _csv_codes(text)
    return text.splitlines()


def _json_codes(raw: bytes) -> list[str]:
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InputError("body", "not valid JSON") from None
    if not isinstance(data, dict):
        raise InputError("body", 'must be a JSON object, {"codes": [...]}')
    body = JsonObject(data)
    body.only(("codes",))
    body.require("codes")
    return body.texts("codes")


def _csv_codes(text: str) -> list[str]:
    """The first column of each row, without a header row named `code`."""
    try:
        cells = [row[0] if row else "" for row in csv.reader(io.StringIO(text))]
    except csv.Error as exc:
        raise InputError("body", f"not valid CSV: {exc}") from None
    if cells and cells[0].strip().lower() == "code":
        del cells[0]
    return cells


routes = [
    web.post(r"/mall/items/{id:\d+}/stock", adjust_route),
    web.get(r"/mall/items/{id:\d+}/stock", list_movements),
    web.post(r"/mall/items/{id:\d+}/codes", upload_codes),
]
