"""Inbox event routes: the events whose processing failed, and replaying one.

A replay resets the event through `bot.processing.replay` (fresh attempts, due now) and
puts its id on the queue at once, in the lane its kind travels in.
"""

from __future__ import annotations

import logging

from aiohttp import web

from admin_api.errors import Conflict, NotFound
from admin_api.serialize import event_json
from bot import query
from bot.keys import LANES
from bot.pagination import Page
from bot.processing import replay
from bot.queue import enqueuer
from handlers.dispatch import is_urgent
from models.events import EventStatus, InboxEvent

log = logging.getLogger("scrm.admin")


async def failed_events(request: web.Request) -> web.Response:
    """Newest first."""
    page = Page.of(request)
    found, total = await page.rows(InboxEvent.filter(status=EventStatus.FAILED).order_by("-id"))
    return page.answer([event_json(event) for event in found], total)


async def replay_event(request: web.Request) -> web.Response:
    event_id = query.path_id(request)
    try:
        event = await replay(event_id)
    except LookupError:
        raise NotFound(f"no event with id {event_id}") from None
    except ValueError as exc:
        raise Conflict(str(exc)) from None
    await enqueuer(request.config_dict[LANES])([event.id],
                                               is_urgent(event.event, event.change_type))
    log.info("admin.event.replayed id=%s event=%s/%s", event.id, event.event, event.change_type)
    return web.json_response(event_json(event), status=202)


routes = [
    web.get("/events/failed", failed_events),
    web.post(r"/events/{id:\d+}/replay", replay_event),
]
