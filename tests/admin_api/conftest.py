"""Fixtures for the admin API tests: the real app (with two admin tokens) over real HTTP,
the WeCom sandbox behind it, and a small client that sends the bearer token."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import aiohttp
import pytest

from bot.settings import AdminSettings, Settings
from tests.api_client import ApiClient, Reply
from tests.apphost import serve_app, wait_for, worker_process
from tests.bot.sandbox.wecom_api import WeComApi
from tests.sandbox_fixtures import SandboxConsole

TOKEN = "admin-token-0123456789abcdef"
OTHER_TOKEN = "second-admin-token-fedcba9876543210"
GUIDES = ("zhangsan", "lisi")  # sandbox staff with customer contact
NOT_A_GUIDE = "wangwu"  # sandbox staff without customer contact

TAG_LIST = "externalcontact/get_corp_tag_list"

__all__ = ["AdminClient", "Reply"]  # Reply: what the admin tests read answers as

class AdminClient(ApiClient):
    """HTTP to `/admin/api/`, with `Authorization: Bearer <token>` unless told otherwise
    (`token=None` sends no header)."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession, token: str) -> None:
        super().__init__(f"{base_url}/admin/api", session, token)
        self.base_url = base_url

    async def create_channel(self, **fields: Any) -> dict[str, Any]:
        reply = await self.post("/channels", channel_body(**fields))
        assert reply.status == 201, reply.body
        return dict(reply.json())


def channel_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "门店 A 收银台", "kind": "store", "guides": [GUIDES[0]],
                            "welcome": {"text": "你好，{customer_name}！"}, "skip_verify": True}
    body.update(fields)
    return body


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings with two admin tokens."""
    return dataclasses.replace(settings, admin=AdminSettings(tokens=(TOKEN, OTHER_TOKEN)))


@asynccontextmanager
async def admin_client(settings: Settings, *, worker: bool = False,
                       clock: Callable[[], float] = time.time) -> AsyncIterator[AdminClient]:
    """The app serving `settings` (its clock: `clock`); with `worker`, also a worker
    process when the settings use Redis (the embedded default processes events in the
    app)."""
    async with AsyncExitStack() as stack:
        url = await stack.enter_async_context(serve_app(settings, clock))
        if worker:
            await stack.enter_async_context(worker_process(settings))
        session = await stack.enter_async_context(aiohttp.ClientSession())
        talks_to_sandbox = settings.wecom_api_base == settings.sandbox.base_url
        if talks_to_sandbox and (worker or not settings.redis.url):
            await startup_tag_sync(settings)
        yield AdminClient(url, session, TOKEN)


async def startup_tag_sync(settings: Settings) -> None:
    """Wait for the tag sync a worker runs when it starts (the app is the worker on the
    embedded default), so that it neither races a test's tag changes nor uses up a fault
    a test plants on the same API."""
    async with aiohttp.ClientSession() as session:
        console = SandboxConsole(settings.sandbox.base_url, session)

        async def synced() -> int:
            return await console.call_count(TAG_LIST)

        await wait_for(synced, what="the workers' startup tag sync")


@pytest.fixture
async def corp(sandbox: SandboxConsole) -> SandboxConsole:
    """The sandbox with the guides (and one member without customer contact)."""
    for userid in GUIDES:
        await sandbox.add_staff(userid, f"导购 {userid}")
    await sandbox.add_staff(NOT_A_GUIDE, "行政", customer_contact=False)
    return sandbox


@pytest.fixture
async def admin(settings: Settings, corp: SandboxConsole) -> AsyncIterator[AdminClient]:
    async with admin_client(settings) as client:
        yield client


@pytest.fixture
async def wecom_api(settings: Settings, sandbox: SandboxConsole) -> AsyncIterator[WeComApi]:
    """The sandbox's WeCom API called directly, as another app of the corp would."""
    async with aiohttp.ClientSession() as session:
        yield WeComApi(settings.sandbox.base_url, settings, session)


async def contact_way(api: WeComApi, config_id: str) -> dict[str, Any]:
    """`get_contact_way` as WeCom answers it (errcode included)."""
    return await api.post("externalcontact/get_contact_way", await api.token(),
                          {"config_id": config_id})
