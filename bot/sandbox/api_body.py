"""Reading the fields of a /cgi-bin/ JSON body, the way WeCom refuses them.

A field of the wrong JSON type answers 40058 (invalid parameter); an absent or null
field gives the default. Lengths are checked in characters or UTF-8 bytes, as each
WeCom limit is stated (wecom-protocol.md §3).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.sandbox.errors import INVALID_PARAMETER, ApiError


def _field(body: Mapping[str, Any], name: str, kind: type, default: Any) -> Any:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ApiError(INVALID_PARAMETER)
    return value


def text(body: Mapping[str, Any], name: str, default: str = "") -> str:
    return str(_field(body, name, str, default))


def integer(body: Mapping[str, Any], name: str, default: int = 0) -> int:
    return int(_field(body, name, int, default))


def flag(body: Mapping[str, Any], name: str, default: bool) -> bool:
    return bool(_field(body, name, bool, default))


def obj(body: Mapping[str, Any], name: str) -> dict[str, Any]:
    return dict(_field(body, name, dict, {}))


def items(body: Mapping[str, Any], name: str, kind: type = str) -> list[Any]:
    """A list whose every item is of `kind`; [] when absent."""
    values = _field(body, name, list, [])
    if not all(isinstance(v, kind) and not isinstance(v, bool) for v in values):
        raise ApiError(INVALID_PARAMETER)
    return list(values)


def within(value: str, max_chars: int, errcode: int = INVALID_PARAMETER) -> str:
    """`value` if it has at most `max_chars` characters, else ApiError(errcode)."""
    if len(value) > max_chars:
        raise ApiError(errcode)
    return value


def within_bytes(value: str, max_bytes: int, errcode: int = INVALID_PARAMETER) -> str:
    if len(value.encode("utf-8")) > max_bytes:
        raise ApiError(errcode)
    return value
