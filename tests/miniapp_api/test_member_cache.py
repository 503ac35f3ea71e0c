"""`GET /me` from the process's answer cache (handlers/member_cache.py): a cached answer
never outlives a logout, an expiry or a change the member made, and a change announced
by another process on Redis evicts it well before the cache's TTL."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from redis.asyncio import Redis

from bot.sandbox.clock import SandboxClock
from bot.settings import Settings
from handlers import ledger
from handlers.member_cache import (
    TTL_SECONDS,
    MemberCache,
    announcing_transaction,
    listening,
    member_changed,
    publish_change,
)
from models.members import Member
from tests.apphost import wait_for
from tests.miniapp_api.conftest import MemberClient, MiniApp, miniapp_client
from tests.sandbox_fixtures import SandboxConsole


@pytest.fixture
async def miniapp(settings: Settings, sandbox: SandboxConsole) -> AsyncIterator[MiniApp]:
    """The app on a clock held still (the test advances it): the cache's lifetime is
    by the app clock, so an answer stays cached until something evicts it or the test
    moves time, however slowly the machine runs."""
    held = time.time()
    async with miniapp_client(settings, sandbox, clock=SandboxClock(lambda: held)) as app:
        yield app


async def cached_member(miniapp: MiniApp) -> tuple[MemberClient, int]:
    """A logged-in member whose `GET /me` answer is now cached."""
    client, member = await miniapp.log_in(await miniapp.sandbox.miniapp_user())
    for _ in range(2):
        assert (await client.get("/me")).status == 200
    return client, int(member["id"])


async def points_shown(client: MemberClient) -> int:
    reply = await client.get("/me")
    assert reply.status == 200, reply.body
    return int(reply.json()["points"])


async def test_a_cached_answer_is_served_until_the_member_changes(miniapp: MiniApp) -> None:
    client, member_id = await cached_member(miniapp)
    # Written behind the ledger's back (nothing announced): the cached answer stands.
    await Member.filter(id=member_id).update(points=77)
    assert await points_shown(client) == 0


async def test_logout_refuses_the_cached_session_at_once(miniapp: MiniApp) -> None:
    client, _ = await cached_member(miniapp)
    assert (await client.post("/logout")).status == 204
    reply = await client.get("/me")
    assert reply.status == 401
    assert reply.json()["error"]["code"] == "unauthorized"


async def test_an_expired_session_is_refused_even_when_cached(
    miniapp: MiniApp, settings: Settings
) -> None:
    client, _ = await cached_member(miniapp)
    miniapp.clock.advance(settings.members.session_days * 86400 + 1)
    reply = await client.get("/me")
    assert reply.status == 401
    assert "expired" in reply.json()["error"]["message"]


async def test_a_check_in_shows_in_the_next_answer(
    miniapp: MiniApp, settings: Settings
) -> None:
    client, _ = await cached_member(miniapp)
    assert (await client.post("/checkin")).status == 200
    assert await points_shown(client) == settings.points.checkin_daily


async def test_a_profile_change_shows_in_the_next_answer(miniapp: MiniApp) -> None:
    client, _ = await cached_member(miniapp)
    assert (await client.patch("/me", {"nickname": "小明"})).status == 200
    reply = await client.get("/me")
    assert reply.json()["nickname"] == "小明"


async def test_a_ledger_movement_made_beside_the_app_shows_in_the_next_answer(
    miniapp: MiniApp, settings: Settings
) -> None:
    client, member_id = await cached_member(miniapp)
    await ledger.award(member_id, 40, key="test:beside", reason="线下", now=datetime.now(UTC),
                       settings=settings)
    assert await points_shown(client) == 40
    await ledger.deduct(member_id, 15, key="test:spend", reason="兑换", now=datetime.now(UTC))
    assert await points_shown(client) == 25


async def test_another_processs_announcement_evicts_well_within_the_ttl(redis: Redis) -> None:
    cache = MemberCache()
    async with listening(cache, redis):
        cache.put("a-session", 7, expires_at=2e9, body=b"{}", generation=cache.generation, now=1e9)
        cache.put("b-session", 8, expires_at=2e9, body=b"{}", generation=cache.generation, now=1e9)
        assert cache.answer("a-session", now=1e9) == b"{}"
        # What another process's `member_changed(7)` publishes; nothing evicted locally.
        await publish_change(redis, [7])
        await wait_for(lambda: _missing(cache, "a-session"), timeout=TTL_SECONDS / 2,
                       what="the announced member's answer to be evicted")
        assert cache.answer("b-session", now=1e9) == b"{}"


async def test_an_answer_read_before_a_change_is_not_kept() -> None:
    cache = MemberCache()
    read_began = cache.generation
    cache.evict([7])  # the change commits while the request is still reading
    cache.put("a-session", 7, expires_at=2e9, body=b"{}", generation=read_began, now=1e9)
    assert cache.answer("a-session", now=1e9) is None


async def _missing(cache: MemberCache, session_hash: str) -> bool:
    return cache.answer(session_hash, now=1e9) is None


async def test_a_change_inside_a_transaction_is_announced_when_it_commits(
    miniapp: MiniApp, redis: Redis
) -> None:
    cache = MemberCache()
    async with listening(cache, redis):
        async with announcing_transaction():
            cache.put("a-session", 7, expires_at=2e9, body=b"{}",
                      generation=cache.generation, now=1e9)
            await member_changed(7)
            # Not committed yet: a reader now would still see (and could cache) the old state.
            assert cache.answer("a-session", now=1e9) == b"{}"
        assert cache.answer("a-session", now=1e9) is None
