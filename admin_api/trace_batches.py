"""The 安心码 catalogue's batches (lots) for operators: create, list, read (with the
events timeline and how many of its codes exist and were verified) and recall
(handlers/trace_catalog.py).

A batch is named in paths by its lot; when products share a lot, `?gtin=` says which
product's batch is meant (without it: 409 `ambiguous_lot`). Recalling a recalled batch
answers it as it is: its recall time stays the first one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from admin_api.json_body import read_object
from admin_api.points import operator_of
from admin_api.serialize import iso
from admin_api.trace_input import batch_spec, gtin_filter
from bot.pagination import Page
from bot.request_clock import app_now
from handlers.trace_catalog import create_batch, find_batch, recall_batch, timeline
from handlers.trace_view import event_json
from models.trace import Batch, BatchStatus, Product, TraceCode

log = logging.getLogger("scrm.admin")


async def batch_of(request: web.Request) -> Batch:
    """The batch of the path's lot (of the `?gtin=` product when given)."""
    return await find_batch(request.match_info["lot"], gtin_filter(request))


def batch_json(batch: Batch, product: Product) -> dict[str, Any]:
    return {
        "id": batch.id,
        "gtin": batch.gtin,
        "lot": batch.lot,
        "production_date": iso(batch.production_date),
        "expiry_date": iso(batch.expiry_date),
        "factory": batch.factory,
        "region": list(batch.region),
        "qa_report_url": batch.qa_report_url,
        "qa_report_hash": batch.qa_report_hash,
        "status": batch.status.value,
        "pin_required": batch.pin_required,
        "recalled_at": iso(batch.recalled_at),
        "product": {"gtin": product.gtin, "name": product.name},
    }


async def _products_of(batches: Iterable[Batch]) -> dict[int, Product]:
    ids = sorted({batch.product_id for batch in batches})
    return {product.id: product for product in await Product.filter(id__in=ids)} if ids else {}


async def _answer(batch: Batch, status: int = 200) -> web.Response:
    return web.json_response(batch_json(batch, await Product.get(id=batch.product_id)),
                             status=status)


async def create_batch_route(request: web.Request) -> web.Response:
    batch = await create_batch(batch_spec(await read_object(request)), now=app_now(request))
    log.info("admin.trace.batch_created id=%s gtin=%s lot=%s operator=%s", batch.id,
             batch.gtin, batch.lot, operator_of(request))
    return await _answer(batch, status=201)


async def list_batches(request: web.Request) -> web.Response:
    page = Page.of(request)
    batches = Batch.all()
    gtin = gtin_filter(request)
    if gtin is not None:
        batches = batches.filter(gtin=gtin)
    found, total = await page.rows(batches.order_by("-id"))
    products = await _products_of(found)
    return page.answer([batch_json(batch, products[batch.product_id]) for batch in found],
                       total)


async def get_batch(request: web.Request) -> web.Response:
    batch = await batch_of(request)
    codes = TraceCode.filter(batch_id=batch.id)
    return web.json_response({
        **batch_json(batch, await Product.get(id=batch.product_id)),
        "events": [event_json(event) for event in await timeline(batch.id)],
        "codes": {"total": await codes.count(),
                  "verified": await codes.filter(verified_at__isnull=False).count()},
    })


async def recall(request: web.Request) -> web.Response:
    batch = await batch_of(request)
    if batch.status != BatchStatus.RECALLED:
        batch = await recall_batch(batch, now=app_now(request))
        log.info("admin.trace.batch_recalled id=%s gtin=%s lot=%s operator=%s", batch.id,
                 batch.gtin, batch.lot, operator_of(request))
    return await _answer(batch)


routes = [
    web.get("/trace/batches", list_batches),
    web.post("/trace/batches", create_batch_route),
    web.get("/trace/batches/{lot}", get_batch),
    web.post("/trace/batches/{lot}/recall", recall),
]
