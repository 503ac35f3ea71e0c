"""The 安心码 catalogue: products (GTIN-14), their batches (lots) and the batches' trace
events, as operators enter them (admin API, CSV import).

A product comes with its "add your guide" channel: an `anxin_code` channel
(handlers/channels.py) whose state names the product (`ax<GTIN>`) and whose tags are
the product's, so a shopper who adds a guide from a scan page arrives tagged with the
product through the ordinary onboarding. Events are EPCIS-shaped and keyed on their
content: importing the same file twice stores each event once.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from biip.gtin import Gtin, ParseError

from handlers.channels import ChannelSpec, create_channel, delete_channel
from handlers.input_error import DomainInputError
from handlers.ledger import utc
from handlers.tags import TagRef
from handlers.trace_links import CSET82
from handlers.trace_records import forget_batch
from models.channels import ChannelKind
from models.trace import Batch, BatchStatus, BizStep, Product, TraceEvent
from models.upsert import insert_rows

if TYPE_CHECKING:
    from bot.settings import Settings
    from bot.wecom import WeComClient

MAX_NAME_CHARS = 64
MAX_LOT_CHARS = 20
MAX_TEXT_CHARS = 128
MAX_URL_CHARS = 512
MAX_REGION_ENTRIES = 100
MAX_IMAGES = 9
MAX_DISPOSITION_CHARS = 32
PRODUCT_STATE_PREFIX = "ax"
_OFFSET = re.compile(r"[+-](0\d|1[0-4]):[0-5]\d")


class TraceInputError(DomainInputError):
    """Bad input about products, batches or trace events, naming the field."""


class UnknownProduct(LookupError):
    pass


class UnknownBatch(LookupError):
    pass


class AmbiguousLot(LookupError):
    """Products share the lot number: the GTIN must say which batch is meant."""


@dataclass
class ProductSpec:
    gtin: str
    name: str
    tags: list[TagRef] = field(default_factory=list)
    sku: str = ""
    images: list[str] = field(default_factory=list)
    guides: list[str] = field(default_factory=list)
    welcome_text: str = ""
    create_missing_tags: bool = False


@dataclass
class BatchSpec:
    gtin: str
    lot: str
    production_date: date
    expiry_date: date | None = None
    factory: str = ""
    region: list[str] = field(default_factory=list)
    qa_report_url: str = ""
    qa_report_hash: str = ""
    pin_required: bool = False


@dataclass
class EventSpec:
    event_time: datetime  # with its UTC offset
    biz_step: BizStep
    disposition: str = ""
    location: str = ""
    party: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def key(self) -> str:
        """The event's content digest (its identity for re-imports)."""
        content = [self.event_time.isoformat(), self.biz_step.value, self.disposition,
                   self.location, self.party, self.details]
        return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False)
                              .encode()).hexdigest()


def valid_gtin(text: str, where: str = "gtin") -> str:
    """The GTIN-14 (all 14 digits, check digit right); TraceInputError otherwise."""
    if not re.fullmatch(r"[0-9]{14}", text):
        raise TraceInputError(where, "a GTIN-14: 14 digits (pad a GTIN-13 with a 0)")
    try:
        Gtin.parse(text)
    except ParseError as exc:
        raise TraceInputError(where, str(exc)) from None
    return text


def valid_lot(text: str, where: str = "lot") -> str:
    if not CSET82.fullmatch(text):
        raise TraceInputError(where, f"1-{MAX_LOT_CHARS} characters of GS1 CSET 82 "
                                     "(letters, digits and !\"%&'()*+,-./:;<=>?_)")
    return text


def _bounded(value: str, where: str, max_chars: int = MAX_TEXT_CHARS) -> str:
    if len(value) > max_chars:
        raise TraceInputError(where, f"at most {max_chars} characters")
    return value


async def create_product(spec: ProductSpec, *, wecom: WeComClient, settings: Settings,
                         now: datetime) -> Product:
    """A new product with its `anxin_code` channel (state `ax<GTIN>`, the product's tags,
    its guides or trace.default_guides)."""
    gtin = valid_gtin(spec.gtin)
    if not 1 <= len(spec.name.strip()) <= MAX_NAME_CHARS:
        raise TraceInputError("name", f"must be 1-{MAX_NAME_CHARS} characters")
    _bounded(spec.sku, "sku", MAX_NAME_CHARS)
    if len(spec.images) > MAX_IMAGES:
        raise TraceInputError("images", f"at most {MAX_IMAGES}")
    for index, url in enumerate(spec.images):
        if not url.startswith(("https://", "http://")) or len(url) > MAX_URL_CHARS:
            raise TraceInputError(f"images[{index}]", "must be an http(s) URL")
    if await Product.exists(gtin=gtin):
        raise TraceInputError("gtin", f"product {gtin} exists already")
    guides = spec.guides or list(settings.trace.default_guides)
    if not guides:
        raise TraceInputError("guides", "name the guides who answer this product's "
                                        "scanners (or set trace.default_guides)")
    channel = await create_channel(ChannelSpec(
        name=f"安心码·{spec.name.strip()}"[:MAX_NAME_CHARS], kind=ChannelKind.ANXIN_CODE,
        guides=guides, tags=spec.tags, welcome_text=spec.welcome_text,
        state=f"{PRODUCT_STATE_PREFIX}{gtin}", create_missing_tags=spec.create_missing_tags),
        wecom)
    try:
        return await Product.create(
            gtin=gtin, name=spec.name.strip(), sku=spec.sku, images=spec.images,
            tags=[{"group": t.group, "name": t.name} for t in spec.tags],
            channel_id=channel.id, created_at=utc(now), updated_at=utc(now))
    except Exception:
        # Not stored (a concurrent creation of the GTIN): the channel goes too, or its
        # state would stay taken and the next try could never make one.
        await delete_channel(channel, wecom)
        raise


async def product_of(gtin: str) -> Product:
    product = await Product.get_or_none(gtin=gtin)
    if product is None:
        raise UnknownProduct(f"no product {gtin}")
    return product


def _check_batch(spec: BatchSpec) -> None:
    valid_gtin(spec.gtin)
    valid_lot(spec.lot)
    if spec.expiry_date is not None and spec.expiry_date <= spec.production_date:
        raise TraceInputError("expiry_date", "must be after production_date")
    _bounded(spec.factory, "factory")
    _bounded(spec.qa_report_hash, "qa_report_hash")
    if spec.qa_report_url and (not spec.qa_report_url.startswith(("https://", "http://"))
                               or len(spec.qa_report_url) > MAX_URL_CHARS):
        raise TraceInputError("qa_report_url", "must be an http(s) URL")
    if len(spec.region) > MAX_REGION_ENTRIES:
        raise TraceInputError("region", f"at most {MAX_REGION_ENTRIES} places")
    for index, place in enumerate(spec.region):
        if not 1 <= len(place.strip()) <= 64:
            raise TraceInputError(f"region[{index}]", "a province or city, 1-64 characters")


async def create_batch(spec: BatchSpec, *, now: datetime) -> Batch:
    _check_batch(spec)
    product = await Product.get_or_none(gtin=spec.gtin)
    if product is None:
        raise TraceInputError("gtin", f"no product {spec.gtin}: create it first")
    if await Batch.exists(gtin=spec.gtin, lot=spec.lot):
        raise TraceInputError("lot", f"lot {spec.lot} of {spec.gtin} exists already")
    return await Batch.create(
        product_id=product.id, gtin=spec.gtin, lot=spec.lot,
        production_date=spec.production_date, expiry_date=spec.expiry_date,
        factory=spec.factory, region=[p.strip() for p in spec.region],
        qa_report_url=spec.qa_report_url, qa_report_hash=spec.qa_report_hash,
        pin_required=spec.pin_required, created_at=utc(now), updated_at=utc(now))


async def find_batch(lot: str, gtin: str | None = None) -> Batch:
    """The batch with this lot (of this GTIN when given); AmbiguousLot when several
    products have the lot and no GTIN says which."""
    scope: dict[str, Any] = {"lot": lot}
    if gtin:
        scope["gtin"] = gtin
    found = await Batch.filter(**scope).limit(2)
    if not found:
        raise UnknownBatch(f"no batch {lot}" + (f" of {gtin}" if gtin else ""))
    if len(found) > 1:
        raise AmbiguousLot(f"lot {lot} belongs to several products: give the gtin")
    return found[0]


async def recall_batch(batch: Batch, *, now: datetime) -> Batch:
    """Mark the batch recalled: every scan of its codes says so from now on. Recalling
    it again changes nothing (the first recall's time stays)."""
    await Batch.filter(id=batch.id, status=BatchStatus.ACTIVE).update(
        status=BatchStatus.RECALLED, recalled_at=utc(now), updated_at=utc(now))
    forget_batch(batch.id)
    return await Batch.get(id=batch.id)


def check_event(spec: EventSpec, where: str = "") -> None:
    if spec.event_time.tzinfo is None:
        raise TraceInputError(f"{where}event_time", "needs its UTC offset")
    for name in ("disposition", "location", "party"):
        _bounded(getattr(spec, name), f"{where}{name}", MAX_DISPOSITION_CHARS
                 if name == "disposition" else MAX_TEXT_CHARS)


def zone_offset(moment: datetime) -> str:
    """EPCIS's eventTimeZoneOffset of an aware datetime, e.g. "+08:00"."""
    text = moment.isoformat()[-6:]
    return text if _OFFSET.fullmatch(text) else "+00:00"


async def add_events(batch: Batch, events: Sequence[EventSpec], *, now: datetime) -> int:
    """Store the batch's events (checked first, all or none); how many were new (an
    event stored before is not stored again)."""
    for index, spec in enumerate(events):
        check_event(spec, f"events[{index}]." if len(events) > 1 else "")
    added = await insert_rows(TraceEvent, [
        {"batch_id": batch.id, "event_time": utc(spec.event_time),
         "time_zone_offset": zone_offset(spec.event_time), "biz_step": spec.biz_step,
         "disposition": spec.disposition, "location": spec.location, "party": spec.party,
         "details": spec.details, "key": spec.key(), "created_at": utc(now)}
        for spec in events], unless=("batch_id", "key"))
    forget_batch(batch.id)  # once they are stored: the next scan reads them
    return added


async def timeline(batch_id: int) -> list[TraceEvent]:
    """The batch's events in time order."""
    return list(await TraceEvent.filter(batch_id=batch_id).order_by("event_time", "id"))
