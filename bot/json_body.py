"""Reading a JSON request body, for every HTTP edge: size limit, syntax, and typed access
to its fields.

`read_object` refuses a body over the edge's limit (413), one that is not UTF-8 JSON,
or not a JSON object (400, field "body"). `JsonObject` hands out fields with their
types checked, naming the field (with its path, e.g. "welcome.text") in the
`InputError` when a value is missing or of the wrong type. Domain rules (lengths,
counts, known guides) are the handlers' business, not this module's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any, TypeVar

from aiohttp import web

from bot.http_errors import BodyTooLarge, InputError

T = TypeVar("T")


async def read_object(request: web.Request, max_bytes: int) -> JsonObject:
    if request.content_length is not None and request.content_length > max_bytes:
        raise BodyTooLarge(f"body over {max_bytes // 1024} KiB")
    raw = await request.content.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise BodyTooLarge(f"body over {max_bytes // 1024} KiB")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InputError("body", "not valid JSON") from None
    if not isinstance(data, dict):
        raise InputError("body", "must be a JSON object")
    return JsonObject(data)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "an array", dict: "an object"}.get(type(value), type(value).__name__)


class JsonObject:
    """A JSON object from a request; `prefix` is its path inside the body."""

    def __init__(self, data: Mapping[str, Any], prefix: str = "") -> None:
        self.data = data
        self.prefix = prefix

    def path(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def has(self, name: str) -> bool:
        return name in self.data

    def only(self, allowed: Iterable[str]) -> None:
        """Refuse fields the route does not know (a typo would otherwise be ignored)."""
        unknown = sorted(set(self.data) - set(allowed))
        if unknown:
            raise InputError(self.path(unknown[0]), "unknown field")

    def apply(self, target: T, readers: Mapping[str, Callable[[JsonObject, str], Any]]) -> T:
        """Refuse fields not in `readers`; set each attribute of `target` whose field the
        body carries to what its reader reads (a PATCH onto the stored thing's spec)."""
        self.only(readers)
        for name, read in readers.items():
            if self.has(name):
                setattr(target, name, read(self, name))
        return target

    def require(self, *names: str) -> None:
        for name in names:
            if name not in self.data:
                raise InputError(self.path(name), "is required")

    def _get(self, name: str, kind: type, expected: str) -> Any:
        value = self.data.get(name)
        if not isinstance(value, kind):
            raise InputError(self.path(name), f"must be {expected}, got {_type_name(value)}")
        return value

    def text(self, name: str, *, max_chars: int | None = None) -> str:
        """A string; with `max_chars`, also 1..max_chars characters long."""
        value = str(self._get(name, str, "a string"))
        if max_chars is not None and not 1 <= len(value) <= max_chars:
            raise InputError(self.path(name), f"must be 1-{max_chars} characters")
        return value

    def integer(self, name: str, *, minimum: int | None = None) -> int:
        value = self.data.get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(self.path(name), f"must be an integer, got {_type_name(value)}")
        if minimum is not None and value < minimum:
            raise InputError(self.path(name), f"must be >= {minimum}")
        return value

    def flag(self, name: str) -> bool:
        return bool(self._get(name, bool, "a boolean"))

    def texts(self, name: str) -> list[str]:
        values = self._get(name, list, "an array of strings")
        for index, value in enumerate(values):
            if not isinstance(value, str):
                raise InputError(f"{self.path(name)}[{index}]",
                                 f"must be a string, got {_type_name(value)}")
        return list(values)

    def child(self, name: str) -> JsonObject:
        return JsonObject(self._get(name, dict, "an object"), f"{self.path(name)}.")

    def children(self, name: str) -> list[JsonObject]:
        values = self._get(name, list, "an array of objects")
        out = []
        for index, value in enumerate(values):
            where = f"{self.path(name)}[{index}]"
            if not isinstance(value, dict):
                raise InputError(where, f"must be an object, got {_type_name(value)}")
            out.append(JsonObject(value, f"{where}."))
        return out

    def objects(self, name: str) -> list[dict[str, Any]]:
        """An array of objects kept as plain dicts (their content is the domain's)."""
        return [dict(child.data) for child in self.children(name)]

    def counts(self, name: str) -> dict[str, int]:
        values = self._get(name, dict, "an object of integers")
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, int):
                raise InputError(f"{self.path(name)}.{key}",
                                 f"must be an integer, got {_type_name(value)}")
        return dict(values)

    def flags(self, name: str) -> dict[str, bool]:
        values = self._get(name, dict, "an object of booleans")
        for key, value in values.items():
            if not isinstance(value, bool):
                raise InputError(f"{self.path(name)}.{key}",
                                 f"must be a boolean, got {_type_name(value)}")
        return dict(values)

    def day(self, name: str) -> date:
        """A calendar date, YYYY-MM-DD."""
        raw = self._get(name, str, "a date, YYYY-MM-DD")
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise InputError(self.path(name), "must be a date, YYYY-MM-DD") from None

    def moment(self, name: str) -> datetime | None:
        """An ISO 8601 date-time with its UTC offset, or null."""
        if self.data.get(name) is None:
            return None
        raw = self._get(name, str, "an ISO 8601 date-time or null")
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise InputError(self.path(name), "not an ISO 8601 date-time") from None
        if value.tzinfo is None:
            raise InputError(self.path(name), "needs a UTC offset, e.g. 2025-03-01T00:00:00+08:00")
        return value
