"""`run.py sync contacts`: full sync from the sandbox, with a progress bar, resumable."""

from __future__ import annotations

import pytest

from bot.runtime import open_runtime
from bot.settings import Settings
from handlers.contact_sync import sync_contacts
from models.contacts import Customer, FollowRelation, SyncCheckpoint
from models.tags import Tag
from tests.apphost import run_cli
from tests.sandbox_fixtures import SandboxConsole

BATCH = "externalcontact/batch/get_by_user"


async def test_cli_syncs_every_relation_with_a_progress_bar(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    seeded = await sandbox.seed(staff=3, customers_per_staff=150)
    code, out = await run_cli(settings, "sync", "contacts")
    assert code == 0, out
    assert "synced 450 customer relations" in out
    assert "sync contacts" in out and "relations" in out  # tqdm's bar
    async with open_runtime(settings):
        assert await FollowRelation.all().count() == 450
        wanted = {(u, e) for u, exts in seeded["follows"].items() for e in exts}
        stored = {(r.staff_userid, r.customer.external_userid)
                  for r in await FollowRelation.all().prefetch_related("customer")}
        assert stored == wanted
        assert not await SyncCheckpoint.exists()


class Interrupted(Exception):
    pass


async def test_an_interrupted_sync_resumes_where_it_stopped(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    # 120 staff: a batch of 100 (200 relations, 2 pages) and one of 20 (1 page).
    await sandbox.seed(staff=120, customers_per_staff=2)
    pages = 0

    def stop_on_second_page(_: int) -> None:
        nonlocal pages
        pages += 1
        if pages == 2:
            raise Interrupted

    async with open_runtime(settings) as runtime:
        with pytest.raises(Interrupted):
            await sync_contacts(runtime.wecom, on_page=stop_on_second_page)
        checkpoint = await SyncCheckpoint.get(name="contacts")
        assert checkpoint.state["batch"] == 0 and checkpoint.state["cursor"]

        resumed = await sync_contacts(runtime.wecom)
        # The page that was being stored when we stopped is fetched again, then the rest.
        assert resumed == 140
        assert await FollowRelation.all().count() == 240
        assert await Customer.all().count() == 240
    calls = (await sandbox.calls(BATCH))["calls"]
    assert len(calls) == 4
    assert len((await sandbox.calls("externalcontact/get_follow_user_list"))["calls"]) == 1


async def test_cli_syncs_the_corp_tag_mirror(settings: Settings, sandbox: SandboxConsole) -> None:
    await sandbox.tag_event("create", tag_type="tag_group", name="会员等级", tags=["金卡", "银卡"],
                            wait=False)
    code, out = await run_cli(settings, "sync", "tags")
    assert code == 0, out
    assert "synced 2 corp tags" in out
    async with open_runtime(settings):
        assert sorted(await Tag.all().values_list("name", flat=True)) == ["金卡", "银卡"]
