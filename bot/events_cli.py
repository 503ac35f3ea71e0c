"""`python run.py events failed | replay ID`: see what failed and why, and retry it."""

from __future__ import annotations

from bot import db
from bot.processing import replay
from bot.queue import create_lanes, enqueuer
from bot.settings import Settings
from handlers.dispatch import is_urgent
from models.events import EventStatus, InboxEvent


async def print_failed(settings: Settings) -> None:
    await db.open_db(settings.database.url)
    try:
        rows = await InboxEvent.filter(status=EventStatus.FAILED).order_by("id")
        if not rows:
            print("no failed events")
        for row in rows:
            print(f"{row.id}\t{row.received_at:%Y-%m-%d %H:%M:%S}\t{row.event}/{row.change_type}"
                  f"\tattempts={row.attempts}\t{row.last_error or ''}")
    finally:
        await db.close_db()


async def replay_event(settings: Settings, event_id: int) -> None:
    """Reset the event to pending and enqueue it. On the embedded default the running
    server's sweep picks it up instead (the in-memory queue lives in that process)."""
    await db.open_db(settings.database.url)
    try:
        row = await replay(event_id)
        if settings.redis.url:
            lanes = create_lanes(settings)
            for broker in lanes:
                await broker.startup()
            try:
                await enqueuer(lanes)([row.id], is_urgent(row.event, row.change_type))
            finally:
                await lanes.shutdown()
            print(f"event {row.id} ({row.event}/{row.change_type}) queued again")
        else:
            print(f"event {row.id} ({row.event}/{row.change_type}) reset to pending; "
                  "the running server takes it at its next sweep")
    finally:
        await db.close_db()
