"""Customer group routes: a full sync, the list with its filters, a group's members, and
local labels (replaced per group, or added and removed on many at once)."""

from __future__ import annotations

from typing import Any

from tests.admin_api.conftest import GUIDES, AdminClient, Reply
from tests.sandbox_fixtures import SandboxConsole

OWNER, OTHER = GUIDES


async def _synced(admin: AdminClient, corp: SandboxConsole) -> dict[str, list[str]]:
    """Groups in WeCom (3 of OWNER's, 2 of OTHER's), synced through the route."""
    groups = {owner: await corp.bulk_groups([owner], n, customers_per_group=1)
              for owner, n in ((OWNER, 3), (OTHER, 2))}
    reply = await admin.post("/groups/sync")
    assert reply.status == 200, reply.body
    assert reply.json() == {"groups": 5, "members": 10, "dismissed": 0, "failed": 0,
                            "joins": 0}
    return groups


async def _items(admin: AdminClient, **params: str) -> dict[str, Any]:
    reply = await admin.get("/groups", params=params)
    assert reply.status == 200, reply.body
    return dict(reply.json())


async def _labels(admin: AdminClient, chat_id: str) -> list[str]:
    return list((await admin.get(f"/groups/{chat_id}")).json()["labels"])


async def test_sync_then_list_filter_and_read(admin: AdminClient, corp: SandboxConsole) -> None:
    groups = await _synced(admin, corp)
    listed = await _items(admin)
    assert listed["total"] == 5 and len(listed["items"]) == 5
    first = next(g for g in listed["items"] if g["chat_id"] == groups[OWNER][0])
    assert (first["owner"], first["status"], first["member_count"], first["labels"]) == (
        OWNER, "active", 2, [])
    assert first["name"] == f"群{OWNER}-1"
    assert {g["chat_id"] for g in (await _items(admin, owner=OTHER))["items"]} == \
        set(groups[OTHER])
    assert (await _items(admin, name_contains=OWNER.upper()))["total"] == 3
    page = await _items(admin, limit="2", offset="4")
    assert (page["total"], len(page["items"]), page["limit"], page["offset"]) == (5, 1, 2, 4)
    assert (await _items(admin, status="dismissed"))["total"] == 0
    assert (await _items(admin, status="active"))["total"] == 5
    bad = await admin.get("/groups", params={"status": "gone"})
    assert (bad.status, bad.error["field"]) == (400, "status")

    detail = (await admin.get(f"/groups/{groups[OWNER][0]}")).json()
    assert detail["chat_id"] == groups[OWNER][0] and detail["admins"] == []
    assert [(m["userid"], m["type"]) for m in detail["members"]][0] == (OWNER, "staff")
    [customer] = [m for m in detail["members"] if m["type"] == "customer"]
    assert customer["name"].startswith("群客户") and customer["unionid"]
    assert customer["invitor"] == OWNER and customer["left_at"] is None
    missing = await admin.get("/groups/wrNoSuchGroup")
    assert (missing.status, missing.error["code"]) == (404, "not_found")


async def test_replace_labels(admin: AdminClient, corp: SandboxConsole) -> None:
    groups = await _synced(admin, corp)
    chat_id = groups[OWNER][0]
    reply = await admin.request("PUT", f"/groups/{chat_id}/labels",
                                json={"labels": [" store:Shanghai-01 ", "VIP group", "VIP group"]})
    assert reply.status == 200, reply.body
    assert reply.json() == {"chat_id": chat_id, "labels": ["VIP group", "store:Shanghai-01"]}
    assert [g["chat_id"] for g in (await _items(admin, label="VIP group"))["items"]] == [chat_id]
    assert (await _items(admin, label="store:Shanghai-01", owner=OTHER))["total"] == 0

    replaced = await admin.request("PUT", f"/groups/{chat_id}/labels",
                                   json={"labels": ["华东"]})
    assert replaced.json()["labels"] == ["华东"]
    assert await _labels(admin, chat_id) == ["华东"]

    refusals: list[tuple[Any, str]] = [
        ({"labels": [f"l{n}" for n in range(21)]}, "labels"),
        ({"labels": ["x" * 65]}, "labels[0]"),
        ({"labels": ["ok", "   "]}, "labels[1]"),
        ({"labels": "VIP"}, "labels"),
        ({}, "labels"),
        ({"labels": [], "extra": 1}, "extra"),
    ]
    for body, field in refusals:
        refused = await admin.request("PUT", f"/groups/{chat_id}/labels", json=body)
        assert (refused.status, refused.error["field"]) == (400, field), body
    assert await _labels(admin, chat_id) == ["华东"]
    unknown = await admin.request("PUT", "/groups/wrNoSuchGroup/labels", json={"labels": []})
    assert unknown.status == 404

    cleared = await admin.request("PUT", f"/groups/{chat_id}/labels", json={"labels": []})
    assert cleared.json()["labels"] == [] and await _labels(admin, chat_id) == []


async def _bulk(admin: AdminClient, **body: Any) -> Reply:
    return await admin.post("/groups/labels", body)


async def test_bulk_labels_are_all_or_nothing(admin: AdminClient,
                                              corp: SandboxConsole) -> None:
    groups = await _synced(admin, corp)
    mine = groups[OWNER]
    await admin.request("PUT", f"/groups/{mine[0]}/labels", json={"labels": ["VIP group"]})
    reply = await _bulk(admin, chat_ids=mine, add=["华东", " 门店 "], remove=["VIP group"])
    assert reply.status == 200, reply.body
    assert reply.json() == {"groups": [{"chat_id": c, "labels": ["华东", "门店"]}
                                       for c in mine]}
    assert (await _items(admin, label="门店"))["total"] == 3

    removed = await _bulk(admin, chat_ids=mine[:1], remove=["门店"])
    assert removed.json()["groups"] == [{"chat_id": mine[0], "labels": ["华东"]}]

    # One group would pass 20 labels: no group changes.
    await admin.request("PUT", f"/groups/{mine[1]}/labels",
                        json={"labels": [f"l{n}" for n in range(19)]})
    over = await _bulk(admin, chat_ids=[mine[0], mine[1]], add=["a", "b"])
    assert (over.status, over.error["field"]) == (400, "labels")
    assert mine[1] in over.error["message"]
    assert await _labels(admin, mine[0]) == ["华东"]
    unknown = await _bulk(admin, chat_ids=[mine[2], "wrNoSuchGroup"], add=["新"])
    assert (unknown.status, unknown.error["field"]) == (400, "chat_ids")
    assert "wrNoSuchGroup" in unknown.error["message"]
    assert "新" not in await _labels(admin, mine[2])

    refusals: list[tuple[dict[str, Any], str]] = [
        ({"chat_ids": mine}, "add"),
        ({"chat_ids": [], "add": ["x"]}, "chat_ids"),
        ({"chat_ids": mine, "add": ["x"], "remove": ["x"]}, "remove"),
        ({"chat_ids": mine, "add": [""]}, "add[0]"),
        ({"add": ["x"]}, "chat_ids"),
    ]
    for body, field in refusals:
        refused = await _bulk(admin, **body)
        assert (refused.status, refused.error["field"]) == (400, field), body
