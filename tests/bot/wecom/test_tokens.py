"""Access tokens: fetched once, shared through Redis, kept in each process's memory,
refreshed once when WeCom rejects or expires them."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.settings import Settings
from bot.wecom import TokenInvalid, WeComClient
from bot.wecom.tokens import TOKEN_REFRESH_MARGIN_SECONDS

from .conftest import FakeTime, MakeClient, errcodes

FOLLOW_LIST = "externalcontact/get_follow_user_list"


async def test_token_fetched_once_and_shared_by_two_processes(
    make_client: MakeClient, sandbox: Any, redis: Redis, settings: Settings
) -> None:
    await sandbox.add_staff("zhangsan")
    async with aiohttp.ClientSession() as other_session:
        first = make_client()
        second = make_client(session=other_session)
        assert await first.external_contact.get_follow_user_list() == ["zhangsan"]
        assert await second.external_contact.get_follow_user_list() == ["zhangsan"]

    assert await errcodes(sandbox, "gettoken") == [0]
    assert await errcodes(sandbox, FOLLOW_LIST) == [0, 0]
    keys = [key.decode() for key in await redis.keys("*")]
    assert keys, "the token is cached in Redis"
    assert not any(settings.wecom.contact_secret in key for key in keys)


async def test_concurrent_first_calls_fetch_one_token(
    make_client: MakeClient, sandbox: Any
) -> None:
    await sandbox.add_staff("zhangsan")
    # A slow gettoken keeps the first refresh in flight while the others arrive.
    await sandbox.latency("gettoken", 0.3)
    clients = [make_client(), make_client()]

    answers = await asyncio.gather(
        *(clients[n % 2].external_contact.get_follow_user_list() for n in range(20))
    )

    assert answers == [["zhangsan"]] * 20
    assert await errcodes(sandbox, "gettoken") == [0]


async def test_expired_token_is_refreshed_once(
    client: WeComClient, sandbox: Any, settings: Settings
) -> None:
    await sandbox.add_staff("zhangsan")
    await client.external_contact.get_follow_user_list()
    await sandbox.advance_clock(settings.sandbox.token_expires_in + 1)

    answers = await asyncio.gather(
        *(client.external_contact.get_follow_user_list() for _ in range(5))
    )

    assert answers == [["zhangsan"]] * 5
    assert await errcodes(sandbox, "gettoken") == [0, 0]
    calls = await errcodes(sandbox, FOLLOW_LIST)
    assert 42001 in calls
    assert calls.count(0) == 6


async def test_invalidated_token_is_refreshed_and_the_call_retried_once(
    client: WeComClient, sandbox: Any
) -> None:
    await sandbox.add_staff("zhangsan")
    await client.external_contact.get_follow_user_list()
    await sandbox.invalidate_tokens()

    assert await client.external_contact.get_follow_user_list() == ["zhangsan"]

    assert await errcodes(sandbox, "gettoken") == [0, 0]
    assert await errcodes(sandbox, FOLLOW_LIST) == [0, 40014, 0]


async def test_token_rejected_after_refresh_raises(client: WeComClient, sandbox: Any) -> None:
    await sandbox.fault(FOLLOW_LIST, 40014, 2)

    with pytest.raises(TokenInvalid) as raised:
        await client.external_contact.get_follow_user_list()

    assert raised.value.errcode == 40014
    assert raised.value.api == FOLLOW_LIST
    assert await errcodes(sandbox, FOLLOW_LIST) == [40014, 40014]
    assert await errcodes(sandbox, "gettoken") == [0, 0]


async def test_invalidate_keeps_a_token_refreshed_meanwhile(
    client: WeComClient, sandbox: Any, settings: Settings
) -> None:
    tokens, secret = client.transport.tokens, settings.wecom.contact_secret
    current = await tokens.get(secret)

    assert await tokens.invalidate(secret, "an-older-token") is False
    assert await tokens.get(secret) == current
    assert await tokens.invalidate(secret, current) is True
    assert await tokens.get(secret) != current
    assert await errcodes(sandbox, "gettoken") == [0, 0]


async def test_the_token_is_kept_in_memory_between_calls(
    client: WeComClient, sandbox: Any, redis: Redis
) -> None:
    await sandbox.add_staff("zhangsan")
    await client.external_contact.get_follow_user_list()
    await redis.flushdb()

    assert await client.external_contact.get_follow_user_list() == ["zhangsan"]

    assert await errcodes(sandbox, "gettoken") == [0]
    assert await redis.keys("wecom:token:*") == []


async def test_the_memory_copy_expires_with_the_cached_entry(
    client: WeComClient, sandbox: Any, fake_time: FakeTime
) -> None:
    await client.external_contact.get_follow_user_list()
    fake_time.now += 7200 - TOKEN_REFRESH_MARGIN_SECONDS

    await client.external_contact.get_follow_user_list()

    assert await errcodes(sandbox, "gettoken") == [0, 0]
    assert await errcodes(sandbox, FOLLOW_LIST) == [0, 0]


async def test_a_process_picks_up_another_processs_refresh_without_gettoken(
    make_client: MakeClient, sandbox: Any
) -> None:
    async with aiohttp.ClientSession() as other_session:
        first, second = make_client(), make_client(session=other_session)
        await first.external_contact.get_follow_user_list()
        await second.external_contact.get_follow_user_list()
        await sandbox.invalidate_tokens()

        await second.external_contact.get_follow_user_list()  # 40014: refreshes
        await first.external_contact.get_follow_user_list()  # 40014: reads the new one

    assert await errcodes(sandbox, "gettoken") == [0, 0]
    assert await errcodes(sandbox, FOLLOW_LIST) == [0, 0, 40014, 0, 40014, 0]
