"""The member's points over real HTTP: check-in (100 at once award once), the streak
across days by the app clock, the balance with what expires soon, the paged ledger, and
a session required everywhere."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

from bot.settings import Settings
from models.points import PointsEntry
from tests.handlers.points_world import assert_ledger_consistent
from tests.miniapp_api.conftest import MemberClient, MiniApp

DAY = 24 * 3600
ROUTES = (("POST", "/checkin"), ("GET", "/me/points"), ("GET", "/me/points/ledger"))


async def member(miniapp: MiniApp) -> tuple[MemberClient, int]:
    client, answer = await miniapp.log_in(await miniapp.sandbox.miniapp_user())
    return client, int(answer["id"])


async def test_a_hundred_check_ins_at_once_award_once(
    miniapp: MiniApp, settings: Settings
) -> None:
    client, member_id = await member(miniapp)
    replies = await asyncio.gather(*(client.post("/checkin") for _ in range(100)))
    assert Counter(r.status for r in replies) == {200: 1, 409: 99}
    done = next(r.json() for r in replies if r.status == 200)
    assert (done["awarded"], done["streak"], done["balance"]) == (
        settings.points.checkin_daily, 1, settings.points.checkin_daily)
    refused = next(r for r in replies if r.status == 409)
    assert refused.error["code"] == "already_checked_in"
    assert refused.error["day"] == done["day"]
    assert await PointsEntry.filter(member_id=member_id).count() == 1
    points = (await client.get("/me/points")).json()
    assert points["balance"] == settings.points.checkin_daily
    await assert_ledger_consistent()


async def test_a_week_of_check_ins_earns_the_streak_bonus(
    miniapp: MiniApp, settings: Settings
) -> None:
    daily = settings.points.checkin_daily
    user = await miniapp.sandbox.miniapp_user()
    client, _ = await miniapp.log_in(user)
    answers = []
    for _ in range(7):
        reply = await client.post("/checkin")
        assert reply.status == 200, reply.body
        answers.append(reply.json())
        miniapp.clock.advance(DAY)
    assert [a["streak"] for a in answers] == list(range(1, 8))
    assert answers[-1]["streak_bonus"] == 20 and answers[-1]["awarded"] == daily + 20
    assert answers[-1]["balance"] == 7 * daily + 20

    first = (await client.get("/me/points/ledger?limit=3")).json()
    assert (first["total"], first["limit"], first["offset"]) == (7, 3, 0)
    assert [e["delta"] for e in first["items"]] == [daily + 20, daily, daily]
    assert first["items"][0]["balance_after"] == 7 * daily + 20
    assert "key" not in first["items"][0] and "operator" not in first["items"][0]
    rest = (await client.get("/me/points/ledger?limit=3&offset=6")).json()
    assert [e["balance_after"] for e in rest["items"]] == [daily]
    assert (await client.get("/me/points/ledger?limit=0")).error["field"] == "limit"

    # Seen 360 days after the first check-in, the first points expire within 30 days.
    miniapp.clock.advance(353 * DAY)
    client, _ = await miniapp.log_in(user)  # the first session has ended by then
    points = (await client.get("/me/points")).json()
    assert points["balance"] == 7 * daily + 20
    assert points["expiring_soon"] == 7 * daily + 20
    assert points["expiring_soon_days"] == settings.points.expiring_soon_days
    app_now = datetime.fromtimestamp(miniapp.clock.now(), UTC)
    next_expiry = datetime.fromisoformat(points["next_expiry"]) - app_now
    assert timedelta(days=4) < next_expiry <= timedelta(days=5)
    await assert_ledger_consistent()


async def test_points_routes_need_a_live_session(miniapp: MiniApp, settings: Settings) -> None:
    client, _ = await member(miniapp)
    for method, path in ROUTES:
        assert (await client.request(method, path, token=None)).status == 401
        forged = await client.request(method, path, token="forged-" + "x" * 36)
        assert (forged.status, forged.error["code"]) == (401, "unauthorized")
    miniapp.clock.advance((settings.members.session_days + 1) * DAY)
    for method, path in ROUTES:
        assert (await client.request(method, path)).status == 401
    assert await PointsEntry.all().count() == 0
    await assert_ledger_consistent()
