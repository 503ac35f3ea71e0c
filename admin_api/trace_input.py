"""What the 安心码 catalogue routes read from JSON: a product body into the domain's
`ProductSpec`, a batch body into a `BatchSpec`, and trace events (one event object, or
`{"events": [...]}`) into `EventSpec`s; also the `?gtin=` query parameter.

Field names and JSON types only; the catalogue's rules (the GTIN check digit, the
characters of a lot, lengths, dates, known guides and tags) are
`handlers.trace_catalog`'s. An event is checked here against those rules as soon as it
is read (`check_event`), so that its refusal names the field where the body or the
CSV file (trace_events.py) has it. Dates are YYYY-MM-DD; an event's time is ISO 8601
with its UTC offset.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from aiohttp import web

from admin_api.channel_input import read_tags
from admin_api.errors import InputError
from admin_api.json_body import JsonObject
from handlers.trace_catalog import BatchSpec, EventSpec, ProductSpec, check_event, valid_gtin
from models.trace import BizStep

BIZ_STEPS = tuple(step.value for step in BizStep)


def _day_or_null(body: JsonObject, name: str) -> date | None:
    return None if body.data.get(name) is None else body.day(name)


def _event_time(body: JsonObject, name: str) -> datetime:
    moment = body.moment(name)
    if moment is None:
        raise InputError(body.path(name), "is required (ISO 8601 with its UTC offset)")
    return moment


def _biz_step(body: JsonObject, name: str) -> BizStep:
    value = body.text(name)
    if value not in BIZ_STEPS:
        raise InputError(body.path(name), f"must be one of {', '.join(BIZ_STEPS)}")
    return BizStep(value)


def _details(body: JsonObject, name: str) -> dict[str, Any]:
    return dict(body.child(name).data)


# Each body field sets the spec's attribute of the same name.
_PRODUCT_READERS: dict[str, Callable[[JsonObject, str], Any]] = {
    "gtin": JsonObject.text,
    "name": JsonObject.text,
    "tags": read_tags,
    "sku": JsonObject.text,
    "images": JsonObject.texts,
    "guides": JsonObject.texts,
    "welcome_text": JsonObject.text,
    "create_missing_tags": JsonObject.flag,
}
_BATCH_READERS: dict[str, Callable[[JsonObject, str], Any]] = {
    "gtin": JsonObject.text,
    "lot": JsonObject.text,
    "production_date": JsonObject.day,
    "expiry_date": _day_or_null,
    "factory": JsonObject.text,
    "region": JsonObject.texts,
    "qa_report_url": JsonObject.text,
    "qa_report_hash": JsonObject.text,
    "pin_required": JsonObject.flag,
}
_EVENT_READERS: dict[str, Callable[[JsonObject, str], Any]] = {
    "event_time": _event_time,
    "biz_step": _biz_step,
    "disposition": JsonObject.text,
    "location": JsonObject.text,
    "party": JsonObject.text,
    "details": _details,
}


def _read(body: JsonObject, readers: dict[str, Callable[[JsonObject, str], Any]],
          *required: str) -> dict[str, Any]:
    body.only(readers)  # unknown fields first, then the missing ones
    body.require(*required)
    return {name: read(body, name) for name, read in readers.items() if body.has(name)}


def product_spec(body: JsonObject) -> ProductSpec:
    return ProductSpec(**_read(body, _PRODUCT_READERS, "gtin", "name", "tags"))


def batch_spec(body: JsonObject) -> BatchSpec:
    return BatchSpec(**_read(body, _BATCH_READERS, "gtin", "lot", "production_date"))


def event_spec(body: JsonObject) -> EventSpec:
    """One event, checked; a refusal's field carries the object's path (`events[2].`)."""
    spec = EventSpec(**_read(body, _EVENT_READERS, "event_time", "biz_step"))
    check_event(spec, body.prefix)
    return spec


def event_specs(body: JsonObject) -> list[EventSpec]:
    """The events of a body: `{"events": [...]}` (at least one), or one event object."""
    if not body.has("events"):
        return [event_spec(body)]
    body.only(("events",))
    events = [event_spec(item) for item in body.children("events")]
    if not events:
        raise InputError("events", "at least one event")
    return events


def gtin_filter(request: web.Request) -> str | None:
    """The `?gtin=` parameter (a valid GTIN-14), or None when absent."""
    raw = request.query.get("gtin")
    return None if raw is None else valid_gtin(raw)
