"""`upsert_many`: many rows per statement, split under the parameter limit, updated in
place on their keys, and left alone when the stored row is fresher (`unless_newer`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.runtime import open_runtime
from bot.settings import Settings
from models.groups import GroupChat, GroupMember, GroupStatus
from models.upsert import MAX_PARAMS, upsert_many

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def _member(n: int, name: str) -> dict[str, object]:
    return {"chat_id": "wrA", "userid": f"wm{n:05d}", "type": 2, "join_time": T0,
            "name": name}


async def test_rows_past_one_statement_are_inserted_then_updated(settings: Settings) -> None:
    count = MAX_PARAMS // 10 + 500  # more than one statement holds
    async with open_runtime(settings):
        await upsert_many(GroupMember, ["chat_id", "userid"],
                          [_member(n, "旧") for n in range(count)])
        ids = dict(await GroupMember.all().values_list("userid", "id"))
        assert len(ids) == count
        stored = await GroupMember.get(userid="wm00007")
        assert (stored.join_scene, stored.state, stored.left_at) == (None, "", None)  # defaults

        await upsert_many(GroupMember, ["chat_id", "userid"],
                          [_member(n, "新") for n in range(count)])
        assert await GroupMember.all().count() == count
        assert await GroupMember.filter(name="新").count() == count
        assert dict(await GroupMember.all().values_list("userid", "id")) == ids


def _group(synced_at: datetime, name: str) -> dict[str, object]:
    return {"chat_id": "wrA", "name": name, "owner": "zhangsan", "created_at": T0,
            "status": GroupStatus.ACTIVE, "synced_at": synced_at}


async def test_a_fresher_stored_row_is_kept(settings: Settings) -> None:
    later = T0 + timedelta(minutes=5)
    async with open_runtime(settings):
        written = await upsert_many(GroupChat, ["chat_id"], [_group(later, "新名")],
                                    unless_newer="synced_at", returning=["chat_id"])
        assert written == [{"chat_id": "wrA"}]
        stale = await upsert_many(GroupChat, ["chat_id"], [_group(T0, "旧名")],
                                  unless_newer="synced_at", returning=["chat_id"])
        assert stale == []
        assert (await GroupChat.get(chat_id="wrA")).name == "新名"
        newer = await upsert_many(GroupChat, ["chat_id"],
                                  [_group(later + timedelta(seconds=1), "更新")],
                                  unless_newer="synced_at", returning=["chat_id"])
        assert newer == [{"chat_id": "wrA"}]
        group = await GroupChat.get(chat_id="wrA")
        assert (group.name, group.owner_status, group.notice) == ("更新", 0, "")
