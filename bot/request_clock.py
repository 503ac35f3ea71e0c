"""The time a request sees: the app's injectable clock (bot/keys.py CLOCK) as a UTC
datetime, so every HTTP edge and the tests that move the clock agree."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from bot.keys import CLOCK


def app_now(request: web.Request) -> datetime:
    return datetime.fromtimestamp(request.config_dict[CLOCK](), UTC)
