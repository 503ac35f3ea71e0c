"""Customer group events end to end: the sandbox changes groups and fires real
change_external_chat callbacks, the worker stores them, fetching from the sandbox's
groupchat/get where the event carries no values or cannot be trusted."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bot.processing import replay
from bot.settings import Settings
from models.events import EventStatus, InboxEvent
from models.groups import CUSTOMER_MEMBER, STAFF_MEMBER, GroupChat, GroupMember, GroupStatus
from tests.apphost import serve_app, wait_for, worker_process
from tests.sandbox_fixtures import SandboxConsole

GET = "externalcontact/groupchat/get"


async def _all_done() -> bool:
    return not await InboxEvent.filter(
        status__in=[EventStatus.PENDING, EventStatus.PROCESSING]).exists()


async def _processed(count: int) -> bool:
    """`count` events done, none waiting."""
    return await _all_done() and await InboxEvent.filter(status=EventStatus.DONE).count() == count



async def _present(chat_id: str) -> set[str]:
    return {str(userid) for userid in await GroupMember.filter(
        chat_id=chat_id, left_at=None).values_list("userid", flat=True)}


async def _version_and_count(chat_id: str) -> tuple[str, int]:
    group = await GroupChat.get(chat_id=chat_id)
    return group.member_version, group.member_count


async def _customers(sandbox: SandboxConsole, *names: str) -> list[str]:
    return [(await sandbox.add_customer(name, unionid=f"o-{name}"))["external_userid"]
            for name in names]


async def _group(sandbox: SandboxConsole, members: list[str], **fields: Any) -> str:
    created = await sandbox.group_event("create", owner="zhangsan", name="VIP 群",
                                        members=members, **fields)
    chat_id = str(created["chat"]["chat_id"])
    await wait_for(lambda: GroupChat.exists(chat_id=chat_id), what="group stored")
    return chat_id


@asynccontextmanager
async def _running(settings: Settings, sandbox: SandboxConsole,
                   *names: str) -> AsyncIterator[tuple[str, list[str]]]:
    """The app processing events, and a group of zhangsan's with the first of the new
    customers `names` → (chat_id, the customers' ids)."""
    await sandbox.add_staff("zhangsan")
    customers = await _customers(sandbox, *names)
    async with serve_app(settings), worker_process(settings):
        yield await _group(sandbox, customers[:1]), customers


async def test_create_members_both_encodings_changes_and_dismiss(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    await sandbox.add_staff("zhangsan", "张三")
    await sandbox.add_staff("lisi", "李四")
    first, second, third = await _customers(sandbox, "王小明", "李雷", "韩梅梅")
    async with serve_app(settings), worker_process(settings):
        chat_id = await _group(sandbox, [first], admins=["lisi"])
        group = await GroupChat.get(chat_id=chat_id)
        assert (group.name, group.owner, group.status) == ("VIP 群", "zhangsan",
                                                           GroupStatus.ACTIVE)
        assert (group.member_count, group.admins) == (2, ["lisi"])
        owner = await GroupMember.get(chat_id=chat_id, userid="zhangsan")
        assert (owner.type, owner.name) == (STAFF_MEMBER, "张三")
        customer = await GroupMember.get(chat_id=chat_id, userid=first)
        assert (customer.type, customer.name, customer.unionid, customer.invitor,
                customer.join_scene) == (CUSTOMER_MEMBER, "王小明", "o-王小明", "zhangsan", 1)
        gets = await sandbox.call_count(GET)

        joined = await sandbox.group_event("update", chat_id=chat_id,
                                           update_detail="add_member", members=[second])
        assert "<Item>" in joined["delivery"]["xml"]
        await wait_for(lambda: _processed(2), what="add_member (items) processed")
        csv = await sandbox.group_event("update", chat_id=chat_id, update_detail="add_member",
                                        members=[third], mem_change_list="csv")
        assert f"<![CDATA[{third}]]></MemChangeList>" in csv["delivery"]["xml"]
        await wait_for(lambda: _processed(3), what="add_member (csv) processed")
        assert await _present(chat_id) == {"zhangsan", first, second, third}
        joined_member = await GroupMember.get(chat_id=chat_id, userid=third)
        assert (joined_member.type, joined_member.join_scene) == (CUSTOMER_MEMBER, 0)
        assert joined_member.join_time is not None
        assert await _version_and_count(chat_id) == (csv["chat"]["member_version"], 4)
        assert await sandbox.call_count(GET) == gets  # the deltas were trusted: no refetch

        await sandbox.group_event("update", chat_id=chat_id, update_detail="del_member",
                                  members=[second], quit_scene=1)
        await wait_for(lambda: _processed(4), what="del_member processed")
        left = await GroupMember.get(chat_id=chat_id, userid=second)
        assert left.left_at is not None and left.quit_scene == 1
        assert (await GroupChat.get(chat_id=chat_id)).member_count == 3

        await sandbox.group_event("update", chat_id=chat_id, update_detail="change_name",
                                  name="VIP 二群")
        await sandbox.group_event("update", chat_id=chat_id, update_detail="change_notice",
                                  notice="文明沟通")
        await sandbox.group_event("update", chat_id=chat_id, update_detail="change_owner",
                                  owner="lisi")
        await wait_for(lambda: _processed(7), what="name, notice and owner changes")
        group = await GroupChat.get(chat_id=chat_id)
        assert (group.name, group.notice, group.owner) == ("VIP 二群", "文明沟通", "lisi")

        await sandbox.group_event("dismiss", chat_id=chat_id)
        await wait_for(lambda: _processed(8), what="dismiss processed")
        group = await GroupChat.get(chat_id=chat_id)
        assert group.status == GroupStatus.DISMISSED and group.dismissed_at is not None
        assert await _present(chat_id) == {"zhangsan", first, third}  # members kept


async def test_redelivery_and_replay_change_nothing(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    async with _running(settings, sandbox, "甲", "乙") as (chat_id, customers):
        first, second = customers
        joined = await sandbox.group_event("update", chat_id=chat_id,
                                           update_detail="add_member", members=[second])
        await wait_for(lambda: _processed(2), what="add_member processed")
        before = await GroupMember.filter(chat_id=chat_id).order_by("id").values()
        gets = await sandbox.call_count(GET)

        again = await sandbox.redeliver(joined["delivery"]["id"])
        assert again["attempts"][-1]["status"] == 200
        assert await InboxEvent.all().count() == 2  # the inbox knew it

        create, add = await InboxEvent.all().order_by("id")
        await replay(add.id)
        await wait_for(lambda: _processed(2), what="add_member replayed")
        # Its CurMemVer is held already: nothing fetched, nothing written.
        assert await sandbox.call_count(GET) == gets
        assert await GroupMember.filter(chat_id=chat_id).order_by("id").values() == before

        await replay(create.id)
        await wait_for(lambda: _processed(2), what="create replayed")
        assert await InboxEvent.filter(status=EventStatus.DONE, attempts=1).count() == 2
        # The create refetched the group: the same members, no second row for anyone.
        assert await sandbox.call_count(GET) == gets + 1
        assert await GroupMember.all().count() == 3
        assert await _present(chat_id) == {"zhangsan", first, second}
        assert await _version_and_count(chat_id) == (joined["chat"]["member_version"], 3)


async def test_a_lost_callback_makes_the_next_event_resync_the_group(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    async with _running(settings, sandbox, "甲", "乙", "丙") as (chat_id, customers):
        first, lost, seen = customers
        unseen = await sandbox.group_event("update", chat_id=chat_id,
                                           update_detail="add_member", members=[lost],
                                           fire=False)
        assert unseen["delivery"] is None
        await sandbox.group_event("update", chat_id=chat_id, update_detail="del_member",
                                  members=[first], fire=False)
        gets = await sandbox.call_count(GET)
        last = await sandbox.group_event("update", chat_id=chat_id,
                                         update_detail="add_member", members=[seen])
        await wait_for(lambda: _processed(2), what="add_member processed")
        # LastMemVer was not ours: the group was fetched, not patched with the delta.
        assert await sandbox.call_count(GET) == gets + 1
        assert await _present(chat_id) == {"zhangsan", lost, seen}
        assert (await GroupMember.get(chat_id=chat_id, userid=first)).left_at is not None
        recovered = await GroupMember.get(chat_id=chat_id, userid=lost)
        assert recovered.name == "乙" and recovered.join_scene == 1  # groupchat/get's view
        assert await _version_and_count(chat_id) == (last["chat"]["member_version"], 3)


async def test_a_stale_event_does_not_undo_newer_state(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    async with _running(settings, sandbox, "甲", "乙") as (chat_id, customers):
        first, second = customers
        joined = await sandbox.group_event("update", chat_id=chat_id,
                                           update_detail="add_member", members=[second])
        await sandbox.group_event("update", chat_id=chat_id, update_detail="del_member",
                                  members=[second])
        await wait_for(lambda: _processed(3), what="join and leave processed")
        # The join arrives once more, late, as a distinct message (another CreateTime).
        stale = re.sub(r"<CreateTime>\d+</CreateTime>", "<CreateTime>1000000000</CreateTime>",
                       joined["delivery"]["xml"])
        await sandbox.raw_callback(stale)
        await wait_for(lambda: _processed(4), what="stale join processed")
        assert await _present(chat_id) == {"zhangsan", first}
        assert (await GroupMember.get(chat_id=chat_id, userid=second)).left_at is not None


async def test_a_join_through_a_group_qr_code_is_fetched_for_its_state(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    async with _running(settings, sandbox, "甲", "扫码客") as (chat_id, customers):
        first, scanner = customers
        gets = await sandbox.call_count(GET)
        await sandbox.group_event("update", chat_id=chat_id, update_detail="add_member",
                                  members=[scanner], join_scene=3, state="gj-poster")
        await wait_for(lambda: _processed(2), what="QR join processed")
        member = await GroupMember.get(chat_id=chat_id, userid=scanner)
        assert (member.join_scene, member.state, member.name) == (3, "gj-poster", "扫码客")
        assert await sandbox.call_count(GET) == gets + 1
