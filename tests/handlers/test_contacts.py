"""Contact events end to end: the sandbox plays users and fires real callbacks, the app
stores and queues them, the worker fetches from the sandbox and keeps customers."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import aiohttp

from bot.settings import Settings
from models.contacts import Customer, FollowRelation, FollowStatus, TransferFailure
from models.events import EventStatus, InboxEvent
from tests.apphost import (
    contact_event,
    encrypt,
    serve_app,
    signed_post,
    wait_for,
    worker_process,
)
from tests.sandbox_fixtures import SandboxConsole


async def _relation(external_userid: str, staff: str = "zhangsan") -> FollowRelation | None:
    """The relation once an event has set its status (not the bare row before that)."""
    return await FollowRelation.get_or_none(
        customer__external_userid=external_userid, staff_userid=staff,
        status_changed_at__isnull=False,
    )


async def _all_done() -> bool:
    return not await InboxEvent.filter(
        status__in=[EventStatus.PENDING, EventStatus.PROCESSING]
    ).exists()


async def test_add_edit_and_both_deletions(settings: Settings, sandbox: SandboxConsole) -> None:
    await sandbox.add_staff("zhangsan", "张三")
    customer = await sandbox.add_customer("王小明", unionid="oUnion1", gender=1)
    ext = customer["external_userid"]
    async with serve_app(settings), worker_process(settings):
        added = await sandbox.add_contact("zhangsan", ext, state="store-001")
        assert added["delivery"]["outcome"] == "delivered"
        relation = await wait_for(lambda: _relation(ext), what="relation stored")
        stored = await Customer.get(external_userid=ext)
        assert (stored.name, stored.unionid, stored.gender) == ("王小明", "oUnion1", 1)
        assert (relation.status, relation.state) == (FollowStatus.ACTIVE, "store-001")
        assert relation.added_at is not None

        await sandbox.edit_contact("zhangsan", ext, remark="老客户")
        await wait_for(lambda: FollowRelation.filter(id=relation.id, remark="老客户").exists(),
                       what="remark refreshed")

        await sandbox.customer_deletes_staff("zhangsan", ext)
        await wait_for(lambda: FollowRelation.filter(
            id=relation.id, status=FollowStatus.DELETED_BY_CUSTOMER).exists(),
            what="customer deleted staff")

        await sandbox.delete_contact("zhangsan", ext, source="DELETE_BY_TRANSFER")
        gone = await wait_for(lambda: FollowRelation.get_or_none(
            id=relation.id, status=FollowStatus.DELETED_BY_STAFF), what="staff deleted")
        assert gone.deleted_source == "DELETE_BY_TRANSFER" and gone.deleted_at is not None
        # History is kept: one customer, one relation row through all of it.
        assert await Customer.all().count() == 1
        assert await FollowRelation.all().count() == 1
        assert await InboxEvent.filter(status=EventStatus.DONE).count() == 4


async def test_half_add_and_transfer_failure(settings: Settings, sandbox: SandboxConsole) -> None:
    await sandbox.add_staff("zhangsan")
    ext = (await sandbox.add_customer("李雷"))["external_userid"]
    async with serve_app(settings), worker_process(settings):
        await sandbox.add_contact("zhangsan", ext, state="poster-9", half=True)
        half = await wait_for(lambda: FollowRelation.get_or_none(
            customer__external_userid=ext, status=FollowStatus.HALF), what="half relation")
        assert (half.status, half.state) == (FollowStatus.HALF, "poster-9")

        await sandbox.transfer_fail("zhangsan", ext, "customer_limit_exceed")
        failure = await wait_for(lambda: TransferFailure.get_or_none(external_userid=ext),
                                 what="transfer failure")
        assert (failure.staff_userid, failure.reason) == ("zhangsan", "customer_limit_exceed")


async def _post_concurrently(url: str, settings: Settings, message: str, copies: int) -> None:
    deliveries = [signed_post(settings, encrypt(settings, message), nonce=str(n))
                  for n in range(copies)]
    async with aiohttp.ClientSession() as http:
        async def one(query: str, body: bytes) -> int:
            async with http.post(f"{url}/wecom/callback?{query}", data=body) as response:
                return response.status

        statuses = await asyncio.gather(*(one(q, b) for q, b in deliveries))
    assert statuses == [200] * copies


async def test_same_event_from_several_requests_is_processed_once(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    await sandbox.add_staff("zhangsan")
    ext = (await sandbox.add_customer("韩梅梅"))["external_userid"]
    async with serve_app(settings) as url, worker_process(settings):
        await sandbox.add_contact("zhangsan", ext)
        await wait_for(_all_done, what="add processed")
        before = len((await sandbox.calls("externalcontact/get"))["calls"])

        await _post_concurrently(url, settings, contact_event("edit_external_contact", ext), 8)
        await wait_for(_all_done, what="edit processed")
        assert await InboxEvent.all().count() == 2
        assert len((await sandbox.calls("externalcontact/get"))["calls"]) == before + 1


async def test_two_adds_in_the_same_second_are_both_processed(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    # Seeded relations exist in the sandbox without callbacks; we then deliver the two
    # add events ourselves with the same CreateTime (FromUserName is `sys` for both).
    seeded = await sandbox.seed(staff=1, customers_per_staff=2)
    [(staff, customers)] = seeded["follows"].items()
    same_second = int(time.time())
    async with serve_app(settings) as url, worker_process(settings):
        for ext in customers:
            message = contact_event("add_external_contact", ext, user_id=staff,
                                    create_time=same_second)
            await _post_concurrently(url, settings, message, 1)
        await wait_for(_all_done, what="both adds processed")
        assert await InboxEvent.filter(status=EventStatus.DONE).count() == 2
        active = await FollowRelation.filter(status=FollowStatus.ACTIVE).count()
        assert active == 2


async def test_token_expiry_during_a_run(settings: Settings, sandbox: SandboxConsole) -> None:
    # The sandbox stamps callbacks with its own clock: widen our replay window so the
    # callback after the jump in time is still accepted.
    wecom = dataclasses.replace(settings.wecom, callback_max_age_seconds=10 * 86400)
    settings = dataclasses.replace(settings, wecom=wecom)
    await sandbox.add_staff("zhangsan")
    first, second = [(await sandbox.add_customer(n))["external_userid"] for n in ("A", "B")]
    async with serve_app(settings), worker_process(settings):
        await sandbox.add_contact("zhangsan", first)
        await wait_for(lambda: _relation(first), what="first contact")
        await sandbox.advance_clock(7300)  # past expires_in: WeCom answers 42001
        await sandbox.add_contact("zhangsan", second)
        await wait_for(lambda: _relation(second), what="second contact after expiry")
        await wait_for(_all_done, what="both adds done")
        assert await InboxEvent.filter(status=EventStatus.DONE, attempts=1).count() == 2
    calls = await sandbox.calls()
    assert calls["counts"]["gettoken"] == 2
    assert any(c["errcode"] == 42001 for c in calls["calls"])


async def test_45009_burst_is_absorbed_by_retries(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    await sandbox.add_staff("zhangsan")
    ext = (await sandbox.add_customer("C"))["external_userid"]
    async with serve_app(settings), worker_process(settings):
        # More 45009s than the client retries: the queue retries the event as well.
        await sandbox.fault("externalcontact/get", 45009, settings.wecom.busy_retries + 2)
        await sandbox.add_contact("zhangsan", ext)
        await wait_for(lambda: _relation(ext), what="contact after 45009 burst")
        row = await wait_for(lambda: InboxEvent.get_or_none(status=EventStatus.DONE),
                             what="event done")
    assert row.attempts == 2
    errors = [c for c in (await sandbox.calls("externalcontact/get"))["calls"]
              if c["errcode"] == 45009]
    assert len(errors) == settings.wecom.busy_retries + 2
