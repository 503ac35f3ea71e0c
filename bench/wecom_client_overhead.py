"""Per-call overhead of WeComClient (token + rate limiter) against the in-process sandbox.

Usage: .venv/bin/python -m bench.wecom_client_overhead [redis_url]   (the Redis db is
flushed: give a scratch one, e.g. redis://127.0.0.1:6379/14; none = fakeredis)
Times N sequential get_follow_user_list calls through the client and N raw aiohttp
calls with the same token (the HTTP + sandbox cost); overhead = the difference. Also
counts the Redis commands the client sent (real Redis only, INFO stats).
"""

import asyncio
import statistics
import sys
import time

import aiohttp

from bench.processes import free_port, refuse_shared_redis
from bot.redis_conn import open_redis
from bot.sandbox import start_sandbox
from bot.settings import load_settings
from bot.wecom import WeComClient

N = 3000
ROUNDS = 5


async def main(redis_url: str) -> None:
    port = free_port()
    settings = load_settings(environ={
        "SCRM__SANDBOX__PORT": str(port), "SCRM__SANDBOX__ENABLED": "true",
        "SCRM__REDIS__URL": redis_url,
    })
    runner = await start_sandbox(settings)
    redis = open_redis(redis_url)
    await redis.flushdb()
    try:
        async with aiohttp.ClientSession() as session:
            await session.post(f"{settings.sandbox.base_url}/sandbox/staff",
                               json={"userid": "zhangsan"})
            client = WeComClient(session, redis, settings)
            await client.external_contact.get_follow_user_list()
            token = await client.transport.tokens.get(settings.wecom.contact_secret)
            url = f"{settings.sandbox.base_url}/cgi-bin/externalcontact/get_follow_user_list"
            raw, full = [], []
            for _ in range(ROUNDS):
                started = time.perf_counter()
                for _ in range(N):
                    async with session.get(url, params={"access_token": token}) as answer:
                        await answer.json()
                raw.append((time.perf_counter() - started) / N * 1e6)
                before = (await redis.info("stats"))["total_commands_processed"] if redis_url else 0
                started = time.perf_counter()
                for _ in range(N):
                    await client.external_contact.get_follow_user_list()
                full.append((time.perf_counter() - started) / N * 1e6)
                after = (await redis.info("stats"))["total_commands_processed"] if redis_url else 0
            commands = (after - before - 1) / N if redis_url else float("nan")
            bare, client_us = statistics.median(raw), statistics.median(full)
            print(f"redis={redis_url or 'fakeredis'} raw_http={bare:.0f}us "
                  f"client={client_us:.0f}us overhead={client_us - bare:.0f}us "
                  f"redis_commands_per_call={commands:.2f}")
    finally:
        await redis.flushdb()
        await redis.aclose()
        await runner.cleanup()


if __name__ == "__main__":
    if sys.argv[1:2] in (["-h"], ["--help"]):
        sys.exit(print(__doc__))
    if len(sys.argv) > 2:
        sys.exit(__doc__)
    url = sys.argv[1] if len(sys.argv) > 1 else ""
    if url:
        refuse_shared_redis(url)
    asyncio.run(main(url))
