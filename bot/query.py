"""Typed query-string parameters; a bad value is a 400 naming the parameter."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from aiohttp import web

from bot.http_errors import InputError


def integer(request: web.Request, name: str, default: int, low: int,
            high: int | None = None) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InputError(name, "must be an integer") from None
    if value < low or (high is not None and value > high):
        raise InputError(name, f"must be {low}..{high}" if high is not None else f">= {low}")
    return value


def flag(request: web.Request, name: str, default: bool = False) -> bool:
    raw = request.query.get(name)
    if raw is None:
        return default
    if raw not in ("true", "false"):
        raise InputError(name, "must be true or false")
    return raw == "true"


def choice(request: web.Request, name: str, options: Sequence[str]) -> str:
    """One of `options`; the first is the default."""
    raw = request.query.get(name, options[0])
    if raw not in options:
        raise InputError(name, f"must be one of {', '.join(options)}")
    return raw


def day(request: web.Request, name: str, default: date) -> date:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InputError(name, "must be a date, YYYY-MM-DD") from None


def path_id(request: web.Request, name: str = "id") -> int:
    """The numeric id in the path (the route's pattern already admits only digits)."""
    return int(request.match_info[name])
