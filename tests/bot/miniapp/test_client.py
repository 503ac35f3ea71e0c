"""The mini-program client against the sandbox over HTTP: login and phone numbers, each
WeChat error raised as its exception, busy retries, the access token cached in Redis
and refreshed, and no secret, token, code or session_key in a message or log line."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from redis.asyncio import Redis

from bot.app import create_app
from bot.keys import MINIAPP
from bot.miniapp import (
    Busy,
    InvalidCode,
    MiniProgramClient,
    MiniProgramError,
    MiniProgramUnavailable,
    RateLimited,
    TokenInvalid,
    UserBlocked,
)
from bot.miniapp.client import BUSY_RETRIES
from bot.settings import Settings
from bot.wecom.tokens import TOKEN_REFRESH_MARGIN_SECONDS
from tests.apphost import free_port
from tests.bot.wecom.conftest import FakeTime, backoffs, errcodes, failure_text
from tests.sandbox_fixtures import SandboxConsole

from .conftest import MakeClient

LOGIN = "sns/jscode2session"
PHONE = "wxa/business/getuserphonenumber"


@pytest.fixture
async def user(sandbox: SandboxConsole) -> dict[str, Any]:
    return await sandbox.miniapp_user(nickname="韩梅梅", phone="13800138000")


# -- login --

async def test_login_answers_openid_unionid_and_session_key(
    client: MiniProgramClient, sandbox: SandboxConsole, user: dict[str, Any]
) -> None:
    session = await client.code2session(await sandbox.login_code(user["openid"]))

    assert (session.openid, session.unionid) == (user["openid"], user["unionid"])
    assert session.session_key
    assert session.session_key not in repr(session)


async def test_login_of_a_user_without_unionid(
    client: MiniProgramClient, sandbox: SandboxConsole
) -> None:
    user = await sandbox.miniapp_user(unionid="")

    session = await client.code2session(await sandbox.login_code(user["openid"]))

    assert (session.openid, session.unionid) == (user["openid"], None)


async def test_a_used_or_unknown_code_raises_invalid_code(
    client: MiniProgramClient, sandbox: SandboxConsole, user: dict[str, Any]
) -> None:
    code = await sandbox.login_code(user["openid"])
    await client.code2session(code)

    for bad in (code, "never-issued", ""):
        with pytest.raises(InvalidCode) as raised:
            await client.code2session(bad)
        assert raised.value.api == LOGIN
    assert await errcodes(sandbox, LOGIN) == [0, 40029, 40029, 41008]


async def test_an_expired_code_raises_invalid_code(
    client: MiniProgramClient, sandbox: SandboxConsole, user: dict[str, Any]
) -> None:
    code = await sandbox.login_code(user["openid"])
    await sandbox.advance_clock(300)

    with pytest.raises(InvalidCode):
        await client.code2session(code)


async def test_a_blocked_user_raises_user_blocked(
    client: MiniProgramClient, sandbox: SandboxConsole, fake_time: FakeTime
) -> None:
    user = await sandbox.miniapp_user(blocked=True)

    with pytest.raises(UserBlocked) as raised:
        await client.code2session(await sandbox.login_code(user["openid"]))

    assert raised.value.errcode == 40226
    assert fake_time.sleeps == []


async def test_over_100_logins_a_minute_raise_rate_limited_without_retrying(
    client: MiniProgramClient, sandbox: SandboxConsole, user: dict[str, Any],
    fake_time: FakeTime,
) -> None:
    now = await sandbox.advance_clock(0)
    await sandbox.advance_clock(60 - now % 60)  # all calls in one minute window
    for _ in range(100):
        await client.code2session(await sandbox.login_code(user["openid"]))

    with pytest.raises(RateLimited) as raised:
        await client.code2session(await sandbox.login_code(user["openid"]))

    assert raised.value.errcode == 45011
    assert fake_time.sleeps == []
    assert (await errcodes(sandbox, LOGIN))[-2:] == [0, 45011]


@pytest.mark.parametrize(("errcode", "error"), [
    (40029, InvalidCode), (45011, RateLimited), (40226, UserBlocked), (40013, MiniProgramError),
])
async def test_errcodes_raise_their_exception_at_once(
    client: MiniProgramClient, sandbox: SandboxConsole, user: dict[str, Any],
    fake_time: FakeTime, errcode: int, error: type[MiniProgramError],
) -> None:
    await sandbox.fault(LOGIN, errcode)

    with pytest.raises(error) as raised:
        await client.code2session(await sandbox.login_code(user["openid"]))

    assert type(raised.value) is error
    assert (raised.value.errcode, raised.value.api) == (errcode, LOGIN)
    assert raised.value.errmsg
    assert fake_time.sleeps == []
    assert await errcodes(sandbox, LOGIN) == [errcode]


async def test_busy_is_retried_then_succeeds(
    client: MiniProgramClient, sandbox: SandboxConsole, user: dict[str, Any],
    settings: Settings, fake_time: FakeTime,
) -> None:
    await sandbox.fault(LOGIN, -1, BUSY_RETRIES)

    session = await client.code2session(await sandbox.login_code(user["openid"]))

    assert session.openid == user["openid"]
    assert await errcodes(sandbox, LOGIN) == [-1] * BUSY_RETRIES + [0]
    assert fake_time.sleeps == backoffs(settings, BUSY_RETRIES)


async def test_busy_beyond_the_retries_raises_busy(
    client: MiniProgramClient, sandbox: SandboxConsole, user: dict[str, Any],
    settings: Settings, fake_time: FakeTime,
) -> None:
    await sandbox.fault(LOGIN, -1, BUSY_RETRIES + 5)

    with pytest.raises(Busy) as raised:
        await client.code2session(await sandbox.login_code(user["openid"]))

    assert raised.value.errcode == -1
    assert await errcodes(sandbox, LOGIN) == [-1] * (BUSY_RETRIES + 1)
    assert fake_time.sleeps == backoffs(settings, BUSY_RETRIES)


async def test_wrong_credentials_raise_the_plain_error(
    make_client: MakeClient, sandbox: SandboxConsole, user: dict[str, Any]
) -> None:
    wrong = make_client(secret="wrong-secret-0123456789")

    with pytest.raises(MiniProgramError) as login:
        await wrong.code2session(await sandbox.login_code(user["openid"]))
    with pytest.raises(MiniProgramError) as phone:
        await wrong.phone_number(await sandbox.phone_code(user["openid"]))

    assert (type(login.value), login.value.errcode) == (MiniProgramError, 40125)
    assert (type(phone.value), phone.value.errcode, phone.value.api) == (
        MiniProgramError, 40125, "token")


async def test_timeout_and_connection_refused_raise_unavailable(
    make_client: MakeClient, sandbox: SandboxConsole, user: dict[str, Any]
) -> None:
    slow = make_client(wecom={"request_timeout_seconds": 0.1})
    await sandbox.latency(LOGIN, 0.5)
    with pytest.raises(MiniProgramUnavailable) as timed_out:
        await slow.code2session(await sandbox.login_code(user["openid"]))
    refused = make_client(api_base=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(MiniProgramUnavailable) as unreachable:
        await refused.phone_number("a-code")

    assert timed_out.value.api == LOGIN
    assert unreachable.value.api == "token"


# -- phone numbers --

async def test_phone_number_answers_the_pure_number_and_country_code(
    client: MiniProgramClient, sandbox: SandboxConsole, user: dict[str, Any]
) -> None:
    phone = await client.phone_number(await sandbox.phone_code(user["openid"]))
    foreign = await client.phone_number(
        await sandbox.phone_code(user["openid"], phone="61234567", country_code="852"))

    assert (phone.phone, phone.country_code) == ("13800138000", "86")
    assert (foreign.phone, foreign.country_code) == ("61234567", "852")
    assert "13800138000" not in repr(phone)


async def test_a_used_or_expired_phone_code_raises_invalid_code(
    client: MiniProgramClient, sandbox: SandboxConsole, user: dict[str, Any]
) -> None:
    used, expiring = [await sandbox.phone_code(user["openid"]) for _ in range(2)]
    await client.phone_number(used)
    with pytest.raises(InvalidCode):
        await client.phone_number(used)
    await sandbox.advance_clock(300)
    with pytest.raises(InvalidCode) as raised:
        await client.phone_number(expiring)

    assert raised.value.api == PHONE
    assert await errcodes(sandbox, PHONE) == [0, 40029, 40029]


# -- the access token --

async def test_the_token_is_fetched_once_and_shared_through_redis(
    make_client: MakeClient, sandbox: SandboxConsole, user: dict[str, Any], redis: Redis,
    settings: Settings,
) -> None:
    async with aiohttp.ClientSession() as other_session:
        first, second = make_client(), make_client(session=other_session)
        await first.phone_number(await sandbox.phone_code(user["openid"]))
        await second.phone_number(await sandbox.phone_code(user["openid"]))

    assert await errcodes(sandbox, "token") == [0]
    assert await errcodes(sandbox, PHONE) == [0, 0]
    keys = [key if isinstance(key, str) else key.decode() for key in await redis.keys("*")]
    assert any(key.startswith(f"miniapp:token:{settings.miniapp.appid}:") for key in keys)
    assert not any(settings.miniapp.secret in key for key in keys)
    assert "gettoken" not in (await sandbox.calls())["counts"]


async def test_an_expired_token_is_refreshed_and_the_call_retried(
    client: MiniProgramClient, sandbox: SandboxConsole, user: dict[str, Any],
    settings: Settings,
) -> None:
    await client.phone_number(await sandbox.phone_code(user["openid"]))
    await sandbox.advance_clock(settings.sandbox.token_expires_in)

    phone = await client.phone_number(await sandbox.phone_code(user["openid"]))

    assert phone.phone == "13800138000"
    assert await errcodes(sandbox, PHONE) == [0, 42001, 0]
    assert await errcodes(sandbox, "token") == [0, 0]


async def test_the_token_is_refetched_before_it_expires(
    client: MiniProgramClient, sandbox: SandboxConsole, user: dict[str, Any],
    fake_time: FakeTime,
) -> None:
    await client.phone_number(await sandbox.phone_code(user["openid"]))
    fake_time.now += 7200 - TOKEN_REFRESH_MARGIN_SECONDS

    await client.phone_number(await sandbox.phone_code(user["openid"]))

    assert await errcodes(sandbox, "token") == [0, 0]
    assert await errcodes(sandbox, PHONE) == [0, 0]


@pytest.mark.parametrize("refusal", ["invalidated", 40001])
async def test_a_refused_token_is_refreshed_once(
    client: MiniProgramClient, sandbox: SandboxConsole, user: dict[str, Any],
    refusal: str | int,
) -> None:
    await client.phone_number(await sandbox.phone_code(user["openid"]))
    if refusal == "invalidated":
        assert await sandbox.invalidate_miniapp_tokens() == 1
    else:  # WeChat's "invalid credential, access_token is invalid or not latest"
        await sandbox.fault(PHONE, int(refusal))

    await client.phone_number(await sandbox.phone_code(user["openid"]))

    assert await errcodes(sandbox, PHONE) == [0, 40014 if refusal == "invalidated" else 40001, 0]
    assert await errcodes(sandbox, "token") == [0, 0]


async def test_a_token_refused_after_the_refresh_raises_token_invalid(
    client: MiniProgramClient, sandbox: SandboxConsole, user: dict[str, Any]
) -> None:
    await sandbox.fault(PHONE, 42001, 2)

    with pytest.raises(TokenInvalid):
        await client.phone_number(await sandbox.phone_code(user["openid"]))

    assert await errcodes(sandbox, PHONE) == [42001, 42001]
    assert await errcodes(sandbox, "token") == [0, 0]


# -- secrets, and the app --

async def test_no_secret_token_code_or_session_key_in_messages_or_logs(
    make_client: MakeClient, sandbox: SandboxConsole, user: dict[str, Any],
    settings: Settings, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client()
    codes = [await sandbox.login_code(user["openid"]) for _ in range(3)]
    session = await client.code2session(codes[0])
    token = await client.transport.tokens.get(settings.miniapp.secret)
    messages = [repr(session)]

    messages.append(await failure_text(client.code2session(codes[0])))
    await sandbox.fault(LOGIN, -1, BUSY_RETRIES + 1)
    messages.append(await failure_text(client.code2session(codes[1])))
    await sandbox.fault(PHONE, 40014, 2)
    messages.append(await failure_text(client.phone_number(codes[2])))
    await sandbox.latency(LOGIN, 0.5)
    slow = make_client(wecom={"request_timeout_seconds": 0.1})
    messages.append(await failure_text(slow.code2session(codes[2])))
    wrong = make_client(secret="wrong-secret-0123456789")
    messages.append(await failure_text(wrong.phone_number(codes[2])))
    refused = make_client(api_base=f"http://127.0.0.1:{free_port()}")
    messages.append(await failure_text(refused.code2session(codes[2])))

    logged = [r.getMessage() for r in caplog.records if r.name != "aiohttp.access"]
    assert sum(1 for r in caplog.records if r.name == "bot.miniapp") >= len(messages) - 1
    for text in messages + logged:
        for value in (settings.miniapp.secret, "wrong-secret-0123456789", token,
                      session.session_key, *codes):
            assert value not in text
        assert not re.search(r"[?&](access_token|secret|js_code)=(?!\*\*\*)", text)


async def test_the_app_serves_one_client_under_miniapp(
    settings: Settings, sandbox: SandboxConsole, user: dict[str, Any]
) -> None:
    app = create_app(replace(settings, sandbox=replace(settings.sandbox, enabled=False)))
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        session = await app[MINIAPP].code2session(await sandbox.login_code(user["openid"]))
    finally:
        await runner.cleanup()

    assert session.openid == user["openid"]
