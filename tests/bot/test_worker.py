"""Worker processes as deployed: killed mid-job they lose nothing and process once;
`run.py serve` answers health checks and WeCom's URL verification."""

from __future__ import annotations

import asyncio
import dataclasses
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

from bot import db
from bot.settings import Settings
from models.contacts import FollowRelation, FollowStatus
from models.events import EventStatus, InboxEvent
from tests.apphost import cli_process, wait_for
from tests.sandbox_fixtures import SandboxConsole


async def _healthy(url: str) -> bool:
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/healthz") as response:
                return response.status == 200
    except aiohttp.ClientError:
        return False


@asynccontextmanager
async def _server_and_worker(settings: Settings) -> AsyncIterator[asyncio.subprocess.Process]:
    """`serve`, plus a `worker` when Redis is configured; yields the process that runs
    jobs (the worker, or on the embedded default the server itself)."""
    async with cli_process(settings, "serve") as server:
        await wait_for(lambda: _healthy(settings.server.base_url), what="server up")
        if not settings.redis.url:
            yield server
            return
        async with cli_process(settings, "worker") as worker:
            yield worker


async def test_worker_killed_mid_job_loses_nothing_and_processes_once(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    settings = dataclasses.replace(
        settings, queue=dataclasses.replace(settings.queue, lease_seconds=2)
    )
    await sandbox.add_staff("zhangsan")
    ext = (await sandbox.add_customer("被中断的客户"))["external_userid"]
    await db.migrate(settings.database.url)
    await db.open_db(settings.database.url)
    try:
        async with _server_and_worker(settings) as worker:
            # The job hangs inside its WeCom call until we kill its process.
            await sandbox.latency("externalcontact/get", 60)
            await sandbox.add_contact("zhangsan", ext)
            await wait_for(lambda: InboxEvent.filter(status=EventStatus.PROCESSING).exists(),
                           what="job started")
            worker.send_signal(signal.SIGKILL)
            await worker.communicate()
            await sandbox.latency("externalcontact/get", 0)

        async with _server_and_worker(settings):
            row = await wait_for(lambda: InboxEvent.get_or_none(status=EventStatus.DONE),
                                 timeout=30, what="event processed after restart")
            assert row.attempts == 2  # the killed attempt, and the one that finished
            relation = await FollowRelation.get(customer__external_userid=ext)
            assert relation.status == FollowStatus.ACTIVE
            assert await InboxEvent.all().count() == 1
            # Processed once: the killed call never completed; the one after restart did.
            gets = (await sandbox.calls("externalcontact/get"))["calls"]
            assert [c["errcode"] for c in gets] == [0]
    finally:
        await db.close_db()


async def _line_with(proc: asyncio.subprocess.Process, text: str) -> str:
    assert proc.stdout is not None
    while line := (await proc.stdout.readline()).decode():
        if text in line:
            return line.strip()
    raise AssertionError(f"the process ended without logging {text!r}")


async def test_serve_is_healthy_and_passes_wecom_url_verification(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    url = settings.server.base_url
    async with cli_process(settings, "serve") as server:
        await wait_for(lambda: _healthy(url), what="server up")
        # Its startup objects are out of the collector's full passes (bot/startup_heap.py).
        frozen = await asyncio.wait_for(_line_with(server, "startup heap frozen"), 10)
        assert int(frozen.rpartition("objects=")[2]) > 10_000, frozen
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/healthz") as response:
                assert await response.json() == {"database": "ok", "redis": "ok", "queue": "ok"}
        verified = await sandbox.verify_url()
        assert verified["ok"], verified
