"""Failed inbox events over real HTTP: a handler failure shows up in the list, a replay
runs it again."""

from __future__ import annotations

import dataclasses
from typing import Any

from bot.settings import Settings
from tests.admin_api.conftest import TAG_LIST, admin_client
from tests.apphost import wait_for
from tests.sandbox_fixtures import SandboxConsole


async def test_failed_event_is_listed_and_replayed(settings: Settings,
                                                   corp: SandboxConsole) -> None:
    one_try = dataclasses.replace(settings,
                                  queue=dataclasses.replace(settings.queue, max_attempts=1))
    async with admin_client(one_try, worker=True) as admin:
        assert (await admin.get("/events/failed")).json()["total"] == 0
        # An admin adds a tag group in the WeCom console; re-reading it from WeCom fails.
        await corp.fault(TAG_LIST, 60011, 1)
        await corp.tag_event("create", tag_type="tag_group", name="活动", tags=["春季"])

        async def failed() -> list[dict[str, Any]]:
            return list((await admin.get("/events/failed")).json()["items"])

        [event] = await wait_for(failed, what="the tag event to fail")
        assert event["event"] == "change_external_tag"
        assert event["change_type"] == "create"
        assert event["attempts"] == 1 and event["status"] == "failed"
        assert "60011" in event["last_error"]
        assert event["received_at"]
        assert (await admin.get("/tags")).json()["total"] == 0

        reply = await admin.post(f"/events/{event['id']}/replay")
        assert reply.status == 202, reply.body
        assert reply.json()["status"] == "pending" and reply.json()["attempts"] == 0

        async def mirrored() -> bool:
            return bool((await admin.get("/tags")).json()["total"])

        await wait_for(mirrored, what="the replayed event to fill the mirror")
        assert await failed() == []
        assert (await admin.post("/events/424242/replay")).status == 404


async def test_failed_list_pages(settings: Settings, corp: SandboxConsole) -> None:
    one_try = dataclasses.replace(settings,
                                  queue=dataclasses.replace(settings.queue, max_attempts=1))
    async with admin_client(one_try, worker=True) as admin:
        await corp.fault(TAG_LIST, 60011, 3)
        for name in ("甲", "乙", "丙"):
            await corp.tag_event("create", tag_type="tag_group", name=name, tags=["t"])

        async def three_failed() -> bool:
            return bool((await admin.get("/events/failed")).json()["total"] == 3)

        await wait_for(three_failed, what="three failed events")
        page = (await admin.get("/events/failed", params={"limit": "2"})).json()
        assert page["total"] == 3 and len(page["items"]) == 2
        rest = (await admin.get("/events/failed", params={"limit": "2", "offset": "2"})).json()
        ids = [e["id"] for e in page["items"] + rest["items"]]
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == 3
