"""Fixtures for the mini-program client tests: clients on the test's Redis (two clients
on one Redis are two processes) with the WeCom client tests' fake clock and sleep, all
talking real HTTP to the sandbox (`sandbox` fixture)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.miniapp import MiniProgramClient
from bot.settings import Settings
from tests.bot.wecom.conftest import FakeTime, fake_time, http  # noqa: F401  (fixtures)

MakeClient = Callable[..., MiniProgramClient]


@pytest.fixture
def make_client(
    http: aiohttp.ClientSession, redis: Redis, settings: Settings, fake_time: FakeTime  # noqa: F811
) -> MakeClient:
    """`make_client(**miniapp_overrides)`: a client on the sandbox; keyword arguments
    replace fields of settings.miniapp (`wecom=` takes a dict for settings.wecom)."""

    def make(*, session: aiohttp.ClientSession | None = None,
             wecom: dict[str, Any] | None = None, **miniapp: Any) -> MiniProgramClient:
        configured = replace(
            settings,
            miniapp=replace(settings.miniapp, **miniapp),
            wecom=replace(settings.wecom, **(wecom or {})),
            sandbox=replace(settings.sandbox, enabled=False),  # calls go to miniapp.api_base
        )
        return MiniProgramClient(session or http, redis, configured, clock=fake_time.clock,
                                 sleep=fake_time.sleep)

    return make


@pytest.fixture
def client(make_client: MakeClient, sandbox: Any) -> MiniProgramClient:
    return make_client()
