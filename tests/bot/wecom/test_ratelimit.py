"""The per-API, per-minute limit on outgoing calls, shared through Redis: calls over
it wait (on the injected clock) for the next minute window."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from bot.wecom.ratelimit import WINDOW_SECONDS

from .conftest import START, WINDOW_START, FakeTime, MakeClient, errcodes

FOLLOW_LIST = "externalcontact/get_follow_user_list"
BATCH = "externalcontact/batch/get_by_user"


async def test_calls_over_the_limit_wait_for_the_next_window(
    make_client: MakeClient, sandbox: Any, fake_time: FakeTime
) -> None:
    await sandbox.add_staff("zhangsan")
    client = make_client(rate_limits={FOLLOW_LIST: 3})

    for _ in range(7):
        assert await client.external_contact.get_follow_user_list() == ["zhangsan"]

    # 3 calls in the first window, 3 in the second, the 7th in the third.
    assert fake_time.sleeps == [WINDOW_START + WINDOW_SECONDS - START, WINDOW_SECONDS]
    assert await errcodes(sandbox, FOLLOW_LIST) == [0] * 7


async def test_the_limit_is_shared_by_two_processes(
    make_client: MakeClient, sandbox: Any, fake_time: FakeTime
) -> None:
    await sandbox.add_staff("zhangsan")
    async with aiohttp.ClientSession() as other_session:
        first = make_client(rate_limits={FOLLOW_LIST: 2})
        second = make_client(session=other_session, rate_limits={FOLLOW_LIST: 2})
        await first.external_contact.get_follow_user_list()
        await second.external_contact.get_follow_user_list()
        assert fake_time.sleeps == []
        await first.external_contact.get_follow_user_list()

    assert fake_time.sleeps == [WINDOW_START + WINDOW_SECONDS - START]


async def test_concurrent_calls_over_the_limit_all_wait(
    make_client: MakeClient, sandbox: Any, fake_time: FakeTime
) -> None:
    await sandbox.add_staff("zhangsan")
    client = make_client(rate_limits={FOLLOW_LIST: 3})

    answers = await asyncio.gather(
        *(client.external_contact.get_follow_user_list() for _ in range(5))
    )

    assert answers == [["zhangsan"]] * 5
    assert len(fake_time.sleeps) == 2
    assert await errcodes(sandbox, FOLLOW_LIST) == [0] * 5


async def test_limits_are_per_api_with_the_default_for_the_rest(
    make_client: MakeClient, sandbox: Any, fake_time: FakeTime
) -> None:
    seeded = await sandbox.seed(staff=1, customers_per_staff=1)
    userids = list(seeded["follows"])
    client = make_client(rate_limit_per_minute=2, rate_limits={FOLLOW_LIST: 1})

    await client.external_contact.get_follow_user_list()
    await client.external_contact.batch_get_by_user(userids)
    await client.external_contact.batch_get_by_user(userids)
    assert fake_time.sleeps == []

    await client.external_contact.batch_get_by_user(userids)
    assert fake_time.sleeps == [WINDOW_START + WINDOW_SECONDS - START]
    assert await errcodes(sandbox, BATCH) == [0, 0, 0]
