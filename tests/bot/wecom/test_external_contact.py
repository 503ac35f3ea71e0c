"""ExternalContact against the sandbox: customer details, members with customer
contact, the paged batch listing, the remark and the welcome message."""

from __future__ import annotations

from typing import Any

import pytest

from bot.wecom import (
    AlreadyChatted,
    NoRelationship,
    WeComClient,
    WelcomeCodeInvalid,
    WelcomeSending,
)
from bot.wecom.external_contact import BatchPage, ContactDetail, ExternalContactInfo, FollowUser

from .conftest import FakeTime, errcodes

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


SEND = "externalcontact/send_welcome_msg"
ATTACHMENTS = [
    {"msgtype": "image", "image": {"media_id": "MEDIA_ID"}},
    {"msgtype": "link", "link": {"title": "会员中心", "url": "https://example.com/m"}},
    {"msgtype": "miniprogram", "miniprogram": {"title": "安心码", "pic_media_id": "MEDIA",
                                               "appid": "wx8bd80126147dfAAA",
                                               "page": "/pages/index"}},
]


@pytest.fixture
async def guide(sandbox: Any) -> str:
    return str((await sandbox.add_staff("zhangsan"))["userid"])


async def new_contact(sandbox: Any) -> tuple[str, str]:
    """A new customer of zhangsan's (the `guide`) and the add's WelcomeCode."""
    eid = (await sandbox.add_customer("李四"))["external_userid"]
    return eid, (await sandbox.add_contact("zhangsan", eid))["welcome_code"]


async def test_send_welcome_msg_delivers_text_and_attachments(
    client: WeComClient, sandbox: Any, guide: str
) -> None:
    eid, code = await new_contact(sandbox)
    other, image_only = await new_contact(sandbox)

    await client.external_contact.send_welcome_msg(code, "欢迎光临", ATTACHMENTS)
    await client.external_contact.send_welcome_msg(image_only, attachments=ATTACHMENTS[:1])

    sent = await sandbox.welcome_messages()
    assert [(m["external_userid"], m["welcome_code"], m["text"], m["attachments"])
            for m in sent] == [(eid, code, "欢迎光临", ATTACHMENTS),
                               (other, image_only, None, ATTACHMENTS[:1])]


async def test_welcome_errors_are_typed(
    client: WeComClient, sandbox: Any, guide: str
) -> None:
    _, used = await new_contact(sandbox)
    _, late = await new_contact(sandbox)
    await client.external_contact.send_welcome_msg(used, "hi")

    with pytest.raises(AlreadyChatted) as chatted:
        await client.external_contact.send_welcome_msg(used, "hi")
    await sandbox.advance_clock(20)
    with pytest.raises(WelcomeCodeInvalid) as expired:
        await client.external_contact.send_welcome_msg(late, "hi")

    assert (chatted.value.errcode, expired.value.errcode) == (41051, 41050)
    assert await errcodes(sandbox, SEND) == [0, 41051, 41050]


async def test_welcome_sending_raises_then_a_retry_delivers(
    client: WeComClient, sandbox: Any, fake_time: FakeTime, guide: str
) -> None:
    _, code = await new_contact(sandbox)
    await sandbox.fault(SEND, 41096, 1)

    with pytest.raises(WelcomeSending) as sending:
        await client.external_contact.send_welcome_msg(code, "hi")
    await client.external_contact.send_welcome_msg(code, "hi")

    assert sending.value.errcode == 41096
    assert await errcodes(sandbox, SEND) == [41096, 0]
    assert len(await sandbox.welcome_messages()) == 1
    assert fake_time.sleeps == []


async def test_remark_changes_only_what_is_given(
    client: WeComClient, sandbox: Any, guide: str
) -> None:
    eid, _ = await new_contact(sandbox)
    await client.external_contact.remark(guide, eid, remark="李四-门店",
                                         description="老客户")
    await client.external_contact.remark(guide, eid, description="常客")

    [follow] = (await client.external_contact.get(eid)).follow_users
    assert (follow.remark, follow.description) == ("李四-门店", "常客")
    stranger = (await sandbox.add_customer("路人"))["external_userid"]
    with pytest.raises(NoRelationship):
        await client.external_contact.remark(guide, stranger, remark="x")
