"""The app factory: `create_app(settings)` is used by run.py, the tests and the benchmarks.

Every resource opens and closes in its own cleanup context, in order: database, Redis,
the member answer cache, HTTP session, WeCom client, mini-program client, the
in-process WeCom sandbox when enabled, job queue (with the in-process worker on the
embedded default) and inbox writer. The sandbox comes before the queue so that the
worker's first jobs find it listening and its last ones still do at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable

import aiohttp
from aiohttp import web

from admin_api.app import create_admin_app
from bot import db
from bot.background import stop_tasks
from bot.callback import create_callback_app
from bot.crypto import CallbackCrypto
from bot.health import healthz
from bot.inbox import InboxWriter
from bot.keys import (
    CALLBACK_CRYPTO,
    CLOCK,
    HTTP,
    INBOX,
    LANES,
    MEMBER_CACHE,
    MINIAPP,
    REDIS,
    SETTINGS,
    WECOM,
)
from bot.miniapp import MiniProgramClient
from bot.queue import create_lanes, enqueuer, sweep_forever
from bot.redis_conn import open_redis
from bot.scan_page import scan_page_routes
from bot.scheduler import start_schedules
from bot.settings import Settings
from bot.wecom import WeComClient
from handlers.member_cache import MemberCache, announcing, listening
from miniapp_api.app import create_miniapp_app

log = logging.getLogger("scrm.app")


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if settings.database.is_sqlite:
        await db.migrate(settings.database.url)
    await db.open_db(settings.database.url)
    yield
    await db.close_db()


async def _redis(app: web.Application) -> AsyncIterator[None]:
    app[REDIS] = open_redis(app[SETTINGS].redis.url)
    yield
    await app[REDIS].aclose()


async def _member_cache(app: web.Application) -> AsyncIterator[None]:
    """`GET /me` answers kept in memory, evicted on this process's changes and on those
    other processes publish (handlers/member_cache.py)."""
    app[MEMBER_CACHE] = cache = MemberCache()
    async with listening(cache, app[REDIS]), announcing(app[REDIS]):
        yield


async def _http(app: web.Application) -> AsyncIterator[None]:
    timeout = aiohttp.ClientTimeout(total=app[SETTINGS].wecom.request_timeout_seconds)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        app[HTTP] = session
        yield


async def _wecom(app: web.Application) -> AsyncIterator[None]:
    app[WECOM] = WeComClient(app[HTTP], app[REDIS], app[SETTINGS])
    yield


async def _miniapp(app: web.Application) -> AsyncIterator[None]:
    app[MINIAPP] = MiniProgramClient(app[HTTP], app[REDIS], app[SETTINGS])
    yield


async def _queue(app: web.Application) -> AsyncIterator[None]:
    """The broker; on the embedded default (no Redis URL) also the worker and its sweep."""
    settings = app[SETTINGS]
    lanes = create_lanes(settings)
    await lanes.startup(settings, app[WECOM])
    app[LANES] = lanes
    background: list[asyncio.Task[None]] = []
    if not settings.redis.url:  # the in-process worker's periodic work
        background = [
            asyncio.create_task(
                sweep_forever(enqueuer(lanes), settings.queue, queue_is_durable=False),
                name="sweep"),
            *start_schedules(app[REDIS], app[WECOM], settings, clock=app[CLOCK]),
        ]
    yield
    await stop_tasks(background)
    await lanes.shutdown()


async def _inbox(app: web.Application) -> AsyncIterator[None]:
    # SQLite serialises writes anyway; PostgreSQL takes a few batches at once.
    writes = 1 if app[SETTINGS].database.is_sqlite else 4
    inbox = InboxWriter(enqueuer(app[LANES]), max_concurrent_writes=writes)
    app[INBOX] = inbox
    yield
    await inbox.drain()


async def _sandbox(app: web.Application) -> AsyncIterator[None]:
    from bot.sandbox import start_sandbox

    settings = app[SETTINGS]
    runner = await start_sandbox(settings)
    log.info("sandbox.started url=%s (WeCom API calls go here, not to %s)",
             settings.sandbox.base_url, settings.wecom.api_base)
    yield
    await runner.cleanup()


def create_app(settings: Settings, *, clock: Callable[[], float] = time.time) -> web.Application:
    app = web.Application()
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[CALLBACK_CRYPTO] = CallbackCrypto(
        settings.wecom.token, settings.wecom.encoding_aes_key, settings.wecom.corp_id
    )
    sandbox = [_sandbox] if settings.sandbox.enabled else []
    app.cleanup_ctx.extend(
        [_database, _redis, _member_cache, _http, _wecom, _miniapp, *sandbox, _queue, _inbox])
    app.router.add_get("/healthz", healthz)
    app.router.add_routes(scan_page_routes(settings))
    app.add_subapp("/wecom/", create_callback_app())
    app.add_subapp("/admin/api/", create_admin_app())
    app.add_subapp("/miniapp/api/", create_miniapp_app())
    return app
