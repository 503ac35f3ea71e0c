"""Offset pagination, the one scheme every list (admin and mini-program) uses.

Query: `?limit=` (1..`MAX_LIMIT`, default `DEFAULT_LIMIT`) and `?offset=` (>= 0,
default 0); anything else is a 400 naming the parameter. Answer:
`{"items": [...], "total": n, "limit": l, "offset": o}`, where `total` counts every
item the filter matches, so a client pages until `offset + limit >= total`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from tortoise.models import Model
from tortoise.queryset import QuerySet

from bot import query

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int

    @classmethod
    def of(cls, request: web.Request) -> Page:
        return cls(query.integer(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
                   query.integer(request, "offset", 0, 0))

    async def rows(self, queryset: QuerySet[M]) -> tuple[list[M], int]:
        """This page of an ordered query, and how many rows the whole query has."""
        total = await queryset.count()
        return list(await queryset.offset(self.offset).limit(self.limit)), total

    def answer(self, items: Sequence[Any], total: int) -> web.Response:
        return web.json_response({"items": list(items), "total": total,
                                  "limit": self.limit, "offset": self.offset})

    def cut(self, items: Sequence[Any]) -> web.Response:
        """Page through a list that is already in memory."""
        return self.answer(items[self.offset:self.offset + self.limit], len(items))
