"""安心码 traceability: products (GTIN), their batches (lots), the batches' trace events
in the shape of GS1 EPCIS, the codes printed on units, and every scan of a code.

A code's serial (handlers/trace_serials.py) is its primary key: it is unique among all
codes, and signed over its GTIN and lot, so a scan is checked before this table is
read. `TraceCode` holds what the verdict needs without a join on the hot path: its
batch, when and where it was first verified, how often it was verified and scanned,
and the scratch-PIN lock.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class Product(Model):
    """A trade item. `tags` ([{group, name}]) are what a shopper who adds a guide from
    its scan page gets, through the product's `anxin_code` channel (`channel_id`)."""

    id = fields.BigIntField(primary_key=True)
    gtin = fields.CharField(max_length=14, unique=True)
    name = fields.CharField(max_length=64)
    sku = fields.CharField(max_length=64, default="")
    images: fields.Field[list[str]] = fields.JSONField(default=list)
    tags: fields.Field[list[dict[str, str]]] = fields.JSONField(default=list)
    channel_id = fields.BigIntField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "trace_product"


class BatchStatus(StrEnum):
    ACTIVE = "active"
    RECALLED = "recalled"


class Batch(Model):
    """A lot of a product. `region` lists the provinces or cities it is sold in (empty:
    anywhere). With `pin_required`, a code counts as verified only with its PIN."""

    id = fields.BigIntField(primary_key=True)
    product_id = fields.BigIntField()
    gtin = fields.CharField(max_length=14)
    lot = fields.CharField(max_length=20)
    production_date = fields.DateField()
    expiry_date = fields.DateField(null=True)
    factory = fields.CharField(max_length=128, default="")
    qa_report_url = fields.CharField(max_length=512, default="")
    qa_report_hash = fields.CharField(max_length=128, default="")
    status = fields.CharEnumField(BatchStatus, max_length=16, default=BatchStatus.ACTIVE)
    region: fields.Field[list[str]] = fields.JSONField(default=list)
    pin_required = fields.BooleanField(default=False)
    recalled_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "trace_batch"
        unique_together = (("gtin", "lot"),)
        indexes = (("lot",),)


class BizStep(StrEnum):
    COMMISSIONING = "commissioning"
    INSPECTING = "inspecting"
    PACKING = "packing"
    SHIPPING = "shipping"
    RECEIVING = "receiving"
    RETAIL_SELLING = "retail_selling"


class TraceEvent(Model):
    """One EPCIS-shaped event of a batch: when (with the zone offset it happened in),
    the business step and disposition, where (location) and who (party). `key` is a
    digest of those, so the same event imported twice is stored once."""

    id = fields.BigIntField(primary_key=True)
    batch_id = fields.BigIntField()
    event_time = fields.DatetimeField()
    time_zone_offset = fields.CharField(max_length=6)
    biz_step = fields.CharEnumField(BizStep, max_length=24)
    disposition = fields.CharField(max_length=32, default="")
    location = fields.CharField(max_length=128, default="")
    party = fields.CharField(max_length=128, default="")
    details: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    key = fields.CharField(max_length=64)
    created_at = fields.DatetimeField()

    class Meta:
        table = "trace_event"
        unique_together = (("batch_id", "key"),)
        indexes = (("batch_id", "event_time"),)


class TraceCode(Model):
    """One printed code (one unit)."""

    serial = fields.CharField(max_length=20, primary_key=True)
    batch_id = fields.BigIntField()
    created_at = fields.DatetimeField()
    verified_at = fields.DatetimeField(null=True)
    verified_city = fields.CharField(max_length=64, null=True)
    verified_member_id = fields.BigIntField(null=True)
    verifications = fields.IntField(default=0)
    scans = fields.IntField(default=0)
    pin_failures = fields.IntField(default=0)
    locked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "trace_code"
        indexes = (("batch_id",),)


class CodeScan(Model):
    """One scan of a code by a person (crawlers and link previews are not recorded),
    with its verdict. `client` is a keyed hash of the client address, never the
    address."""

    id = fields.BigIntField(primary_key=True)
    serial = fields.CharField(max_length=20)
    at = fields.DatetimeField()
    city = fields.CharField(max_length=64, default="")
    member_id = fields.BigIntField(null=True)
    verdict = fields.CharField(max_length=24)
    client = fields.CharField(max_length=16, default="")

    class Meta:
        table = "code_scan"
        indexes = (("serial", "at"),)
