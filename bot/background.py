"""Background loops of a process (the event sweep, the schedules): stopping them, and
keeping them stoppable.

A loop that logs a failed round and goes on must still end when its task is
cancelled. Some libraries swallow a cancellation: aiohttp's connector answers a
connect cancelled half-way with ClientConnectorError (or, racing a refused connect,
returns as if nothing happened), so a round can end, with or without an exception,
after the stop request, and the loop would sleep on while the process shuts down
around it. Loops therefore wait with `pause()`, and their `except Exception` calls
`raise_if_cancelling()`.
"""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger("scrm.background")

STOP_TIMEOUT_SECONDS = 10.0
RECANCEL_SECONDS = 0.5


def raise_if_cancelling() -> None:
    """In an `except Exception` of a loop: stop if this task was asked to stop, even if
    the exception at hand is not the CancelledError."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def pause(seconds: float) -> None:
    """The wait between two rounds of a loop; stops at once if a cancellation of this
    task was requested (and lost) during the round."""
    raise_if_cancelling()
    await asyncio.sleep(seconds)


async def stop_tasks(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel background loops and wait for them to finish, so nothing they hold (a
    database connection, a Redis lock, an HTTP request) outlives the resources closed
    after them. The cancellation is repeated every RECANCEL_SECONDS, since a library may
    swallow one; a loop still running after STOP_TIMEOUT_SECONDS is logged by name and
    left behind rather than hanging the shutdown."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STOP_TIMEOUT_SECONDS
    pending = set(tasks)
    while pending and loop.time() < deadline:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(
            pending, timeout=min(RECANCEL_SECONDS, deadline - loop.time()))
    for task in pending:
        log.error("background.stop_timeout task=%s", task.get_name())
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.error("background.failed task=%s error=%r", task.get_name(), task.exception())
