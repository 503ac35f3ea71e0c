"""The member's PIPL rights: `GET /me/export` returns everything held about them (their
phone in the clear, no session secrets), `DELETE /me` erases their personal data and
ends their sessions while the ledger keeps adding up."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest

from bot.settings import Settings
from handlers import ledger
from models.members import (
    IdentityKind,
    LevelChange,
    Member,
    MemberIdentity,
    MemberSession,
    MemberStatus,
)
from models.points import PointsEntry
from tests.miniapp_api.conftest import MemberClient, MiniApp

PHONE = "13912345678"


async def member_with_history(miniapp: MiniApp, settings: Settings
                              ) -> tuple[MemberClient, dict[str, str], int]:
    client, member, user = await miniapp.sign_up(phone=PHONE)
    await client.patch("/me", {"nickname": "小红", "birthday": "1995-08-09",
                               "consents": {"marketing": True}})
    await miniapp.bind_phone(client, user)
    await ledger.award(member["id"], 60, key="test:order-9", reason="订单", now=datetime.now(UTC),
                       growth=600, settings=settings)
    return client, user, int(member["id"])


async def test_export_holds_everything_about_the_member(
    miniapp: MiniApp, settings: Settings
) -> None:
    client, user, member_id = await member_with_history(miniapp, settings)
    reply = await client.get("/me/export")
    assert reply.status == 200
    assert reply.headers["Cache-Control"] == "no-store"
    data = reply.json()
    assert data["member_id"] == member_id
    [profile] = data["members"]
    assert (profile["id"], profile["nickname"], profile["birthday"], profile["phone"]) == (
        member_id, "小红", "1995-08-09", "+86" + PHONE)
    assert profile["consents"] == {"marketing": True} and profile["level"] == 2
    assert {(i["kind"], i["value"]) for i in data["identities"]} == {
        ("openid", user["openid"]), ("unionid", user["unionid"]), ("phone", "+86" + PHONE)}
    [session] = data["sessions"]
    assert set(session) == {"member_id", "created_at", "expires_at", "revoked_at", "client"}
    assert [(c["from_level"], c["to_level"]) for c in data["level_changes"]] == [(1, 2)]
    [entry] = data["records"]["points_entry"]
    assert (entry["key"], entry["delta"], entry["growth_delta"]) == ("test:order-9", 60, 600)
    assert {"check_in", "imported_order"} <= set(data["records"])
    # No secret of the session reaches the member: not the token's hash, not WeChat's key.
    stored = await MemberSession.get(member_id=member_id)
    assert client.token is not None
    for secret in (client.token, stored.token_hash, stored.session_key_cipher):
        assert secret not in reply.body.decode()
    assert "phone_hash" not in json.dumps(data) and "phone_cipher" not in json.dumps(data)


async def test_erase_removes_personal_data_and_keeps_the_ledger(
    miniapp: MiniApp, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client, user, member_id = await member_with_history(miniapp, settings)
    other, _ = await miniapp.log_in(user)  # a second device

    assert (await client.delete("/me")).status == 204
    for device in (client, other):
        assert (await device.get("/me")).status == 401
    member = await Member.get(id=member_id)
    assert (member.status, member.nickname, member.avatar, member.birthday) == (
        MemberStatus.ERASED, "", "", None)
    assert (member.consents, member.phone_cipher, member.phone_hash, member.guide_userid) == (
        {}, None, None, None)
    assert member.erased_at is not None
    assert not await MemberIdentity.filter(member_id=member_id).exists()
    sessions = await MemberSession.filter(member_id=member_id)
    assert len(sessions) == 2
    assert all(s.revoked_at is not None and not s.session_key_cipher for s in sessions)
    # The ledger stays with the (now anonymous) member id, and still adds up.
    entries = await PointsEntry.filter(member_id=member_id)
    assert sum(e.delta for e in entries) == member.points == 60
    assert await LevelChange.filter(member_id=member_id).exists()
    assert f"member.erased member={member_id}" in caplog.text
    assert PHONE not in caplog.text

    # The same WeChat user logging in again is a new member; the number is free again.
    fresh_client, fresh = await miniapp.log_in(user)
    assert fresh["id"] != member_id and fresh["points"] == 0
    assert (await miniapp.bind_phone(fresh_client, user))["id"] == fresh["id"]
    assert await MemberIdentity.filter(kind=IdentityKind.PHONE).count() == 1


async def test_export_and_erase_cover_members_merged_in(
    miniapp: MiniApp, settings: Settings
) -> None:
    older, older_member, older_user = await miniapp.sign_up(phone=PHONE)
    newer, newer_member, newer_user = await miniapp.sign_up(phone=PHONE)
    await newer.patch("/me", {"nickname": "合并前"})
    for client, user in ((older, older_user), (newer, newer_user)):
        await miniapp.bind_phone(client, user)

    data = (await older.get("/me/export")).json()
    assert [m["id"] for m in data["members"]] == [older_member["id"], newer_member["id"]]
    assert data["members"][1]["status"] == "merged"
    assert [(m["survivor_id"], m["merged_id"]) for m in data["merges"]] == [
        (older_member["id"], newer_member["id"])]

    assert (await newer.delete("/me")).status == 204  # the survivor, through either session
    merged = await Member.get(id=newer_member["id"])
    assert (merged.nickname, merged.erased_at is not None) == ("", True)
    assert (await Member.get(id=older_member["id"])).status == MemberStatus.ERASED
