"""The OpenAPI paths and schemas of the 安心码 catalogue routes (products, batches, trace
events); `openapi.py` merges them into the document."""

from __future__ import annotations

from typing import Any

from admin_api.openapi_ops import (
    INPUT,
    PAGE,
    WECOM,
    json_content,
    op,
    query_param,
    with_response,
)
from admin_api.openapi_schemas import (
    BOOLEAN,
    DATE_TIME,
    INTEGER,
    STRING,
    Schema,
    array,
    obj,
    page_of,
    ref,
)
from admin_api.trace_events import CSV_COLUMNS, MAX_UPLOAD_BYTES
from admin_api.trace_input import BIZ_STEPS
from handlers.order_csv import MAX_REPORTED
from handlers.trace_catalog import (
    MAX_DISPOSITION_CHARS,
    MAX_LOT_CHARS,
    MAX_NAME_CHARS,
    MAX_REGION_ENTRIES,
    MAX_TEXT_CHARS,
    MAX_URL_CHARS,
    PRODUCT_STATE_PREFIX,
)
from models.trace import BatchStatus

_GTIN: Schema = {**STRING, "pattern": r"^\d{14}$",
                 "description": "GTIN-14: 14 digits, the last a valid GS1 check digit (pad "
                                "a GTIN-13 with a leading 0)"}
_LOT: Schema = {**STRING, "minLength": 1, "maxLength": MAX_LOT_CHARS,
                "description": "GS1 CSET 82: letters, digits and !\"%&'()*+,-./:;<=>?_ "
                               "(no spaces); percent-encode it in a path"}
_DATE: Schema = {**STRING, "format": "date"}
_URL: Schema = {**STRING, "format": "uri", "maxLength": MAX_URL_CHARS}

_GTIN_PATH = {"name": "gtin", "in": "path", "required": True, "schema": _GTIN}
_LOT_PATH = {"name": "lot", "in": "path", "required": True, "schema": _LOT}
_GTIN_QUERY = query_param("gtin", "the product whose batch is meant, when products share "
                                  "the lot", _GTIN)

_PRODUCT_TAGS = array(obj({"group": STRING, "name": STRING}, "group", "name"))
_BATCH_FIELDS: dict[str, Schema] = {
    "gtin": _GTIN, "lot": _LOT, "production_date": _DATE,
    "expiry_date": {**_DATE, "nullable": True,
                    "description": "after production_date; null: none"},
    "factory": {**STRING, "maxLength": MAX_TEXT_CHARS},
    "region": {**array(STRING), "maxItems": MAX_REGION_ENTRIES,
               "description": "provinces or cities it is sold in; empty: anywhere"},
    "qa_report_url": {**_URL, "description": "the QA report (an http(s) URL)"},
    "qa_report_hash": {**STRING, "maxLength": MAX_TEXT_CHARS,
                       "description": "a digest of the QA report, e.g. its SHA-256"},
    "pin_required": {**BOOLEAN, "default": False,
                     "description": "a code counts as verified only with its scratch PIN"},
}
_EVENT_FIELDS: dict[str, Schema] = {
    "event_time": {**STRING, "format": "date-time",
                   "description": "ISO 8601 with its UTC offset, e.g. "
                                  "2025-03-01T10:00:00+08:00"},
    "biz_step": {**STRING, "enum": list(BIZ_STEPS)},
    "disposition": {**STRING, "maxLength": MAX_DISPOSITION_CHARS,
                    "description": "EPCIS disposition, e.g. active, in_transit, "
                                   "sellable_accessible"},
    "location": {**STRING, "maxLength": MAX_TEXT_CHARS},
    "party": {**STRING, "maxLength": MAX_TEXT_CHARS},
    "details": {"type": "object", "description": "anything else about the event"},
}

TRACE_SCHEMAS: dict[str, Schema] = {
    "TraceProductCreate": obj({
        "gtin": _GTIN,
        "name": {**STRING, "minLength": 1, "maxLength": MAX_NAME_CHARS},
        "tags": {**array(ref("TagName")),
                 "description": "what a shopper who adds a guide from the scan page gets"},
        "sku": {**STRING, "maxLength": MAX_NAME_CHARS},
        "images": array(_URL),
        "guides": {**array(STRING), "description": "userids answering the product's "
                                                   "scanners; default: trace.default_guides"},
        "welcome_text": {**STRING, "description": "the channel's welcome message"},
        "create_missing_tags": {**BOOLEAN, "description": "create unknown tags in WeCom"},
    }, "gtin", "name", "tags", additionalProperties=False),
    "TraceProduct": obj({
        "id": INTEGER, "gtin": _GTIN, "name": STRING, "sku": STRING, "images": array(STRING),
        "tags": _PRODUCT_TAGS,
        "channel": {**obj({"id": INTEGER, "state": STRING, "qr_code": STRING},
                          "id", "state", "qr_code"),
                    "nullable": True,
                    "description": f"its anxin_code channel, state {PRODUCT_STATE_PREFIX}"
                                   "<GTIN>"},
    }, "id", "gtin", "name", "sku", "images", "tags", "channel"),
    "TraceProductPage": page_of(ref("TraceProduct")),
    "TraceBatchCreate": obj(_BATCH_FIELDS, "gtin", "lot", "production_date",
                            additionalProperties=False),
    "TraceBatch": obj({
        "id": INTEGER, **_BATCH_FIELDS,
        "status": {**STRING, "enum": [status.value for status in BatchStatus]},
        "recalled_at": DATE_TIME,
        "product": obj({"gtin": _GTIN, "name": STRING}, "gtin", "name"),
    }, "id", *_BATCH_FIELDS, "status", "recalled_at", "product"),
    "TraceBatchPage": page_of(ref("TraceBatch")),
    "TraceBatchDetail": {"allOf": [ref("TraceBatch"), obj({
        "events": {**array(ref("TraceEvent")), "description": "in time order"},
        "codes": obj({"total": {**INTEGER, "description": "codes made for the batch"},
                      "verified": {**INTEGER, "description": "codes verified at least once"}},
                     "total", "verified"),
    }, "events", "codes")]},
    "TraceEventInput": obj(_EVENT_FIELDS, "event_time", "biz_step",
                           additionalProperties=False),
    "TraceEventList": obj({"events": {**array(ref("TraceEventInput")), "minItems": 1}},
                          "events", additionalProperties=False),
    "TraceEvent": obj({
        **_EVENT_FIELDS,
        "event_time": {**STRING, "format": "date-time",
                       "description": "in the zone it happened in"},
        "time_zone_offset": {**STRING, "description": "EPCIS eventTimeZoneOffset, e.g. "
                                                      "+08:00"},
    }, "event_time", "time_zone_offset", "biz_step", "disposition", "location", "party",
        "details"),
    "TraceEventsAdded": obj({
        "added": {**INTEGER, "description": "events stored now"},
        "duplicates": {**INTEGER, "description": "events stored before (same content)"},
    }, "added", "duplicates"),
    "InvalidRowsError": obj({"error": obj({
        "code": {**STRING, "enum": ["invalid_input", "invalid_rows"]}, "message": STRING,
        "field": {**STRING, "description": "invalid_input: the input at fault"},
        "invalid": {**INTEGER, "description": "invalid_rows: how many rows are bad"},
        "rows": {**array(obj({"line": INTEGER, "field": STRING, "message": STRING},
                             "line", "field", "message")),
                 "maxItems": MAX_REPORTED,
                 "description": "invalid_rows: the first bad rows (the header is line 1)"},
    }, "code", "message")}, "error"),
}

_EVENTS_BODY: dict[str, Any] = {
    "required": True,
    "description": f"CSV (UTF-8, a header row, at most {MAX_UPLOAD_BYTES // (1024 * 1024)} "
                   f"MiB): the columns {', '.join(CSV_COLUMNS)} (event_time and biz_step "
                   "required, names in any case); every other column goes into details "
                   "under its name; blank cells are left out. One bad row refuses the file.",
    "content": {
        "application/json": {"schema": {"oneOf": [ref("TraceEventInput"),
                                                  ref("TraceEventList")]}},
        "text/csv": {"schema": STRING},
        "multipart/form-data": {"schema": obj({"file": {**STRING, "format": "binary"}},
                                               "file")},
    },
}


def _by_lot(operation: dict[str, Any]) -> dict[str, Any]:
    """A route naming a batch by lot: 409 when products share it and no gtin says which."""
    return with_response(operation, "409", "ambiguous_lot: several products have this lot; "
                         "give ?gtin=", ref("Error"))


_ADD_EVENTS = {**op(
    "Add trace events to a batch: one, a list, or a CSV file; each is stored once",
    "addTraceEvents", (201, "events were added", json_content(ref("TraceEventsAdded"))),
    errors=(*INPUT, "NotFound"), parameters=(_LOT_PATH, _GTIN_QUERY)),
    "requestBody": _EVENTS_BODY}
with_response(_ADD_EVENTS, "200", "every event was stored before", ref("TraceEventsAdded"))
with_response(_ADD_EVENTS, "400", "invalid_input (`field`), or invalid_rows: a CSV with bad "
                                  "rows, nothing stored", ref("InvalidRowsError"))

TRACE_PATHS: dict[str, dict[str, Any]] = {
    "/trace/products": {
        "get": op("List 安心码 products, oldest first", "listTraceProducts",
                  (200, "a page of products", json_content(ref("TraceProductPage"))),
                  errors=("BadRequest",), parameters=PAGE),
        "post": op("Create a product with its anxin_code channel (a WeCom contact way with "
                   f"state {PRODUCT_STATE_PREFIX}<GTIN> and the product's tags)",
                   "createTraceProduct", (201, "the product", json_content(ref("TraceProduct"))),
                   errors=(*INPUT, *WECOM), body="TraceProductCreate"),
    },
    "/trace/products/{gtin}": {"get": op(
        "Read a product", "getTraceProduct",
        (200, "the product", json_content(ref("TraceProduct"))), errors=("NotFound",),
        parameters=(_GTIN_PATH,))},
    "/trace/batches": {
        "get": op("List batches, newest first", "listTraceBatches",
                  (200, "a page of batches", json_content(ref("TraceBatchPage"))),
                  errors=("BadRequest",),
                  parameters=(*PAGE, query_param("gtin", "only this product's batches",
                                                 _GTIN))),
        "post": op("Create a batch (lot) of a product", "createTraceBatch",
                   (201, "the batch", json_content(ref("TraceBatch"))), errors=INPUT,
                   body="TraceBatchCreate"),
    },
    "/trace/batches/{lot}": {"get": _by_lot(op(
        "Read a batch with its events in time order and its code counts", "getTraceBatch",
        (200, "the batch", json_content(ref("TraceBatchDetail"))),
        errors=("BadRequest", "NotFound"), parameters=(_LOT_PATH, _GTIN_QUERY)))},
    "/trace/batches/{lot}/events": {"post": _by_lot(_ADD_EVENTS)},
    "/trace/batches/{lot}/recall": {"post": _by_lot(op(
        "Recall a batch: every scan of its codes says so (again: changes nothing)",
        "recallTraceBatch", (200, "the batch", json_content(ref("TraceBatch"))),
        errors=("BadRequest", "NotFound"), parameters=(_LOT_PATH, _GTIN_QUERY)))},
}
