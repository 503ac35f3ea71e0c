"""ExternalContact against the sandbox: customer details, members with customer
contact, and the paged batch listing."""

from __future__ import annotations

from typing import Any

import pytest

from bot.wecom import WeComClient
from bot.wecom.external_contact import BatchPage, ContactDetail, ExternalContactInfo, FollowUser

from .conftest import errcodes

BATCH = "externalcontact/batch/get_by_user"


def seeded_pairs(seeded: dict[str, Any]) -> set[tuple[str, str]]:
    return {(userid, ext) for userid, exts in seeded["follows"].items() for ext in exts}


async def test_batch_get_by_user_pages_through_all_relations(
    client: WeComClient, sandbox: Any
) -> None:
    seeded = await sandbox.seed(staff=3, customers_per_staff=25)
    userids = list(seeded["follows"])
    found: list[tuple[ExternalContactInfo, FollowUser]] = []
    pages: list[BatchPage] = []
    cursor = ""
    while True:
        page = await client.external_contact.batch_get_by_user(userids, cursor, limit=10)
        pages.append(page)
        found.extend(page.items)
        if not page.next_cursor:
            break
        cursor = page.next_cursor

    assert len(pages) == 8
    assert all(len(p.items) == 10 for p in pages[:-1]) and len(pages[-1].items) == 5
    assert {(f.userid, c.external_userid) for c, f in found} == seeded_pairs(seeded)
    assert len(found) == 75
    contact, follow = found[0]
    assert contact.external_userid.startswith("wm") and contact.type == 1 and contact.name
    assert follow.createtime > 0 and follow.tags == ()


async def test_batch_get_by_user_refuses_more_than_100_members(client: WeComClient) -> None:
    with pytest.raises(ValueError):
        await client.external_contact.batch_get_by_user([f"u{n}" for n in range(101)])
    with pytest.raises(ValueError):
        await client.external_contact.batch_get_by_user(["u1"], limit=101)


async def test_get_returns_the_customer_and_followers(
    client: WeComClient, sandbox: Any
) -> None:
    seeded = await sandbox.seed(staff=1, customers_per_staff=1)
    (userid, (external_userid,)), = seeded["follows"].items()

    detail = await client.external_contact.get(external_userid)

    assert isinstance(detail, ContactDetail)
    assert detail.contact.external_userid == external_userid
    assert detail.contact.type == 1 and detail.contact.unionid
    assert [f.userid for f in detail.follow_users] == [userid]
    assert detail.follow_users[0].oper_userid == external_userid


async def test_get_follow_user_list_lists_members_with_customer_contact(
    client: WeComClient, sandbox: Any
) -> None:
    await sandbox.add_staff("zhangsan")
    await sandbox.add_staff("lisi", customer_contact=False)
    await sandbox.add_staff("wangwu")

    assert await client.external_contact.get_follow_user_list() == ["zhangsan", "wangwu"]


async def test_get_reads_tags_and_pages_followers_beyond_500(
    client: WeComClient, sandbox: Any
) -> None:
    customer = await sandbox.add_customer("王语嫣", type=1, unionid="ozynqsulJFCZ2z1aYeS8h")
    external_userid = customer["external_userid"]
    userids = [f"member{n:03d}" for n in range(501)]
    for userid in userids:
        await sandbox.add_staff(userid)
        await sandbox.add_contact(userid, external_userid, state="shop-7", wait=False)
    group = await sandbox.tag_event("create", tag_type="tag_group", name="等级", tags=["金卡"])
    (tag_id,) = group["tag_ids"]
    await sandbox.edit_contact(userids[0], external_userid, remark="老王", add_tag=[tag_id],
                               remark_mobiles=["13800000000"], wait=False)

    detail = await client.external_contact.get(external_userid)

    assert detail.contact.name == "王语嫣" and detail.contact.unionid == "ozynqsulJFCZ2z1aYeS8h"
    assert [f.userid for f in detail.follow_users] == userids
    first = detail.follow_users[0]
    assert first.remark == "老王" and first.state == "shop-7" and first.add_way == 1
    assert first.tag_ids == (tag_id,)
    assert [(t.group_name, t.tag_name, t.type) for t in first.tags] == [("等级", "金卡", 1)]
    assert first.remark_mobiles == ("13800000000",)
    assert await errcodes(sandbox, "externalcontact/get") == [0, 0]

    page = await client.external_contact.batch_get_by_user([userids[0]])
    ((contact, follow),) = page.items
    assert contact.external_userid == external_userid
    assert follow.tag_ids == (tag_id,) and follow.tags == ()
