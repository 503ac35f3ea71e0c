"""MsgTemplate against the sandbox: a group push created, read back page by page before
and after the owner confirms, the monthly receive limit, reminders and cancelling."""

from __future__ import annotations

from typing import Any

import pytest

from bot.wecom import WeComClient, WeComError
from bot.wecom.msg_template import (
    RESULT_LIMIT,
    RESULT_NOT_SENT,
    RESULT_SENT,
    SENDER_SENT,
    GroupSendResult,
    SenderStatus,
)
from tests.bot.wecom.conftest import errcodes

IMAGE = {"msgtype": "image", "image": {"pic_url": "https://example.com/a.png"}}


@pytest.fixture
async def chat_ids(sandbox: Any) -> list[str]:
    await sandbox.add_staff("owner1")
    return list(await sandbox.bulk_groups(["owner1"], 3))


async def test_a_push_is_read_back_before_and_after_the_owner_confirms(
    client: WeComClient, sandbox: Any, chat_ids: list[str]
) -> None:
    created = await client.msg_template.add_group_push(
        sender="owner1", chat_ids=[*chat_ids, "wrUNKNOWN"], text="周一好", attachments=[IMAGE])
    assert created.fail_list == ("wrUNKNOWN",)
    assert await client.msg_template.get_task(created.msgid) == [
        SenderStatus(userid="owner1", status=0, send_time=0)]
    assert {r.status for r in await client.msg_template.get_send_result(
        created.msgid, "owner1")} == {RESULT_NOT_SENT}

    task = await sandbox.confirm_group_push(created.msgid)
    at = task["send_time"]
    assert await client.msg_template.get_task(created.msgid) == [
        SenderStatus(userid="owner1", status=SENDER_SENT, send_time=at)]
    assert await client.msg_template.get_send_result(created.msgid, "owner1") == [
        GroupSendResult(chat_id=c, userid="owner1", status=RESULT_SENT, send_time=at)
        for c in chat_ids]
    assert (task["text"], task["attachments"]) == ("周一好", [IMAGE])


async def test_send_results_over_a_thousand_groups_come_in_pages(
    client: WeComClient, sandbox: Any, chat_ids: list[str]
) -> None:
    many = await sandbox.bulk_groups(["owner1"], 1200)
    await sandbox.group_push_policy(auto="confirm", userid="owner1")
    created = await client.msg_template.add_group_push(sender="owner1", chat_ids=many,
                                                       text="大促")
    results = await client.msg_template.get_send_result(created.msgid, "owner1")
    assert [r.chat_id for r in results] == many
    assert {r.status for r in results} == {RESULT_SENT}
    assert len(await errcodes(sandbox, "externalcontact/get_groupmsg_send_result")) == 2


async def test_a_group_over_the_receive_limit_is_reported(
    client: WeComClient, sandbox: Any, chat_ids: list[str]
) -> None:
    await sandbox.group_push_policy(auto="confirm", receive_limit=1)
    first = await client.msg_template.add_group_push(sender="owner1", chat_ids=chat_ids[:1],
                                                     text="一")
    second = await client.msg_template.add_group_push(sender="owner1", chat_ids=chat_ids[:2],
                                                      text="二")
    assert [r.status for r in await client.msg_template.get_send_result(
        first.msgid, "owner1")] == [RESULT_SENT]
    assert [(r.status, r.send_time) for r in await client.msg_template.get_send_result(
        second.msgid, "owner1")][0] == (RESULT_LIMIT, 0)


async def test_reminders_cancelling_and_the_dispatch_error(
    client: WeComClient, sandbox: Any, chat_ids: list[str]
) -> None:
    created = await client.msg_template.add_group_push(sender="owner1", chat_ids=chat_ids,
                                                       text="提醒我")
    for _ in range(3):
        await client.msg_template.remind(created.msgid)
    with pytest.raises(WeComError) as limited:
        await client.msg_template.remind(created.msgid)
    assert limited.value.errcode == 41094

    await sandbox.fault("externalcontact/get_groupmsg_task", 41063)
    with pytest.raises(WeComError) as dispatching:
        await client.msg_template.get_task(created.msgid)
    assert dispatching.value.errcode == 41063

    await client.msg_template.cancel(created.msgid)
    with pytest.raises(WeComError) as cancelled:
        await client.msg_template.cancel(created.msgid)
    assert cancelled.value.errcode == 41093
    [task] = await sandbox.group_pushes()
    assert (task["reminders"], task["cancelled"]) == (3, True)
