"""Helpers for the 安心码 tests: a product and batch made without WeCom (the product's
channel is the catalogue test's business), and codes generated into memory."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from bot.settings import Settings
from handlers.ledger import utc
from handlers.trace_catalog import BatchSpec, create_batch
from handlers.trace_codes import generate_codes
from models.trace import Batch, Product
from tests.handlers.points_world import T0

GTIN = "09520123456788"


async def new_batch(lot: str = "L2025A", gtin: str = GTIN, **fields: Any) -> Batch:
    """A batch of product `gtin` (the product made if missing)."""
    if not await Product.exists(gtin=gtin):
        await Product.create(gtin=gtin, name="安心牛奶", tags=[{"group": "产品", "name": "牛奶"}],
                             created_at=utc(T0), updated_at=utc(T0))
    spec = BatchSpec(**{"gtin": gtin, "lot": lot, "production_date": date(2025, 2, 20),
                        "expiry_date": date(2026, 2, 20), "factory": "上海一厂", **fields})
    return await create_batch(spec, now=T0)


async def make_codes(batch: Batch, count: int, settings: Settings) -> list[dict[str, str]]:
    """Generate `count` codes of `batch`; the CSV rows written for the printer."""
    out = io.StringIO()
    made = await generate_codes(batch, count, out, trace=settings.trace, now=T0)
    assert made == count
    return list(csv.DictReader(io.StringIO(out.getvalue())))
