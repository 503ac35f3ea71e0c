"""`POST /admin/api/trace/batches/{lot}/events`: a batch's trace events, as one JSON
event object, `{"events": [...]}`, a CSV body (`text/csv`) or a CSV file in a multipart
upload (at most MAX_UPLOAD_BYTES).

CSV: a header row (names matched case-insensitively) with the columns event_time and
biz_step, optionally disposition, location and party; every other column goes into the
event's `details` under its name as written. Blank cells say nothing (a blank detail is
left out), blank lines are skipped, a UTF-8 byte order mark is skipped. Every row is
checked first, and one bad row refuses the whole file (400 `invalid_rows`, listing up to
MAX_REPORTED bad rows by line, the header being line 1) with nothing stored.

Events are stored once whatever the number of imports (handlers.trace_catalog keys them
on their content): the answer `{"added", "duplicates"}` is 201 when the request added
an event, 200 when every event was stored already.
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from collections.abc import Iterator

from aiohttp import web

from admin_api.errors import InputError
from admin_api.json_body import JsonObject, read_object
from admin_api.points import operator_of
from admin_api.trace_batches import batch_of
from admin_api.trace_input import event_spec, event_specs
from admin_api.upload import InvalidRows, receive
from bot.request_clock import app_now
from handlers.input_error import DomainInputError
from handlers.order_csv import MAX_REPORTED, Checked
from handlers.order_rows import RowError
from handlers.trace_catalog import EventSpec, add_events

log = logging.getLogger("scrm.admin")

MAX_UPLOAD_BYTES = 4 * 1024 * 1024
CSV_COLUMNS = ("event_time", "biz_step", "disposition", "location", "party")
REQUIRED_COLUMNS = ("event_time", "biz_step")
_CSV_TYPES = ("text/csv", "application/csv", "text/plain")


async def add_events_route(request: web.Request) -> web.Response:
    if request.content_type == "application/json":
        events = event_specs(await read_object(request))
    else:
        events = await _uploaded_events(request)
    batch = await batch_of(request)
    added = await add_events(batch, events, now=app_now(request))
    log.info("admin.trace.events_added batch_id=%s lot=%s added=%d duplicates=%d "
             "operator=%s", batch.id, batch.lot, added, len(events) - added,
             operator_of(request))
    return web.json_response({"added": added, "duplicates": len(events) - added},
                             status=201 if added else 200)


async def _uploaded_events(request: web.Request) -> list[EventSpec]:
    with io.BytesIO() as sink:
        await receive(
            request, sink, accepted=_CSV_TYPES, max_bytes=MAX_UPLOAD_BYTES,
            too_large=f"an upload over {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB; split the file",
            expected='send application/json (an event, or {"events": [...]}), text/csv, '
                     "or multipart/form-data with a CSV file")
        raw = sink.getvalue()
    # A large file takes a while to check: in a thread, so the server keeps answering.
    return await asyncio.to_thread(csv_events, raw)


def csv_events(raw: bytes) -> list[EventSpec]:
    """Every event of the CSV file; InvalidRows when a row is bad."""
    try:
        text = raw.decode("utf-8-sig")  # spreadsheet programs write a byte order mark
    except UnicodeDecodeError:
        raise InputError("body", "not UTF-8 text (save the file as CSV UTF-8)") from None
    events: list[EventSpec] = []
    refused = Checked()
    for row in _rows(text):
        if isinstance(row, EventSpec):
            events.append(row)
            continue
        refused.invalid += 1
        if len(refused.errors) < MAX_REPORTED:
            refused.errors.append(row)
    if refused.invalid:
        refused.valid = len(events)
        raise InvalidRows(refused)
    if not events:
        raise InputError("body", "the file holds no events, only a header")
    return events


def _rows(text: str) -> Iterator[EventSpec | RowError]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        yield RowError(1, "header", f"not a readable CSV row: {exc}")
        return
    if not header:
        yield RowError(1, "header", "the file is empty: a header row is required")
        return
    names = [_column(cell) for cell in header]
    problem = _header_problem(names)
    if problem:
        yield RowError(1, "header", problem)
        return
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield RowError(reader.line_num + 1, "row", f"not a readable CSV row: {exc}")
            return
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(names):
            yield RowError(reader.line_num, "row", "more fields than the header has")
            continue
        yield _event(dict(zip(names, cells, strict=False)), reader.line_num)


def _column(name: str) -> str:
    """The column's name: one of CSV_COLUMNS in any case, or a detail's as written."""
    name = name.strip()
    return name.lower() if name.lower() in CSV_COLUMNS else name


def _header_problem(names: list[str]) -> str:
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        return f"missing column(s): {', '.join(missing)}"
    if "" in names:
        return f"column {names.index('') + 1} has no name"
    repeated = sorted({name for name in names if names.count(name) > 1})
    return f"column(s) named twice: {', '.join(repeated)}" if repeated else ""


def _event(cells: dict[str, str], line: int) -> EventSpec | RowError:
    given = {name: value.strip() for name, value in cells.items() if value.strip()}
    fields: dict[str, object] = {n: v for n, v in given.items() if n in CSV_COLUMNS}
    details = {n: v for n, v in given.items() if n not in CSV_COLUMNS}
    if details:
        fields["details"] = details
    try:
        return event_spec(JsonObject(fields))
    except DomainInputError as exc:
        return RowError(line, exc.field, exc.message)
    except InputError as exc:
        field = str(exc.extra["field"])
        return RowError(line, field, exc.message.removeprefix(f"{field}: "))


routes = [web.post("/trace/batches/{lot}/events", add_events_route)]
