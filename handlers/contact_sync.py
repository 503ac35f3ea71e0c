"""Full initial contact sync: every staff member's customers from WeCom, resumable.

`get_follow_user_list` gives the staff with customer contact; `batch/get_by_user` pages
their customers 100 staff and 100 relations at a time. After each page the position
(staff batch, cursor) is saved, so an interrupted sync resumes where it stopped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from handlers.contacts import upsert_customer, upsert_follow
from models.contacts import SyncCheckpoint

if TYPE_CHECKING:
    from bot.wecom import WeComClient

log = logging.getLogger("scrm.sync")

CHECKPOINT = "contacts"
STAFF_PER_CALL = 100
PAGE_LIMIT = 100


async def sync_contacts(
    wecom: WeComClient, on_page: Callable[[int], None] = lambda n: None
) -> int:
    """Sync every relation; return how many were stored by this run."""
    checkpoint, _ = await SyncCheckpoint.get_or_create(name=CHECKPOINT, defaults={"state": {}})
    state = dict(checkpoint.state)
    if "staff" not in state:
        state = {"staff": sorted(await wecom.external_contact.get_follow_user_list()),
                 "batch": 0, "cursor": ""}
        await _save(checkpoint, state)
    else:
        log.info("sync.resume batch=%s cursor=%s", state["batch"], bool(state["cursor"]))
    staff: list[str] = state["staff"]
    stored = 0
    while state["batch"] * STAFF_PER_CALL < len(staff):
        start = state["batch"] * STAFF_PER_CALL
        page = await wecom.external_contact.batch_get_by_user(
            staff[start : start + STAFF_PER_CALL], cursor=state["cursor"], limit=PAGE_LIMIT
        )
        for contact, follow in page.items:
            await upsert_follow(await upsert_customer(contact), follow)
        stored += len(page.items)
        on_page(len(page.items))
        if page.next_cursor:
            state["cursor"] = page.next_cursor
        else:
            state["batch"] += 1
            state["cursor"] = ""
        await _save(checkpoint, state)
    await checkpoint.delete()
    log.info("sync.done staff=%d relations=%d", len(staff), stored)
    return stored


async def _save(checkpoint: SyncCheckpoint, state: dict) -> None:
    checkpoint.state = dict(state)
    await checkpoint.save(update_fields=["state", "updated_at"])
