"""Full customer-group sync from the sandbox: `run.py sync groups` with its progress bar,
owners in chunks of 100, pages of 1,000, groups WeCom no longer lists marked dismissed."""

from __future__ import annotations

from bot.runtime import open_runtime
from bot.settings import Settings
from handlers.group_sync import sync_groups
from models.groups import CUSTOMER_MEMBER, GroupChat, GroupMember, GroupStatus
from tests.apphost import run_cli
from tests.sandbox_fixtures import SandboxConsole

LIST = "externalcontact/groupchat/list"
GET = "externalcontact/groupchat/get"


async def _counts(sandbox: SandboxConsole) -> dict[str, int]:
    return dict((await sandbox.calls())["counts"])


async def test_cli_syncs_bulk_groups_and_dismisses_the_ones_gone(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    # 120 owners (a chunk of 100 and one of 20) with 11 groups each: the first chunk's
    # 1,100 groups take two pages.
    owners = list((await sandbox.seed(staff=120, customers_per_staff=0))["follows"])
    chat_ids = await sandbox.bulk_groups(owners, 11, customers_per_group=2)
    assert len(chat_ids) == 1320
    code, out = await run_cli(settings, "sync", "groups", timeout=120)
    assert code == 0, out
    assert "synced 1320 groups (3960 members), 0 dismissed, 0 failed" in out
    assert "sync groups" in out and "groups" in out  # tqdm's bar
    counts = await _counts(sandbox)
    assert (counts[LIST], counts[GET]) == (3, 1320)
    async with open_runtime(settings):
        assert await GroupChat.filter(status=GroupStatus.ACTIVE).count() == 1320
        assert await GroupMember.filter(left_at=None).count() == 3960
        group = await GroupChat.get(chat_id=chat_ids[0])
        assert (group.owner, group.member_count, group.name) == (owners[0], 3,
                                                                 f"群{owners[0]}-1")
        customers = await GroupMember.filter(chat_id=chat_ids[0], type=CUSTOMER_MEMBER)
        assert len(customers) == 2
        assert all(c.name.startswith("群客户") and c.unionid and c.invitor == owners[0]
                   and c.join_time is not None for c in customers)

    # WeCom changes while no callback reaches us: a group goes, another is renamed.
    gone, renamed = chat_ids[5], chat_ids[6]
    await sandbox.group_event("dismiss", chat_id=gone, fire=False)
    await sandbox.group_event("update", chat_id=renamed, update_detail="change_name",
                              name="改名群", fire=False)
    code, out = await run_cli(settings, "sync", "groups", timeout=120)
    assert code == 0, out
    assert "synced 1319 groups (3957 members), 1 dismissed, 0 failed" in out
    async with open_runtime(settings):
        dismissed = await GroupChat.get(chat_id=gone)
        assert dismissed.status == GroupStatus.DISMISSED and dismissed.dismissed_at
        assert await GroupMember.filter(chat_id=gone, left_at=None).count() == 3  # kept
        assert (await GroupChat.get(chat_id=renamed)).name == "改名群"
        assert await GroupChat.filter(status=GroupStatus.ACTIVE).count() == 1319


async def test_progress_and_members_who_left(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    await sandbox.add_staff("zhangsan")
    [chat_id, *_] = await sandbox.bulk_groups(["zhangsan"], 30, customers_per_group=3)
    reports: list[tuple[int, int]] = []
    async with open_runtime(settings) as runtime:
        first = await sync_groups(runtime.wecom, lambda total, done: reports.append(
            (total, done)), concurrency=4)
        assert (first.groups, first.members, first.dismissed) == (30, 120, 0)
        assert reports[0] == (30, 0) and reports[-1] == (30, 30)
        assert [done for _, done in reports] == sorted(done for _, done in reports)

        leaver = (await GroupMember.filter(chat_id=chat_id, type=CUSTOMER_MEMBER)
                  .order_by("id").first())
        assert leaver is not None
        await sandbox.group_event("update", chat_id=chat_id, update_detail="del_member",
                                  members=[leaver.userid], fire=False)
        again = await sync_groups(runtime.wecom)
        assert (again.groups, again.members) == (30, 119)
        left = await GroupMember.get(id=leaver.id)
        assert left.left_at is not None
        assert (await GroupChat.get(chat_id=chat_id)).member_count == 3
