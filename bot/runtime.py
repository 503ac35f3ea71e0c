"""Resources for processes that are not the HTTP server (worker, sync, event tools):
database, Redis, an HTTP session and the WeCom client, opened and closed together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
from redis.asyncio import Redis

from bot import db
from bot.redis_conn import open_redis
from bot.settings import Settings
from bot.wecom import WeComClient
from handlers.member_cache import announcing


@dataclass
class Runtime:
    settings: Settings
    redis: Redis
    wecom: WeComClient


@asynccontextmanager
async def open_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    if settings.database.is_sqlite:
        await db.migrate(settings.database.url)
    await db.open_db(settings.database.url)
    redis = open_redis(settings.redis.url)
    timeout = aiohttp.ClientTimeout(total=settings.wecom.request_timeout_seconds)
    try:
        # Its member changes reach the servers' GET /me caches (handlers/member_cache.py).
        async with aiohttp.ClientSession(timeout=timeout) as session, announcing(redis):
            yield Runtime(settings, redis, WeComClient(session, redis, settings))
    finally:
        await redis.aclose()
        await db.close_db()
