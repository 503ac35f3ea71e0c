"""Background loops of a process (the event sweep, the schedules): stopping them, and
keeping them stoppable.

A loop that logs a failed round and goes on must still end when its task is
cancelled. Some libraries turn a cancellation into another exception: aiohttp's
connector answers a connect cancelled half-way with ClientConnectorError, so an
`except Exception` around a WeCom call would swallow the stop request and the loop
would sleep on while the process shuts down around it.
"""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger("scrm.background")

STOP_TIMEOUT_SECONDS = 10.0


def raise_if_cancelling() -> None:
    """In an `except Exception` of a loop: stop if this task was asked to stop, even if
    the exception at hand is not the CancelledError."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def stop_tasks(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel background loops and wait for them to finish, so nothing they hold (a
    database connection, a Redis lock, an HTTP request) outlives the resources closed
    after them. A loop still running after STOP_TIMEOUT_SECONDS is logged by name and
    left behind rather than hanging the shutdown."""
    for task in tasks:
        task.cancel()
    if not tasks:
        return
    done, stuck = await asyncio.wait(tasks, timeout=STOP_TIMEOUT_SECONDS)
    for task in stuck:
        log.error("background.stop_timeout task=%s", task.get_name())
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            log.error("background.failed task=%s error=%r", task.get_name(), task.exception())
