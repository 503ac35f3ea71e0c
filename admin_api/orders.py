"""`POST /admin/api/orders/import`: orders from other sales channels (积分通), as a JSON
list of objects, a CSV body (`text/csv`) or a CSV file in a multipart upload.

The body is spooled to a temporary file (at most MAX_IMPORT_BYTES) and read twice:
every row is checked first, and one bad row refuses the whole import (400
`invalid_rows`, listing up to 100 bad rows by CSV line or JSON index with the field and
the reason) with nothing imported; then the rows are imported in batches
(handlers/orders.py). The answer is the summary `{"imported", "matched", "unmatched",
"duplicates", "refunded"}`; importing the same file again only counts duplicates.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from aiohttp import web

from admin_api.errors import InputError
from admin_api.upload import InvalidRows, receive
from bot.keys import SETTINGS, WECOM
from bot.request_clock import app_now
from bot.settings import Settings
from handlers.order_csv import Checked, check, csv_rows, good_rows, json_rows
from handlers.order_rows import OrderRow, RowError
from handlers.orders import import_orders

log = logging.getLogger("scrm.admin")

MAX_IMPORT_BYTES = 64 * 1024 * 1024
_IN_MEMORY_BYTES = 1024 * 1024
_CSV_TYPES = ("text/csv", "application/csv", "text/plain")


async def import_order_file(request: web.Request) -> web.Response:
    settings = request.config_dict[SETTINGS]
    with tempfile.SpooledTemporaryFile(_IN_MEMORY_BYTES) as spool:
        kind = await _spool(request, spool)
        # Parsing a large file takes a while: in a thread, so the server keeps answering
        # (WeCom wants its callbacks answered within 5 s).
        items = await asyncio.to_thread(_json_list, spool) if kind == "json" else None
        checked = await asyncio.to_thread(_check, spool, items, settings)
        if checked.invalid:
            raise InvalidRows(checked, "line" if items is None else "index")
        with _rows(spool, items, settings) as rows:
            summary = await import_orders(good_rows(rows), settings, app_now(request),
                                          wecom=request.config_dict[WECOM])
    log.info("admin.orders.imported rows=%d %s", checked.valid, summary.line())
    return web.json_response(summary.as_json())


def _check(spool: IO[bytes], items: list[Any] | None, settings: Settings) -> Checked:
    with _rows(spool, items, settings) as rows:
        return check(rows)


@contextmanager
def _rows(spool: IO[bytes], items: list[Any] | None,
          settings: Settings) -> Iterator[Iterator[OrderRow | RowError]]:
    """The upload's rows from the start: the JSON list's, or the CSV read from `spool`."""
    if items is not None:
        yield json_rows(items, settings)
        return
    spool.seek(0)
    # utf-8-sig: spreadsheet programs write a byte order mark.
    text = io.TextIOWrapper(spool, encoding="utf-8-sig", newline="")  # type: ignore[type-var]
    try:
        yield csv_rows(text, settings)
    finally:
        text.detach()  # the spool stays open for the second reading


async def _spool(request: web.Request, spool: IO[bytes]) -> str:
    """Copy the upload into `spool`; "json" or "csv", what it holds."""
    upload = await receive(
        request, spool, accepted=("application/json", *_CSV_TYPES),
        max_bytes=MAX_IMPORT_BYTES,
        too_large=f"an import over {MAX_IMPORT_BYTES // (1024 * 1024)} MiB; split the file "
                  "or use `python run.py orders import FILE`",
        expected="send application/json (a list of orders), text/csv or "
                 "multipart/form-data with a CSV file")
    return "json" if upload.media_type == "application/json" else "csv"


def _json_list(spool: IO[bytes]) -> list[Any]:
    spool.seek(0)
    try:
        items = json.load(spool)
    except (ValueError, UnicodeDecodeError):
        raise InputError("body", "not valid JSON") from None
    if not isinstance(items, list):
        raise InputError("body", "must be a JSON list of orders")
    return items


routes = [web.post("/orders/import", import_order_file)]
