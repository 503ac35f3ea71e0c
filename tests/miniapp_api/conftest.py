"""Fixtures for the mini-program API tests: the real app over real HTTP with a clock the
test can move, the WeChat sandbox behind it (its mini-program users and codes come
from the console), and a small client that sends a member's bearer token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from bot.sandbox.clock import SandboxClock
from bot.settings import Settings
from tests.admin_api.conftest import startup_tag_sync
from tests.api_client import ApiClient
from tests.apphost import serve_app, worker_process
from tests.sandbox_fixtures import SandboxConsole


class MemberClient(ApiClient):
    """HTTP to `/miniapp/api/`, as a member when it holds their token."""

    def __init__(self, base_url: str, session: aiohttp.ClientSession,
                 token: str | None = None) -> None:
        super().__init__(f"{base_url}/miniapp/api", session, token)
        self.base_url = base_url

    def as_member(self, token: str) -> MemberClient:
        return MemberClient(self.base_url, self.session, token)


@dataclass
class MiniApp:
    """The app under test: its mini-program API, the WeChat sandbox and the app clock
    (real time plus what the test advanced; None when the test does not hold it)."""

    api: MemberClient
    sandbox: SandboxConsole
    clock: SandboxClock | None

    async def log_in(self, user: dict[str, Any]) -> tuple[MemberClient, dict[str, Any]]:
        """Log the WeChat user in; returns a client with their token, and the member."""
        code = await self.sandbox.login_code(user["openid"])
        reply = await self.api.post("/login", {"code": code})
        assert reply.status == 200, reply.body
        answer = reply.json()
        return self.api.as_member(answer["token"]), dict(answer["member"])

    async def sign_up(self, **user: Any
                      ) -> tuple[MemberClient, dict[str, Any], dict[str, Any]]:
        """A new WeChat user (`user`: the console's fields) logged in: their client, their
        member and the user."""
        wechat_user = await self.sandbox.miniapp_user(**user)
        client, member = await self.log_in(wechat_user)
        return client, member, wechat_user

    async def bind_phone(self, client: MemberClient, user: dict[str, Any],
                         phone: str | None = None,
                         country_code: str | None = None) -> dict[str, Any]:
        """Share a phone number (default the user's own) → the member answered."""
        code = await self.sandbox.phone_code(user["openid"], phone, country_code)
        reply = await client.post("/me/phone", {"code": code})
        assert reply.status == 200, reply.body
        return dict(reply.json())


@asynccontextmanager
async def miniapp_client(settings: Settings, sandbox: SandboxConsole, *,
                         worker: bool = False,
                         clock: SandboxClock | None = None) -> AsyncIterator[MiniApp]:
    """The app serving `settings` on `clock` (default: real time the test can advance);
    with `worker`, also a worker process for WeCom events when the settings use Redis
    (the embedded default processes them in the app)."""
    clock = clock or SandboxClock()
    async with AsyncExitStack() as stack:
        url = await stack.enter_async_context(serve_app(settings, clock.now))
        if worker:
            await stack.enter_async_context(worker_process(settings))
        session = await stack.enter_async_context(aiohttp.ClientSession())
        if worker or not settings.redis.url:  # let the worker's startup jobs settle
            await startup_tag_sync(settings)
        yield MiniApp(MemberClient(url, session), sandbox, clock)


@pytest.fixture
async def miniapp(settings: Settings, sandbox: SandboxConsole) -> AsyncIterator[MiniApp]:
    async with miniapp_client(settings, sandbox) as app:
        yield app
