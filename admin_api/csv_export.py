"""CSV answers of the admin API's lists and reports: whether a request asks for CSV
(`?format=csv`, or `Accept: text/csv`), the headers that make it a download, and the
export of every row a query matches, streamed in batches.

A streamed export pages by id (`id > last`), not by offset, so rows added while it runs
neither shift nor repeat what it sends, and memory stays at one batch however many
rows there are. The cells are written by `handlers.sop_report.csv_text`, the one CSV
writer of the reports.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from aiohttp import web
from tortoise.models import Model
from tortoise.queryset import QuerySet

from bot import query
from handlers.sop_report import csv_text

M = TypeVar("M", bound=Model)


def wants_csv(request: web.Request) -> bool:
    if "format" in request.query:
        return query.choice(request, "format", ("json", "csv")) == "csv"
    return "text/csv" in request.headers.get("Accept", "")


def csv_headers(filename: str) -> dict[str, str]:
    return {"Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"'}


async def stream_csv(request: web.Request, rows: QuerySet[M], columns: Sequence[str],
                     shape: Callable[[list[M]], Awaitable[Iterable[Mapping[str, Any]]]],
                     filename: str, *, batch: int) -> web.StreamResponse:
    """Every row of `rows` in id order, as CSV with a header row, `batch` rows at a time;
    `shape` turns a batch of rows into the CSV's rows (a query or two per batch, not
    per row)."""
    response = web.StreamResponse(headers=csv_headers(filename))
    await response.prepare(request)
    await response.write(csv_text(columns, (), header=True).encode())
    last = 0
    while found := await rows.filter(id__gt=last).order_by("id").limit(batch):
        await response.write(csv_text(columns, await shape(found), header=False).encode())
        last = found[-1].pk
    await response.write_eof()
    return response
