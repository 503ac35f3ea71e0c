"""Fixtures for the WeCom client tests: an HTTP session, a fake clock/sleep pair, and
clients built on the test's Redis (two clients on one Redis are two processes).

The clients talk real HTTP to the sandbox (`sandbox` fixture); nothing of ours is
mocked. Clock and sleep are injected so backoffs and rate-limit waits are recorded
instead of waited for.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.settings import Settings
from bot.wecom import WeChatError, WeChatUnavailable, WeComClient

# Ten seconds into a rate-limit minute window, so the first wait is exactly 50 s.
WINDOW_START = 60.0 * 28_333_334
START = WINDOW_START + 10.0


class FakeTime:
    """`clock()` reads and `sleep()` advances a fake time; every sleep is recorded."""

    def __init__(self, start: float = START) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


MakeClient = Callable[..., WeComClient]


@pytest.fixture
def make_client(
    http: aiohttp.ClientSession, redis: Redis, settings: Settings, fake_time: FakeTime
) -> MakeClient:
    """`make_client(**wecom_overrides)`: a client on the sandbox with the test's Redis
    and fake time; keyword arguments replace fields of settings.wecom."""

    def make(*, session: aiohttp.ClientSession | None = None, **wecom: Any) -> WeComClient:
        configured = replace(
            settings,
            wecom=replace(settings.wecom, **wecom),
            sandbox=replace(settings.sandbox, enabled=False),  # calls go to wecom.api_base
        )
        return WeComClient(
            session or http, redis, configured, clock=fake_time.clock, sleep=fake_time.sleep
        )

    return make


@pytest.fixture
def client(make_client: MakeClient, sandbox: Any) -> WeComClient:
    return make_client()


def backoffs(settings: Settings, count: int) -> list[float]:
    """The waits before `count` busy retries: doubling from busy_backoff_seconds."""
    return [settings.wecom.busy_backoff_seconds * 2**n for n in range(count)]


async def errcodes(sandbox: Any, api: str) -> list[int]:
    """The errcode the sandbox answered to each call of `api`, in order."""
    answer = await sandbox.calls(api)
    return [call["errcode"] for call in answer["calls"]]


async def failure_text(call: Awaitable[Any]) -> str:
    """Everything a failed call shows: its traceback and repr (for checks that no
    secret, token or code leaks into them)."""
    try:
        await call
    except (WeChatError, WeChatUnavailable) as exc:
        return "".join(traceback.format_exception(exc)) + repr(exc)
    raise AssertionError("the call was expected to fail")

