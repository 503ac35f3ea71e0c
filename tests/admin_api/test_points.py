"""`POST /admin/api/points/adjust`: audited, idempotent by key, refused when it would
take a balance below zero, 404 for an unknown member."""

from __future__ import annotations

import asyncio
import hashlib

from models.points import EntryKind, PointsEntry
from tests.admin_api.conftest import OTHER_TOKEN, TOKEN, AdminClient
from tests.handlers.points_world import assert_ledger_consistent, balance, new_member


def fingerprint(token: str) -> str:
    return "admin:" + hashlib.sha256(token.encode()).hexdigest()[:8]


async def test_an_adjustment_is_audited_and_idempotent(admin: AdminClient) -> None:
    member = await new_member()
    body = {"member_id": member, "delta": 120, "reason": "补偿：物流延误", "key": "ticket-88"}
    first = await admin.post("/points/adjust", body)
    assert first.status == 201, first.body
    entry = first.json()
    assert (entry["kind"], entry["delta"], entry["balance_after"], entry["key"]) == (
        "adjust", 120, 120, "adjust:ticket-88")
    assert (entry["operator"], entry["reason"]) == (fingerprint(TOKEN), "补偿：物流延误")
    assert entry["remaining"] == 120 and entry["expires_at"]

    again = await admin.post("/points/adjust", body, token=OTHER_TOKEN)
    assert again.status == 200 and again.json() == entry
    at_once = await asyncio.gather(*(admin.post("/points/adjust", {**body, "key": "burst"})
                                     for _ in range(10)))
    assert sorted(r.status for r in at_once) == [200] * 9 + [201]
    assert await balance(member) == 240

    debit = await admin.post("/points/adjust", {**body, "delta": -40, "key": "fix-1"},
                             token=OTHER_TOKEN)
    assert debit.status == 201
    assert (debit.json()["delta"], debit.json()["operator"]) == (-40, fingerprint(OTHER_TOKEN))
    reused = await admin.post("/points/adjust", {**body, "delta": -41, "key": "fix-1"})
    assert (reused.status, reused.error["code"]) == (409, "conflict")
    assert await balance(member) == 200
    await assert_ledger_consistent()


async def test_an_adjustment_below_zero_is_refused(admin: AdminClient) -> None:
    member = await new_member()
    await admin.post("/points/adjust", {"member_id": member, "delta": 30, "reason": "r",
                                        "key": "k1"})
    refused = await admin.post("/points/adjust", {"member_id": member, "delta": -31,
                                                  "reason": "r", "key": "k2"})
    assert (refused.status, refused.error["code"]) == (409, "insufficient_points")
    assert refused.error["balance"] == 30
    assert await PointsEntry.filter(kind=EntryKind.ADJUST).count() == 1
    assert await balance(member) == 30
    await assert_ledger_consistent()


async def test_bad_adjustments_are_clear_refusals(admin: AdminClient) -> None:
    member = await new_member()
    unknown = await admin.post("/points/adjust", {"member_id": 987654, "delta": 5,
                                                  "reason": "r", "key": "k"})
    assert (unknown.status, unknown.error["code"]) == (404, "not_found")
    valid = {"member_id": member, "delta": 5, "reason": "r", "key": "k"}
    for change, field in (({"delta": 0}, "delta"), ({"delta": "5"}, "delta"),
                          ({"reason": ""}, "reason"), ({"key": "x" * 129}, "key"),
                          ({"member_id": 0}, "member_id"), ({"extra": 1}, "extra")):
        reply = await admin.post("/points/adjust", {**valid, **change})
        assert (reply.status, reply.error["field"]) == (400, field), change
    missing = await admin.post("/points/adjust", {"member_id": member, "delta": 5})
    assert missing.error["field"] == "reason"
    assert (await admin.post("/points/adjust", valid, token=None)).status == 401
    assert await PointsEntry.all().count() == 0
    await assert_ledger_consistent()
