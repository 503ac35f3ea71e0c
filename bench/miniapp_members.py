"""Members for the mini-program benchmarks: WeChat users made in the sandbox console and
logged in through the app's own `POST /miniapp/api/login`, so every token is a real
session."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp


async def log_in_members(sandbox: str, serve: str, count: int, concurrency: int) -> list[str]:
    """`count` new WeChat users (sandbox at `sandbox`), each logged in to the app at
    `serve`, `concurrency` at a time; their session tokens, in order."""
    tokens: list[str] = [""] * count
    limit = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(raise_for_status=True) as http:

        async def post(url: str, body: dict[str, Any]) -> dict[str, Any]:
            async with http.post(url, json=body) as response:
                return dict(await response.json())

        async def one(i: int) -> None:
            async with limit:
                made = await post(f"{sandbox}/sandbox/miniapp/users",
                                  {"nickname": f"会员{i:05d}"})
                code = await post(f"{sandbox}/sandbox/miniapp/login-code",
                                  {"openid": made["user"]["openid"]})
                login = await post(f"{serve}/miniapp/api/login", {"code": code["code"]})
                tokens[i] = login["token"]

        await asyncio.gather(*(one(i) for i in range(count)))
    return tokens
