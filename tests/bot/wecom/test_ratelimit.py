"""The per-API, per-minute limit on outgoing calls, shared through Redis: calls over
it wait (on the injected clock) for the next minute window; permits are reserved in
blocks, and the limit still holds across processes."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from redis.asyncio import Redis

from bot.wecom.ratelimit import WINDOW_SECONDS, RateLimiter, block_for

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


def limiter(redis: Redis, fake_time: FakeTime, per_minute: int) -> RateLimiter:
    """A process's limiter (each instance has its own permits in memory)."""
    return RateLimiter(redis, "corp", per_minute=per_minute, per_api={},
                       clock=fake_time.clock, sleep=fake_time.sleep)


async def test_permits_are_reserved_in_blocks_and_the_limit_holds_across_processes(
    redis: Redis, fake_time: FakeTime
) -> None:
    limit = 1000
    block = block_for(limit)
    processes = [limiter(redis, fake_time, limit) for _ in range(3)]
    key = f"wecom:ratelimit:corp:x:{int(START // WINDOW_SECONDS)}"

    await processes[0].acquire("x")
    assert int(await redis.get(key) or 0) == block > 1
    granted = 1
    for n in range(1, 2 * limit):
        await processes[n % 3].acquire("x")
        if fake_time.sleeps:
            break
        granted += 1

    # Every permit used was counted in Redis first; at most block - 1 per process
    # were left unused when the window ran out.
    assert limit - 3 * (block - 1) <= granted <= limit
    assert fake_time.sleeps == [WINDOW_START + WINDOW_SECONDS - START]


async def test_a_block_serves_only_its_own_window(redis: Redis, fake_time: FakeTime) -> None:
    process = limiter(redis, fake_time, 10_000)
    await process.acquire("x")
    fake_time.now += WINDOW_SECONDS
    await process.acquire("x")

    counts = [int(await redis.get(f"wecom:ratelimit:corp:x:{w}") or 0)
              for w in (int(START // WINDOW_SECONDS), int(fake_time.now // WINDOW_SECONDS))]
    assert counts == [block_for(10_000)] * 2
    assert fake_time.sleeps == []


def test_small_limits_count_every_call() -> None:
    assert [block_for(n) for n in (1, 399, 400, 10_000, 1_000_000)] == [1, 1, 2, 50, 50]


async def test_a_one_second_window_paces_calls_per_second(
    redis: Redis, fake_time: FakeTime
) -> None:
    per_second = RateLimiter(redis, "corp", per_minute=2, per_api={}, clock=fake_time.clock,
                             sleep=fake_time.sleep, window_seconds=1)
    for _ in range(5):
        await per_second.acquire("x")

    # START is a whole second: 2 calls, wait for the next second, 2, wait, 1.
    assert fake_time.sleeps == [1.0, 1.0]
    # Counted apart from the per-minute window of the same API.
    assert await redis.get(f"wecom:ratelimit:corp:x:{int(START // WINDOW_SECONDS)}") is None
    assert int(await redis.get(f"wecom:ratelimit:corp:w1:x:{int(START) + 2}") or 0) == 1
