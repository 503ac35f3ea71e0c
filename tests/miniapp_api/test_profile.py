"""`GET /me` and `PATCH /me`: the member center's profile, level, points and benefits, and
the rules for what a member may change (a refused change changes nothing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.settings import Settings
from handlers import ledger
from models.members import Member
from tests.miniapp_api.conftest import MemberClient, MiniApp


async def logged_in(miniapp: MiniApp) -> tuple[MemberClient, dict[str, object]]:
    return await miniapp.log_in(await miniapp.sandbox.miniapp_user())


async def test_me_shows_level_growth_points_guide_and_benefits(
    miniapp: MiniApp, settings: Settings
) -> None:
    client, member = await logged_in(miniapp)
    member_id = int(str(member["id"]))
    now = datetime.now(UTC)
    await ledger.award(member_id, 120, key="test:order-1", reason="订单", now=now,
                       growth=620, settings=settings)
    # Points earned long ago expire soon (points.expire_after_days after they were earned).
    earned_long_ago = now - timedelta(days=settings.points.expire_after_days - 3)
    await ledger.award(member_id, 30, key="test:old", reason="旧积分", now=earned_long_ago,
                       settings=settings)
    await Member.filter(id=member_id).update(guide_userid="zhangsan")

    reply = await client.get("/me")
    assert reply.status == 200
    me = reply.json()
    v2 = settings.members.levels[1]
    assert (me["id"], me["level"], me["level_number"], me["growth"]) == (
        member_id, "V2", 2, 620)
    assert me["next_level"] == {"name": "V3", "growth": settings.members.levels[2].growth}
    assert (me["points"], me["points_expiring_soon"]) == (150, 30)
    assert me["points_next_expiry"].startswith((earned_long_ago + timedelta(
        days=settings.points.expire_after_days)).date().isoformat())
    assert me["guide"] == "zhangsan"
    assert me["benefits"] == list(v2.benefits)
    assert me["points_multiplier"] == v2.points_multiplier
    assert me["phone_bound"] is False
    assert set(me) >= {"nickname", "avatar", "birthday", "consents"}


async def test_the_top_level_has_no_next_level(miniapp: MiniApp, settings: Settings) -> None:
    client, member = await logged_in(miniapp)
    top = settings.members.levels[-1]
    await ledger.award(int(str(member["id"])), 0, key="test:big", reason="大单",
                       now=datetime.now(UTC), growth=top.growth + 1, settings=settings)
    me = (await client.get("/me")).json()
    assert (me["level"], me["next_level"]) == (top.name, None)


async def test_patch_changes_the_profile(miniapp: MiniApp) -> None:
    client, member = await logged_in(miniapp)
    reply = await client.patch("/me", {
        "nickname": "  小明  ", "avatar": "https://img.example.com/a.png",
        "birthday": "1990-05-17", "consents": {"marketing": True, "sms": False}})
    assert reply.status == 200, reply.body
    me = reply.json()
    assert (me["nickname"], me["avatar"], me["birthday"]) == (
        "小明", "https://img.example.com/a.png", "1990-05-17")
    assert me["consents"] == {"marketing": True, "sms": False}

    # Consents merge; the same birthday again is fine; an empty body changes nothing.
    reply = await client.patch("/me", {"consents": {"sms": True}, "birthday": "1990-05-17"})
    assert reply.json()["consents"] == {"marketing": True, "sms": True}
    assert (await client.patch("/me", {})).json() == (await client.get("/me")).json()
    stored = await Member.get(id=member["id"])
    assert (stored.nickname, str(stored.birthday)) == ("小明", "1990-05-17")


@pytest.mark.parametrize(("body", "field"), [
    ({"nickname": "名" * 33}, "nickname"),
    ({"nickname": "   "}, "nickname"),
    ({"nickname": 7}, "nickname"),
    ({"avatar": "javascript:alert(1)"}, "avatar"),
    ({"avatar": "https://img.example.com/" + "a" * 600}, "avatar"),
    ({"birthday": "17/05/1990"}, "birthday"),
    ({"birthday": "2999-01-01"}, "birthday"),
    ({"birthday": "1899-12-31"}, "birthday"),
    ({"consents": {"marketing": "yes"}}, "consents.marketing"),
    ({"consents": ["marketing"]}, "consents"),
    ({"consents": {f"c{i}": True for i in range(21)}}, "consents"),
    ({"level": 5}, "level"),
    ({"points": 99999}, "points"),
])
async def test_patch_refuses_bad_fields_and_changes_nothing(
    miniapp: MiniApp, body: dict[str, object], field: str
) -> None:
    client, member = await logged_in(miniapp)
    before = (await client.get("/me")).json()
    # A good field beside the bad one is not saved either.
    reply = await client.patch("/me", {"nickname": "改了吗", **body})
    assert (reply.status, reply.error["code"], reply.error["field"]) == (
        400, "invalid_input", field)
    assert (await client.get("/me")).json() == before


async def test_the_birthday_is_set_once(miniapp: MiniApp) -> None:
    client, _ = await logged_in(miniapp)
    assert (await client.patch("/me", {"birthday": "1990-05-17"})).status == 200
    reply = await client.patch("/me", {"birthday": "1990-06-17"})
    assert (reply.status, reply.error["field"]) == (400, "birthday")
    assert "once" in reply.error["message"]
    assert (await client.get("/me")).json()["birthday"] == "1990-05-17"
