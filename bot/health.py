"""`GET /healthz`: 200 once the database, Redis and the queue answer, else 503."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from tortoise import connections

from bot.keys import REDIS, SETTINGS

log = logging.getLogger("scrm.health")


async def _database() -> None:
    await connections.get("default").execute_query("SELECT 1")


async def healthz(request: web.Request) -> web.Response:
    redis = request.app[REDIS]
    settings = request.app[SETTINGS]
    checks = {
        "database": _database(),
        "redis": redis.ping(),
        # The stream broker talks to the same Redis; the in-memory one is this process.
        "queue": redis.exists("scrm:events") if settings.redis.url else asyncio.sleep(0),
    }
    results = await asyncio.gather(
        *(asyncio.wait_for(check, 2.0) for check in checks.values()), return_exceptions=True
    )
    report = {
        name: f"error: {type(result).__name__}" if isinstance(result, BaseException) else "ok"
        for name, result in zip(checks, results, strict=True)
    }
    healthy = all(value == "ok" for value in report.values())
    if not healthy:
        log.warning("health.failed %s", " ".join(f"{k}={v}" for k, v in report.items()))
    return web.json_response(report, status=200 if healthy else 503)
