"""Login against the WeChat sandbox: new and returning members, users with and without a
unionid, the session it opens, WeChat's refusals as clear answers, the per-client rate
limit, and logout."""

from __future__ import annotations

import asyncio
import base64
import dataclasses

import pytest

from bot.settings import Settings
from handlers.member_crypto import unseal
from handlers.member_login import SESSION_KEY_PURPOSE
from handlers.member_sessions import token_hash
from models.members import IdentityKind, Member, MemberIdentity, MemberSession
from tests.apphost import free_port
from tests.miniapp_api.conftest import MiniApp, miniapp_client
from tests.sandbox_fixtures import SandboxConsole

JSCODE2SESSION = "sns/jscode2session"


async def identities_of(member_id: int) -> dict[str, str]:
    rows = await MemberIdentity.filter(member_id=member_id).values("kind", "value")
    return {str(row["kind"]): row["value"] for row in rows}


async def test_first_login_creates_the_member_and_a_returning_one_finds_it(
    miniapp: MiniApp, settings: Settings
) -> None:
    user = await miniapp.sandbox.miniapp_user(nickname="小明")
    assert user["unionid"]
    first, member = await miniapp.log_in(user)
    assert member["level"] == "V1" and member["level_number"] == 1
    assert (member["points"], member["growth"], member["guide"]) == (0, 0, None)
    assert member["next_level"] == {"name": "V2", "growth": 500}
    assert await identities_of(member["id"]) == {"openid": user["openid"],
                                                 "unionid": user["unionid"]}

    again, same = await miniapp.log_in(user)
    assert same["id"] == member["id"]
    assert again.token != first.token
    assert await Member.all().count() == 1
    for client in (first, again):
        reply = await client.get("/me")
        assert reply.status == 200 and reply.json()["id"] == member["id"]


async def test_the_session_keeps_a_hash_of_the_token_and_the_session_key_sealed(
    miniapp: MiniApp, settings: Settings
) -> None:
    user = await miniapp.sandbox.miniapp_user()
    code = await miniapp.sandbox.login_code(user["openid"])
    reply = await miniapp.api.post("/login", {"code": code}, headers={"User-Agent": "wxapp/8"})
    assert reply.status == 200
    answer = reply.json()
    assert set(answer) == {"token", "member"}
    assert b"session_key" not in reply.body
    [session] = await MemberSession.all()
    assert session.token_hash == token_hash(answer["token"]) != answer["token"]
    assert session.client == "wxapp/8"
    assert session.member_id == answer["member"]["id"]  # type: ignore[attr-defined]
    days = (session.expires_at - session.created_at).total_seconds() / 86400
    assert days == settings.members.session_days
    # The sandbox hands out 16 random bytes, base64: only the sealed form is stored.
    key = unseal(settings.members, session.session_key_cipher, SESSION_KEY_PURPOSE)
    assert len(base64.b64decode(key)) == 16
    assert key not in session.session_key_cipher


async def test_a_user_without_unionid_is_found_by_openid_and_gains_it_later(
    miniapp: MiniApp
) -> None:
    user = await miniapp.sandbox.miniapp_user(unionid="")
    _, member = await miniapp.log_in(user)
    assert await identities_of(member["id"]) == {"openid": user["openid"]}
    _, same = await miniapp.log_in(user)
    assert same["id"] == member["id"]

    # The mini-program is bound to an open platform account: WeChat now sends a unionid.
    bound = await miniapp.sandbox.miniapp_user(openid=user["openid"], unionid="oUnionLater01")
    _, still = await miniapp.log_in(bound)
    assert still["id"] == member["id"]
    assert await identities_of(member["id"]) == {"openid": user["openid"],
                                                 "unionid": "oUnionLater01"}
    assert await Member.all().count() == 1


async def test_concurrent_first_logins_of_one_user_make_one_member(miniapp: MiniApp) -> None:
    user = await miniapp.sandbox.miniapp_user()
    codes = [await miniapp.sandbox.login_code(user["openid"]) for _ in range(8)]
    replies = await asyncio.gather(*(miniapp.api.post("/login", {"code": c}) for c in codes))
    assert [r.status for r in replies] == [200] * 8
    assert len({r.json()["member"]["id"] for r in replies}) == 1
    assert await Member.all().count() == 1
    assert await MemberSession.all().count() == 8


async def test_two_wechat_users_are_two_members(miniapp: MiniApp) -> None:
    one = await miniapp.sandbox.miniapp_user()
    two = await miniapp.sandbox.miniapp_user()
    _, first = await miniapp.log_in(one)
    _, second = await miniapp.log_in(two)
    assert first["id"] != second["id"]
    assert await MemberIdentity.filter(kind=IdentityKind.OPENID).count() == 2


async def test_wechat_refusals_are_clear_answers(miniapp: MiniApp) -> None:
    api, sandbox = miniapp.api, miniapp.sandbox
    user = await sandbox.miniapp_user()

    used = await sandbox.login_code(user["openid"])
    assert (await api.post("/login", {"code": used})).status == 200
    reply = await api.post("/login", {"code": used})
    assert (reply.status, reply.error["code"]) == (400, "invalid_code")
    assert "errcode" not in reply.error and used not in reply.body.decode()

    await sandbox.fault(JSCODE2SESSION, 45011)
    reply = await api.post("/login", {"code": await sandbox.login_code(user["openid"])})
    assert (reply.status, reply.error["code"]) == (429, "rate_limited")
    assert reply.headers["Retry-After"] == "60"

    blocked = await sandbox.miniapp_user(blocked=True)
    reply = await api.post("/login", {"code": await sandbox.login_code(blocked["openid"])})
    assert (reply.status, reply.error["code"]) == (403, "user_blocked")

    await sandbox.fault(JSCODE2SESSION, 40163)  # an errcode the member center has no name for
    reply = await api.post("/login", {"code": await sandbox.login_code(user["openid"])})
    assert (reply.status, reply.error["code"], reply.error["errcode"]) == (
        502, "wechat_error", 40163)

    await sandbox.fault(JSCODE2SESSION, -1, count=50)  # busy through every retry
    reply = await api.post("/login", {"code": await sandbox.login_code(user["openid"])})
    assert (reply.status, reply.error["code"]) == (503, "wechat_unavailable")
    assert await Member.all().count() == 1  # only the first login made one


async def test_wechat_out_of_reach_is_503(settings: Settings, sandbox: SandboxConsole) -> None:
    nowhere = dataclasses.replace(settings, miniapp=dataclasses.replace(
        settings.miniapp, api_base=f"http://127.0.0.1:{free_port()}"))
    async with miniapp_client(nowhere, sandbox) as app:
        user = await sandbox.miniapp_user()
        reply = await app.api.post("/login", {"code": await sandbox.login_code(user["openid"])})
        assert (reply.status, reply.error["code"]) == (503, "wechat_unavailable")
        assert await Member.all().count() == 0


@pytest.mark.parametrize(("body", "field"), [
    ({}, "code"), ({"code": 12}, "code"), ({"code": ""}, "code"),
    ({"code": "x", "openid": "o1"}, "openid"), ([], "body"),
])
async def test_a_bad_login_body_is_400_naming_the_field(
    miniapp: MiniApp, body: object, field: str
) -> None:
    reply = await miniapp.api.post("/login", body)
    assert (reply.status, reply.error["code"], reply.error["field"]) == (
        400, "invalid_input", field)


async def test_a_login_body_over_the_limit_is_413(miniapp: MiniApp) -> None:
    reply = await miniapp.api.post("/login", {"code": "x" * 20_000})
    assert (reply.status, reply.error["code"]) == (413, "body_too_large")
    reply = await miniapp.api.request("POST", "/login", data=b"{not json")
    assert (reply.status, reply.error["field"]) == (400, "body")


async def test_logins_are_limited_per_client_and_minute(
    settings: Settings, sandbox: SandboxConsole
) -> None:
    three = dataclasses.replace(settings, members=dataclasses.replace(
        settings.members, login_per_minute=3))
    async with miniapp_client(three, sandbox) as app:
        user = await sandbox.miniapp_user()
        for _ in range(2):
            await app.log_in(user)
        assert (await app.api.post("/login", {"code": "wrong"})).status == 400  # counts too
        code = await sandbox.login_code(user["openid"])
        reply = await app.api.post("/login", {"code": code})
        assert (reply.status, reply.error["code"]) == (429, "rate_limited")
        assert int(reply.headers["Retry-After"]) > 0
        assert await MemberSession.all().count() == 2
        app.clock.advance(60)  # the next minute
        assert (await app.api.post("/login", {"code": code})).status == 200


async def test_logout_ends_this_session_only(miniapp: MiniApp) -> None:
    user = await miniapp.sandbox.miniapp_user()
    phone, _ = await miniapp.log_in(user)
    tablet, _ = await miniapp.log_in(user)
    assert (await phone.post("/logout")).status == 204
    reply = await phone.get("/me")
    assert (reply.status, reply.error["code"]) == (401, "unauthorized")
    assert (await phone.post("/logout")).status == 401
    assert (await tablet.get("/me")).status == 200
