"""CorpTag against the sandbox: the tag library, adding by group name or id, editing,
deleting, marking tags on a customer, and the typed errors."""

from __future__ import annotations

from typing import Any

import pytest

from bot.wecom import InvalidTag, NoRelationship, WeComClient, WeComError
from bot.wecom.corp_tag import TagGroupInfo, TagInfo


async def test_add_list_edit_and_delete(client: WeComClient, sandbox: Any) -> None:
    created = await client.corp_tag.add(["金卡", "银卡"], group_name="等级", order=3)
    assert isinstance(created, TagGroupInfo)
    assert (created.group_name, created.order, created.deleted) == ("等级", 3, False)
    gold, silver = created.tags
    assert (gold.name, silver.name) == ("金卡", "银卡") and gold.create_time > 0
    more = await client.corp_tag.add(["铜卡"], group_id=created.group_id)
    assert more.group_id == created.group_id and [t.name for t in more.tags] == ["铜卡"]

    await client.corp_tag.edit(gold.id, name="黑金", order=9)
    await client.corp_tag.edit(created.group_id, name="会员等级")
    [group] = await client.corp_tag.list()
    assert group.group_name == "会员等级"
    assert [(t.name, t.order) for t in group.tags] == [("黑金", 9), ("银卡", 0), ("铜卡", 0)]

    await client.corp_tag.delete(tag_ids=[silver.id])
    [asked] = await client.corp_tag.list(tag_ids=[silver.id, gold.id])
    assert asked.deleted is False
    assert asked.tags == (TagInfo(gold.id, "黑金", gold.create_time, 9, False),
                          TagInfo(silver.id, "银卡", silver.create_time, 0, True))

    await client.corp_tag.delete(group_ids=[created.group_id])
    assert await client.corp_tag.list() == []
    [gone] = await client.corp_tag.list(group_ids=[created.group_id])
    assert gone.deleted and all(t.deleted for t in gone.tags)


async def test_unknown_ids_raise_invalid_tag(client: WeComClient, sandbox: Any) -> None:
    for call in (client.corp_tag.add(["x"], group_id="etNoSuchGroup"),
                 client.corp_tag.edit("etNoSuchTag", name="x"),
                 client.corp_tag.delete(tag_ids=["etNoSuchTag"])):
        with pytest.raises(InvalidTag) as raised:
            await call
        assert raised.value.errcode == 40068


async def test_a_bad_name_is_a_plain_wecom_error(client: WeComClient, sandbox: Any) -> None:
    with pytest.raises(WeComError) as raised:
        await client.corp_tag.add(["x" * 31], group_name="G")
    assert (type(raised.value), raised.value.errcode) == (WeComError, 40071)


async def test_arguments_are_checked_before_calling(client: WeComClient, sandbox: Any) -> None:
    with pytest.raises(ValueError):
        await client.corp_tag.add(["x"], group_name="G", group_id="etG")
    with pytest.raises(ValueError):
        await client.corp_tag.add(["x"])
    with pytest.raises(ValueError):
        await client.corp_tag.mark("zhangsan", "wmX")
    with pytest.raises(ValueError):
        await client.corp_tag.delete()
    assert (await sandbox.calls())["total"] == 0


async def test_mark_adds_and_removes_tags_seen_by_get(client: WeComClient, sandbox: Any) -> None:
    await sandbox.add_staff("zhangsan")
    eid = (await sandbox.add_customer("李四"))["external_userid"]
    await sandbox.add_contact("zhangsan", eid)
    vip, new = (await client.corp_tag.add(["VIP", "新客"], group_name="等级")).tags

    await client.corp_tag.mark("zhangsan", eid, add=[vip.id, new.id])
    await client.corp_tag.mark("zhangsan", eid, remove=[new.id])

    [follow] = (await client.external_contact.get(eid)).follow_users
    assert follow.tag_ids == (vip.id,)
    assert [(t.group_name, t.tag_name, t.type) for t in follow.tags] == [("等级", "VIP", 1)]
    with pytest.raises(InvalidTag):
        await client.corp_tag.mark("zhangsan", eid, add=["etNoSuchTag"])
    await sandbox.add_staff("lisi")
    await sandbox.add_contact("lisi", eid, half=True)
    with pytest.raises(NoRelationship) as raised:
        await client.corp_tag.mark("lisi", eid, add=[vip.id])
    assert raised.value.api == "externalcontact/mark_tag"
