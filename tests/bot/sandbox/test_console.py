"""The console's own behaviour: ids it generates, bulk seeding, the state summary, the
clock, and its error shape."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from tests.sandbox_fixtures import SandboxConsole, SandboxConsoleError


async def test_customer_ids_are_generated_by_type_or_kept(sandbox: SandboxConsole) -> None:
    wechat = await sandbox.add_customer("a")
    wecom = await sandbox.add_customer("b", type=2)
    given = await sandbox.add_customer("c", external_userid="wmGIVEN")
    assert wechat["external_userid"].startswith("wm") and len(wechat["external_userid"]) == 32
    assert wecom["external_userid"].startswith("wo")
    assert given["external_userid"] == "wmGIVEN"


async def test_seeding_ten_thousand_relations_is_fast(sandbox: SandboxConsole) -> None:
    started = time.monotonic()
    seeded = await sandbox.seed(staff=100, customers_per_staff=100)
    elapsed = time.monotonic() - started
    assert (seeded["staff"], seeded["customers"]) == (100, 10_000)
    assert len({eid for eids in seeded["follows"].values() for eid in eids}) == 10_000
    assert elapsed < 10
    again = await sandbox.seed(staff=1, customers_per_staff=1)
    assert list(again["follows"]) == ["staff00101"]
    state = await sandbox.state()
    assert (state["staff"], state["relations"]["active"]) == (101, 10_001)


async def test_clock_advances_and_never_goes_back(sandbox: SandboxConsole) -> None:
    now = await sandbox.advance_clock(3600)
    assert now >= time.time() + 3599
    with pytest.raises(SandboxConsoleError) as refused:
        await sandbox.advance_clock(-1)
    assert refused.value.status == 400


@pytest.mark.parametrize(("call", "status", "error"), [
    (lambda s: s.add_contact("nobody", "wmnobody"), 404, "not_found"),
    (lambda s: s.add_customer("x", external_userid="xx1"), 400, "bad_request"),
    (lambda s: s.add_customer("x", type=3), 400, "bad_request"),
    (lambda s: s.edit_contact("nobody", "wmnobody", remark="r"), 404, "not_found"),
    (lambda s: s.group_event("explode"), 400, "bad_request"),
    (lambda s: s.tag_event("create", tag_type="label", name="x"), 400, "bad_request"),
    (lambda s: s.tag_event("update", tag_type="tag", id="etnone", name="x"), 404, "not_found"),
    (lambda s: s.redeliver(99), 404, "not_found"),
    (lambda s: s.fault("*", 0), 400, "bad_request"),
], ids=["unknown-staff", "bad-id-prefix", "bad-type", "no-relation", "bad-group-change",
        "bad-tag-type", "unknown-tag", "unknown-delivery", "errcode-0"])
async def test_console_errors_have_one_shape(
    sandbox: SandboxConsole, call: Callable[[SandboxConsole], Awaitable[Any]], status: int,
    error: str,
) -> None:
    with pytest.raises(SandboxConsoleError) as refused:
        await call(sandbox)
    assert refused.value.status == status
    assert refused.value.payload["error"] == error
    assert refused.value.payload["detail"]


async def test_conflicts_are_400(sandbox: SandboxConsole) -> None:
    await sandbox.add_staff("zhangsan")
    eid = (await sandbox.add_customer())["external_userid"]
    await sandbox.add_contact("zhangsan", eid)
    for call in (sandbox.add_staff("zhangsan"), sandbox.add_contact("zhangsan", eid)):
        with pytest.raises(SandboxConsoleError) as refused:
            await call
        assert (refused.value.status, refused.value.payload["error"]) == (400, "conflict")


async def test_staff_without_customer_contact_cannot_be_added(
    sandbox: SandboxConsole
) -> None:
    await sandbox.add_staff("boss", customer_contact=False)
    eid = (await sandbox.add_customer())["external_userid"]
    with pytest.raises(SandboxConsoleError) as refused:
        await sandbox.add_contact("boss", eid)
    assert refused.value.payload["error"] == "conflict"


async def test_bad_json_missing_fields_and_unknown_routes(sandbox: SandboxConsole) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{sandbox.url}/sandbox/staff", data=b"{oops") as response:
            assert response.status == 400
            assert (await response.json())["error"] == "bad_request"
        async with session.post(f"{sandbox.url}/sandbox/staff", json={}) as response:
            assert (await response.json())["detail"] == "field 'userid' is required"
        async with session.post(f"{sandbox.url}/sandbox/staff",
                                json={"userid": 5}) as response:
            assert (await response.json())["detail"] == "field 'userid' has the wrong type"
        async with session.get(f"{sandbox.url}/sandbox/nowhere") as response:
            assert response.status == 404
            assert (await response.json())["error"] == "not_found"
