"""What the mall routes read from requests: an item's JSON body, into the domain's
`ItemSpec` (create) or the dict of changes `update_item` takes (PATCH), and the
filters of the item and order lists.

Field names, JSON types, and values that fit their columns (32-bit integers, a title
of at most MAX_TITLE_CHARS characters as given) only; the item rules (lengths, prices,
limits, levels, the shelf window, what each kind may carry) are
`handlers.mall_items.check_spec`'s. `kind` and `stock` in a PATCH body are
passed on as given, for `update_item` to refuse by name. Datetimes are ISO 8601 with
their UTC offset; a null limit, window end or benefit length means none.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any

from aiohttp import web

from admin_api.errors import InputError
from admin_api.json_body import JsonObject
from handlers.mall_items import FIXED_AFTER_CREATE, MAX_TITLE_CHARS, ItemSpec
from models.mall import ItemKind

MAX_INTEGER = 2**31 - 1


def _title(body: JsonObject, name: str) -> str:
    # check_spec measures the title stripped; the column holds it as given.
    return body.text(name, max_chars=MAX_TITLE_CHARS)


def _integer(body: JsonObject, name: str) -> int:
    value = body.integer(name)
    if not -MAX_INTEGER <= value <= MAX_INTEGER:
        raise InputError(body.path(name), f"must be within ±{MAX_INTEGER}")
    return value


def _integer_or_null(body: JsonObject, name: str) -> int | None:
    return None if body.data.get(name) is None else _integer(body, name)


def _values(kind: type[StrEnum]) -> list[str]:
    return [member.value for member in kind]


def _kind(body: JsonObject, name: str) -> ItemKind:
    raw = body.text(name)
    if raw not in _values(ItemKind):
        raise InputError(body.path(name), f"must be one of {', '.join(_values(ItemKind))}")
    return ItemKind(raw)


def _levels(body: JsonObject, name: str) -> list[int]:
    values = body.data.get(name)
    if not isinstance(values, list):
        raise InputError(body.path(name), "must be an array of level numbers")
    for index, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(f"{body.path(name)}[{index}]", "must be a level number")
    return list(values)


# Each body field sets the `ItemSpec` attribute of the same name.
_READERS: dict[str, Callable[[JsonObject, str], Any]] = {
    "title": _title,
    "kind": _kind,
    "points_price": _integer,
    "stock": _integer,
    "images": JsonObject.texts,
    "description": JsonObject.text,
    "per_member_limit": _integer_or_null,
    "per_member_daily_limit": _integer_or_null,
    "levels": _levels,
    "on_shelf": JsonObject.flag,
    "shelf_from": JsonObject.moment,
    "shelf_until": JsonObject.moment,
    "sort_order": _integer,
    "benefit_code": JsonObject.text,
    "benefit_days": _integer_or_null,
}


def new_spec(body: JsonObject) -> ItemSpec:
    body.only(_READERS)  # unknown fields first, then the missing ones
    body.require("title", "kind", "points_price")
    return ItemSpec(**{name: read(body, name) for name, read in _READERS.items()
                       if body.has(name)})


def item_changes(body: JsonObject) -> dict[str, Any]:
    body.only(_READERS)
    return {name: body.data[name] if name in FIXED_AFTER_CREATE else read(body, name)
            for name, read in _READERS.items() if body.has(name)}


def enum_filter(request: web.Request, name: str, kind: type[StrEnum]) -> str | None:
    """The query parameter, one of the enum's values, or None when absent."""
    raw = request.query.get(name)
    if raw is not None and raw not in _values(kind):
        raise InputError(name, f"must be one of {', '.join(_values(kind))}")
    return raw


def moment_filter(request: web.Request, name: str) -> datetime | None:
    """An ISO 8601 date-time with its UTC offset (`+` written `%2B` in a URL), or None."""
    return JsonObject(request.query).moment(name)
