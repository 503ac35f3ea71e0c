"""Event processing through the queue: retries, failure, listing and replay."""

from __future__ import annotations

import dataclasses

import aiohttp

from bot.settings import Settings
from models.events import EventStatus, InboxEvent
from tests.apphost import (
    contact_event,
    encrypt,
    run_cli,
    serve_app,
    signed_post,
    wait_for,
    worker_process,
)


async def _post_event(url: str, settings: Settings, message: str) -> None:
    query, body = signed_post(settings, encrypt(settings, message))
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/wecom/callback?{query}", data=body) as response:
            assert response.status == 200


async def _status(event_id: int) -> EventStatus:
    return (await InboxEvent.get(id=event_id)).status


async def test_unreachable_wecom_retries_then_fails_and_cli_lists_and_replays(
    settings: Settings,
) -> None:
    # No sandbox is listening on settings.wecom.api_base: every WeCom call fails.
    settings = dataclasses.replace(
        settings, queue=dataclasses.replace(settings.queue, max_attempts=3)
    )
    async with serve_app(settings) as url, worker_process(settings):
        await _post_event(url, settings, contact_event("add_external_contact", "wmFail1"))
        row = await wait_for(
            lambda: InboxEvent.filter(status=EventStatus.FAILED).first(), what="event failed"
        )
        assert row.attempts == 3
        assert "WeComUnavailable" in (row.last_error or "")

        code, out = await run_cli(settings, "events", "failed")
        assert code == 0
        assert f"{row.id}\t" in out and "change_external_contact/add_external_contact" in out

        code, out = await run_cli(settings, "events", "replay", str(row.id))
        assert code == 0 and f"event {row.id}" in out
        # Replayed: the running server's sweep takes it again; it fails again the
        # same way, with a fresh attempt count.
        await wait_for(lambda: InboxEvent.filter(id=row.id, status=EventStatus.FAILED,
                                                 attempts=3, processed_at__gt=row.processed_at
                                                 ).exists(), what="replayed event failed again")

        code, out = await run_cli(settings, "events", "replay", "999999")
        assert code == 1 and "no event with id 999999" in out
