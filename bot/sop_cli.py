"""`python run.py sop tick [--now ISO8601]`: one group SOP tick, for cron and for tests
that run several schedulers as processes. Prints the tick's counts."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.runtime import open_runtime
from bot.settings import Settings
from handlers.sop_tick import run_sop_tick


def parse_now(text: str | None) -> datetime:
    """`--now`: ISO 8601; without an offset it is UTC. None: the current time."""
    if not text:
        return datetime.now(UTC)
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def sop_tick(settings: Settings, now: datetime) -> None:
    async with open_runtime(settings) as runtime:
        result = await run_sop_tick(runtime.wecom, runtime.redis, settings, now)
    print(f"sop tick {now.isoformat()}: {result.summary()}")
