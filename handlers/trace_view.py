"""How a 安心码 scan answer looks in JSON: the mini-program's `POST /trace/scan` answers
it, and the public scan page (bot/scan_page.py) renders the same object as HTML, so
both always say the same.

`{"verdict", "reasons", "warning", "pin_required", "points_awarded", "code", "product",
"batch", "trace", "history", "guide"}`. Dates are ISO 8601 (`YYYY-MM-DD`); instants
are ISO 8601 in UTC, except a trace event's `event_time`, given in the zone it
happened in (`time_zone_offset`, as EPCIS has it). For `not_genuine` everything about
the code is null or empty: nothing about a forged or unknown code is revealed, not even
whether its signature was right.
"""

from __future__ import annotations

import json
import weakref
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from bot.settings import TraceSettings
from handlers.trace_links import CodeRef, code_uri
from handlers.trace_records import BatchFacts, CodeState, Guide
from handlers.trace_scan import ScanResult
from models.trace import Batch, Product, TraceEvent


def instant(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def local_time(moment: datetime, offset: str) -> datetime:
    """`moment` in the zone of an EPCIS offset ("+08:00", "-05:30")."""
    sign = -1 if offset.startswith("-") else 1
    hours, _, minutes = offset[1:].partition(":")
    return moment.astimezone(timezone(sign * timedelta(hours=int(hours),
                                                       minutes=int(minutes or 0))))


def code_json(code: CodeState, batch: Batch, trace: TraceSettings) -> dict[str, str]:
    ref = CodeRef(batch.gtin, batch.lot, code.serial)
    return {"gtin": ref.gtin, "lot": ref.lot, "serial": ref.serial,
            "uri": code_uri(trace.base_url, ref)}


def product_json(product: Product) -> dict[str, Any]:
    return {"gtin": product.gtin, "name": product.name, "sku": product.sku,
            "images": list(product.images)}


def batch_json(batch: Batch) -> dict[str, Any]:
    return {
        "lot": batch.lot,
        "production_date": batch.production_date.isoformat(),
        "expiry_date": batch.expiry_date.isoformat() if batch.expiry_date else None,
        "factory": batch.factory,
        "region": list(batch.region),
        "status": batch.status.value,
        "qa_report": ({"url": batch.qa_report_url, "hash": batch.qa_report_hash}
                      if batch.qa_report_url else None),
    }


def event_json(event: TraceEvent) -> dict[str, Any]:
    return {
        "event_time": local_time(event.event_time, event.time_zone_offset).isoformat(),
        "time_zone_offset": event.time_zone_offset,
        "biz_step": event.biz_step.value,
        "disposition": event.disposition,
        "location": event.location,
        "party": event.party,
        "details": dict(event.details),
    }


def history_json(code: CodeState) -> dict[str, Any]:
    return {"scans": code.scans, "verifications": code.verifications,
            "first_verified_at": instant(code.verified_at),
            "first_verified_city": code.verified_city or None}


def guide_json(guide: Guide | None) -> dict[str, str] | None:
    """The "add your guide" QR of the product's channel, when it has one."""
    if guide is None:
        return None
    return {"qr_url": guide.qr_url, "channel_state": guide.channel_state}


def facts_json(facts: BatchFacts | None) -> dict[str, Any]:
    """The part of the answer every scan of a batch shares."""
    if facts is None:
        return {"product": None, "batch": None, "trace": [], "guide": None}
    return {
        "product": product_json(facts.product) if facts.product is not None else None,
        "batch": batch_json(facts.batch),
        "trace": [event_json(event) for event in facts.events],
        "guide": guide_json(facts.guide),
    }


def _own_json(result: ScanResult, trace: TraceSettings) -> dict[str, Any]:
    """The part of the answer that is this scan's."""
    answer: dict[str, Any] = {
        "verdict": result.verdict.value,
        "reasons": list(result.reasons),
        "warning": result.warning,
        "pin_required": result.pin_required,
        "points_awarded": result.points_awarded,
        "code": None,
        "history": None,
    }
    if result.code is not None and result.facts is not None:
        answer["code"] = code_json(result.code, result.facts.batch, trace)
        answer["history"] = history_json(result.code)
    return answer


def scan_json(result: ScanResult, trace: TraceSettings) -> dict[str, Any]:
    return {**_own_json(result, trace), **facts_json(result.facts)}


# The shared part as JSON object members, encoded once per cached BatchFacts (a batch
# read again, after a recall or new events, is a new BatchFacts).
_JSON = json.JSONEncoder(ensure_ascii=False)
_shared: weakref.WeakKeyDictionary[BatchFacts, str] = weakref.WeakKeyDictionary()


def scan_body(result: ScanResult, trace: TraceSettings) -> bytes:
    """`scan_json(result)` as UTF-8 JSON, its shared part encoded once per batch: the
    batch's trace timeline is most of an answer, and the same for every unit."""
    facts = result.facts
    if facts is None:
        return _JSON.encode(scan_json(result, trace)).encode()
    shared = _shared.get(facts)
    if shared is None:
        shared = _shared[facts] = _JSON.encode(facts_json(facts))[1:-1]
    own = _JSON.encode(_own_json(result, trace))
    return f"{own[:-1]}, {shared}}}".encode()
