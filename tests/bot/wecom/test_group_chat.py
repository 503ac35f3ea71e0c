"""GroupChat against the sandbox: a full sync paged by owner, a group's members as the
domain reads them, and a group QR code created, scanned, changed and deleted."""

from __future__ import annotations

from typing import Any

import pytest

from bot.wecom import WeComClient, WeComError
from bot.wecom.group_chat import GroupMemberInfo, JoinWay


@pytest.fixture
async def owners(sandbox: Any) -> list[str]:
    for userid in ("owner1", "owner2"):
        await sandbox.add_staff(userid, f"店长{userid[-1]}")
    return ["owner1", "owner2"]


async def test_list_pages_through_every_group_of_the_owners(
    client: WeComClient, sandbox: Any, owners: list[str]
) -> None:
    chat_ids = await sandbox.bulk_groups(owners, 3)
    listed: list[tuple[str, int]] = []
    cursor = ""
    while True:
        page = await client.group_chat.list(owners=owners, cursor=cursor, limit=4)
        listed += page.chats
        cursor = page.next_cursor
        if not cursor:
            break
    assert listed == [(chat_id, 0) for chat_id in chat_ids]
    only_two = await client.group_chat.list(owners=["owner2"])
    assert [c for c, _ in only_two.chats] == chat_ids[1::2]
    with pytest.raises(ValueError):
        await client.group_chat.list(owners=[f"u{n}" for n in range(101)])


async def test_get_reads_members_admins_and_version(
    client: WeComClient, sandbox: Any, owners: list[str]
) -> None:
    customer = await sandbox.add_customer("王语嫣", unionid="ozU1")
    created = await sandbox.group_event("create", owner="owner1", name="客服群",
                                        members=["owner2"], admins=["owner2"])
    chat_id = created["chat"]["chat_id"]
    joined = await sandbox.group_event("update", chat_id=chat_id, update_detail="add_member",
                                       members=[customer["external_userid"]], join_scene=3,
                                       state="poster")
    detail = await client.group_chat.get(chat_id)
    assert (detail.chat_id, detail.name, detail.owner, detail.admins,
            detail.member_version) == (chat_id, "客服群", "owner1", ("owner2",),
                                       joined["chat"]["member_version"])
    member = detail.members[-1]
    assert member == GroupMemberInfo(
        userid=customer["external_userid"], type=2, join_time=member.join_time, join_scene=3,
        state="poster", unionid="ozU1", invitor="", group_nickname="", name="王语嫣")
    assert (detail.members[1].invitor, detail.members[1].name) == ("owner1", "店长2")

    await sandbox.group_event("dismiss", chat_id=chat_id)
    with pytest.raises(WeComError) as gone:
        await client.group_chat.get(chat_id)
    assert gone.value.errcode == 90501


async def test_join_way_created_scanned_changed_and_deleted(
    client: WeComClient, sandbox: Any, owners: list[str]
) -> None:
    chat_ids = await sandbox.bulk_groups(["owner1"], 6)
    config_id = await client.group_chat.add_join_way(JoinWay(
        chat_ids=chat_ids[:2], state="spring", remark="春季海报", room_base_name="春季群",
        room_base_id=3))
    way = await client.group_chat.get_join_way(config_id)
    assert (way.chat_ids, way.state, way.remark, way.auto_create_room, way.room_base_name,
            way.room_base_id, way.scene) == (tuple(chat_ids[:2]), "spring", "春季海报", True,
                                             "春季群", 3, 2)
    assert way.qr_code == f"{sandbox.url}/sandbox/join/{config_id}"

    joined = await sandbox.join_group(config_id, name="扫码客")
    detail = await client.group_chat.get(joined["chat"]["chat_id"])
    assert (detail.members[-1].state, detail.members[-1].join_scene) == ("spring", 3)

    await client.group_chat.update_join_way(config_id, JoinWay(
        chat_ids=chat_ids[2:5], state="summer", auto_create_room=False))
    way = await client.group_chat.get_join_way(config_id)
    assert (way.chat_ids, way.state, way.auto_create_room, way.room_base_name) == (
        tuple(chat_ids[2:5]), "summer", False, "")
    with pytest.raises(ValueError):
        await client.group_chat.add_join_way(JoinWay(chat_ids=chat_ids))

    await client.group_chat.del_join_way(config_id)
    with pytest.raises(WeComError) as deleted:
        await client.group_chat.get_join_way(config_id)
    assert deleted.value.errcode == 41044
