"""`GroupCommit`: many callers, one statement at a time.

Callers that arrive while a statement is in flight are served together by the next one,
so under load each pays a fraction of a round trip; with no load, a caller runs at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

K = TypeVar("K")
R = TypeVar("R")

MAX_GROUP = 200  # keys per grouped statement


class GroupCommit(Generic[K, R]):
    """`await group(key)`: runs `run(keys)` for every key that came while the previous
    run was in flight, one run at a time; each caller gets its key's result (None when
    `run` answered nothing for it) or the run's exception."""

    def __init__(self, run: Callable[[list[K]], Awaitable[dict[K, R]]]) -> None:
        self._run = run
        self._waiting: list[tuple[K, asyncio.Future[R | None]]] = []
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, key: K) -> R | None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # A group made at import time serves one loop at a time (the tests run each
            # on a loop of its own): nothing of an earlier loop's carries over.
            self._loop, self._waiting, self._task = loop, [], None
        future: asyncio.Future[R | None] = loop.create_future()
        self._waiting.append((key, future))
        if self._task is None:
            self._task = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[:MAX_GROUP]
                del self._waiting[:MAX_GROUP]
                try:
                    results = await self._run(list(dict.fromkeys(k for k, _ in batch)))
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for key, future in batch:
                    if not future.done():
                        future.set_result(results.pop(key, None))
        finally:
            self._task = None
