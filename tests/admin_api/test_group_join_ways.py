"""Group QR code routes (加入群聊 join ways) end to end: the way in WeCom and here, the
refusals before anything reaches WeCom, and customers who join through the QR code
attributed and tagged through their follow relation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.settings import Settings
from models.events import EventStatus, InboxEvent
from models.groups import GroupChat, GroupJoin, GroupJoinWay, GroupMember
from tests.admin_api.conftest import GUIDES, AdminClient, admin_client
from tests.apphost import wait_for
from tests.bot.sandbox.wecom_api import WeComApi
from tests.sandbox_fixtures import SandboxConsole

OWNER, OTHER = GUIDES
ADD = "externalcontact/groupchat/add_join_way"
GET_WAY = "externalcontact/groupchat/get_join_way"
DEL = "externalcontact/groupchat/del_join_way"
MARK = "externalcontact/mark_tag"


@pytest.fixture
async def admin(settings: Settings, corp: SandboxConsole) -> AsyncIterator[AdminClient]:
    """The admin API with events processed (by a worker process on Redis)."""
    async with admin_client(settings, worker=True) as client:
        yield client


async def _all_done() -> bool:
    return not await InboxEvent.filter(
        status__in=[EventStatus.PENDING, EventStatus.PROCESSING]).exists()


async def _groups(corp: SandboxConsole, count: int) -> list[str]:
    """Groups of OWNER's that we hold (their create events processed)."""
    chat_ids = []
    for n in range(count):
        created = await corp.group_event("create", owner=OWNER, name=f"门店群{n}")
        chat_ids.append(str(created["chat"]["chat_id"]))
    await wait_for(lambda: _held(chat_ids), what="groups stored")
    return chat_ids


async def _held(chat_ids: list[str]) -> bool:
    return await GroupChat.filter(chat_id__in=chat_ids).count() == len(chat_ids)


async def _tag(admin: AdminClient, name: str = "活码入群") -> str:
    reply = await admin.post("/tags", {"group": "入群", "name": name})
    assert reply.status == 201, reply.body
    return str(reply.json()["id"])


async def _way_in_wecom(api: WeComApi, config_id: str) -> dict[str, Any]:
    return await api.post(GET_WAY, await api.token(), {"config_id": config_id})


async def test_create_read_update_delete(
    admin: AdminClient, corp: SandboxConsole, wecom_api: WeComApi
) -> None:
    chats = await _groups(corp, 3)
    tag_id = await _tag(admin)
    reply = await admin.post("/groups/join-ways", {
        "name": "门店群码", "chat_ids": chats[:2], "tag_ids": [tag_id],
        "room_base_name": "门店新群", "room_base_id": 10})
    assert reply.status == 201, reply.body
    way = reply.json()
    assert way["state"].startswith("gj") and len(way["state"]) <= 30
    assert way["qr_code"].endswith(f"/sandbox/join/{way['config_id']}")
    assert way["tags"] == [{"id": tag_id, "group": "入群", "name": "活码入群"}]
    assert (way["chat_ids"], way["auto_create_room"], way["joins"]) == (
        chats[:2], True, {"total": 0, "tagged": 0})
    held = (await _way_in_wecom(wecom_api, way["config_id"]))["join_way"]
    assert (held["chat_id_list"], held["state"], held["room_base_name"],
            held["room_base_id"], held["auto_create_room"], held["remark"]) == (
        chats[:2], way["state"], "门店新群", 10, 1, "门店群码")

    listed = (await admin.get("/groups/join-ways")).json()
    assert listed["total"] == 1 and listed["items"][0]["config_id"] == way["config_id"]
    path = f"/groups/join-ways/{way['config_id']}"
    assert (await admin.get(path)).json() == way

    patched = await admin.patch(path, {"chat_ids": [chats[2]], "remark": "春季",
                                       "auto_create_room": False})
    assert patched.status == 200, patched.body
    assert (patched.json()["chat_ids"], patched.json()["remark"]) == ([chats[2]], "春季")
    held = (await _way_in_wecom(wecom_api, way["config_id"]))["join_way"]
    assert (held["chat_id_list"], held["remark"], held["auto_create_room"]) == (
        [chats[2]], "春季", 0)
    for body, field in (({"state": "gj-other"}, "state"), ({"chat_ids": []}, "chat_ids"),
                        ({"colour": "red"}, "colour")):
        refused = await admin.patch(path, body)
        assert (refused.status, refused.error["field"]) == (400, field), body

    assert (await admin.delete(path)).status == 204
    assert (await _way_in_wecom(wecom_api, way["config_id"]))["errcode"] == 41044
    assert (await admin.get(path)).status == 404
    assert (await admin.delete(path)).status == 404


async def test_bad_input_is_refused_before_wecom(
    admin: AdminClient, corp: SandboxConsole
) -> None:
    chats = await _groups(corp, 6)
    gone = await corp.group_event("create", owner=OTHER, name="散群")
    await wait_for(lambda: _held([gone["chat"]["chat_id"]]), what="group stored")
    await corp.group_event("dismiss", chat_id=gone["chat"]["chat_id"])
    await wait_for(lambda: GroupChat.exists(chat_id=gone["chat"]["chat_id"],
                                            status="dismissed"), what="dismissed")
    refusals: list[tuple[dict[str, Any], str]] = [
        ({"name": "太多", "chat_ids": chats}, "chat_ids"),
        ({"name": "没群", "chat_ids": []}, "chat_ids"),
        ({"name": "未知", "chat_ids": ["wrNoSuchGroup"]}, "chat_ids"),
        ({"name": "解散", "chat_ids": [gone["chat"]["chat_id"]]}, "chat_ids"),
        ({"name": "标签", "chat_ids": chats[:1], "tag_ids": ["etNoSuchTag"]}, "tag_ids"),
        ({"name": "长", "chat_ids": chats[:1], "state": "s" * 31}, "state"),
        ({"name": "", "chat_ids": chats[:1]}, "name"),
        ({"name": "基数", "chat_ids": chats[:1], "room_base_id": -1}, "room_base_id"),
        ({"name": "基名", "chat_ids": chats[:1], "room_base_name": "n" * 41},
         "room_base_name"),
        ({"chat_ids": chats[:1]}, "name"),
    ]
    for body, field in refusals:
        reply = await admin.post("/groups/join-ways", body)
        assert (reply.status, reply.error["field"]) == (400, field), body
    assert await corp.call_count(ADD) == 0

    first = await admin.post("/groups/join-ways",
                             {"name": "甲", "chat_ids": chats[:1], "state": "gj-store-1"})
    assert first.status == 201 and first.json()["state"] == "gj-store-1"
    taken = await admin.post("/groups/join-ways",
                             {"name": "乙", "chat_ids": chats[1:2], "state": "gj-store-1"})
    assert (taken.status, taken.error["code"]) == (409, "conflict")
    assert await corp.call_count(ADD) == 1


async def test_wecom_failures_leave_nothing_behind(
    admin: AdminClient, corp: SandboxConsole
) -> None:
    chats = await _groups(corp, 1)
    await corp.fault(ADD, 48002, 1)
    refused = await admin.post("/groups/join-ways", {"name": "甲", "chat_ids": chats})
    assert (refused.status, refused.error["errcode"]) == (502, 48002)
    # Made in WeCom, then reading its QR code fails: the way is deleted again.
    await corp.fault(GET_WAY, 48002, 1)
    failed = await admin.post("/groups/join-ways", {"name": "乙", "chat_ids": chats})
    assert (failed.status, failed.error["errcode"]) == (502, 48002)
    assert await corp.call_count(DEL) == 1
    assert (await corp.state())["join_ways"] == 0
    assert not await GroupJoinWay.exists()


async def _join(corp: SandboxConsole, config_id: str, **who: Any) -> str:
    joined = await corp.join_group(config_id, **who)
    assert joined["delivery"]["outcome"] == "delivered"
    return str(joined["chat"]["chat_id"])


async def test_joins_are_attributed_and_tagged_through_a_follow_relation(
    admin: AdminClient, corp: SandboxConsole, wecom_api: WeComApi
) -> None:
    chats = await _groups(corp, 1)
    tag_id = await _tag(admin)
    way = (await admin.post("/groups/join-ways", {
        "name": "门店群码", "chat_ids": chats, "tag_ids": [tag_id]})).json()
    follower = (await corp.add_customer("老客", unionid="o-follower"))["external_userid"]
    for guide in (OTHER, OWNER):
        await corp.add_contact(guide, follower)
    await wait_for(_all_done, what="contacts stored")

    assert await _join(corp, way["config_id"], external_userid=follower) == chats[0]
    assert await _join(corp, way["config_id"], name="路人") == chats[0]
    await wait_for(lambda: _joins(2), what="both joins recorded")
    await wait_for(_all_done, what="joins processed")
    tagged = await GroupJoin.get(external_userid=follower)
    assert (tagged.config_id, tagged.state, tagged.chat_id) == (
        way["config_id"], way["state"], chats[0])
    assert (tagged.tagged, tagged.tagged_via) == (True, OWNER)  # the owner's relation
    stranger = await GroupJoin.get(tagged=False)
    assert stranger.tagged_via == "" and stranger.external_userid != follower
    member = await GroupMember.get(chat_id=chats[0], userid=follower)
    assert (member.join_scene, member.state) == (3, way["state"])

    detail = await wecom_api.get("externalcontact/get", await wecom_api.token(),
                                 external_userid=follower)
    tags = {f["userid"]: [t["tag_id"] for t in f.get("tags", [])]
            for f in detail["follow_user"]}
    assert tags == {OWNER: [tag_id], OTHER: []}
    read = (await admin.get(f"/groups/join-ways/{way['config_id']}")).json()
    assert read["joins"] == {"total": 2, "tagged": 1}

    # The stranger adds a guide later: the next time the group is stored, their
    # join gets its tags (and the follower's is not marked again).
    marks = await corp.call_count(MARK)
    await corp.add_contact(OTHER, stranger.external_userid)
    await wait_for(_all_done, what="contact stored")
    await corp.group_event("update", chat_id=chats[0], update_detail="change_name",
                           name="门店群·新")
    await wait_for(lambda: GroupJoin.exists(id=stranger.id, tagged=True),
                   what="the waiting join tagged")
    assert (await GroupJoin.get(id=stranger.id)).tagged_via == OTHER
    assert await corp.call_count(MARK) == marks + 1
    assert await GroupJoin.all().count() == 2


async def _joins(count: int) -> bool:
    return await GroupJoin.all().count() == count
