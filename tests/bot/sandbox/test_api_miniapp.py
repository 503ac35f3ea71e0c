"""The mini-program APIs over real HTTP: jscode2session, the mini-program's token and
getuserphonenumber, with their codes (single use, 5 minutes), the per-user login quota,
blocked users, faults, and the console that plays the WeChat users."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from bot.settings import Settings
from tests.bot.sandbox.wecom_api import WeComApi
from tests.sandbox_fixtures import SandboxConsole, SandboxConsoleError

LOGIN = "sns/jscode2session"
PHONE = "wxa/business/getuserphonenumber"
CODE_TTL = 300


class WeChatApi:
    """Calls the sandbox's mini-program APIs like a WeChat client would."""

    def __init__(self, base_url: str, settings: Settings, session: aiohttp.ClientSession) -> None:
        self.base_url = base_url
        self.miniapp = settings.miniapp
        self._session = session

    async def call(self, method: str, path: str, *, params: dict[str, str] | None = None,
                   body: Any = None, data: bytes | None = None) -> dict[str, Any]:
        async with self._session.request(method, f"{self.base_url}/{path}", params=params,
                                         json=body, data=data) as response:
            assert response.status == 200
            return dict(await response.json())

    async def login(self, js_code: str, **overrides: str) -> dict[str, Any]:
        params = {"appid": self.miniapp.appid, "secret": self.miniapp.secret,
                  "js_code": js_code, "grant_type": "authorization_code", **overrides}
        return await self.call("GET", LOGIN, params=params)

    async def get_token(self, **overrides: str) -> dict[str, Any]:
        params = {"grant_type": "client_credential", "appid": self.miniapp.appid,
                  "secret": self.miniapp.secret, **overrides}
        return await self.call("GET", "cgi-bin/token", params=params)

    async def token(self) -> str:
        answer = await self.get_token()
        assert errcode(answer) == 0, answer
        return str(answer["access_token"])

    async def phone(self, token: str, body: Any = None, *, data: bytes | None = None,
                    **params: str) -> dict[str, Any]:
        return await self.call("POST", PHONE, params={"access_token": token, **params},
                               body=body, data=data)


@pytest.fixture
async def wechat(sandbox: SandboxConsole, settings: Settings) -> AsyncIterator[WeChatApi]:
    async with aiohttp.ClientSession() as session:
        yield WeChatApi(sandbox.url, settings, session)


@pytest.fixture
async def user(sandbox: SandboxConsole) -> dict[str, Any]:
    return await sandbox.miniapp_user(nickname="韩梅梅", phone="13800138000")


def errcode(answer: dict[str, Any]) -> int:
    """The answer's errcode: 0 when absent, as on WeChat's successful logins."""
    return int(answer.get("errcode", 0))


async def errcodes(sandbox: SandboxConsole, api: str) -> list[int]:
    return [call["errcode"] for call in (await sandbox.calls(api))["calls"]]


# -- jscode2session --

async def test_login_answers_the_users_openid_unionid_and_a_session_key(
    wechat: WeChatApi, sandbox: SandboxConsole, user: dict[str, Any]
) -> None:
    answer = await wechat.login(await sandbox.login_code(user["openid"]))

    assert "errcode" not in answer, "WeChat answers a login without errcode"
    assert (answer["openid"], answer["unionid"]) == (user["openid"], user["unionid"])
    assert len(base64.b64decode(answer["session_key"])) == 16
    again = await wechat.login(await sandbox.login_code(user["openid"]))
    assert again["session_key"] != answer["session_key"]


async def test_a_user_without_unionid_gets_none(
    wechat: WeChatApi, sandbox: SandboxConsole
) -> None:
    user = await sandbox.miniapp_user(unionid="")

    answer = await wechat.login(await sandbox.login_code(user["openid"]))

    assert errcode(answer) == 0 and answer["openid"] == user["openid"]
    assert "unionid" not in answer


async def test_a_login_code_works_once(
    wechat: WeChatApi, sandbox: SandboxConsole, user: dict[str, Any]
) -> None:
    code = await sandbox.login_code(user["openid"])

    assert errcode(await wechat.login(code)) == 0
    assert await wechat.login(code) == {"errcode": 40029, "errmsg": "invalid code"}
    assert errcode(await wechat.login("never-issued")) == 40029
    assert await wechat.login("") == {"errcode": 41008, "errmsg": "missing code"}


async def test_a_login_code_expires_after_five_minutes(
    wechat: WeChatApi, sandbox: SandboxConsole, user: dict[str, Any]
) -> None:
    early, late = [await sandbox.login_code(user["openid"]) for _ in range(2)]
    await sandbox.advance_clock(CODE_TTL - 1)
    assert errcode(await wechat.login(early)) == 0

    await sandbox.advance_clock(1)

    assert errcode(await wechat.login(late)) == 40029


@pytest.mark.parametrize(("override", "expected"), [
    ({"appid": "wxother"}, {"errcode": 40013, "errmsg": "invalid appid"}),
    ({"secret": "wrong"}, {"errcode": 40125, "errmsg": "invalid appsecret"}),
    ({"grant_type": "client_credential"}, {"errcode": 40002, "errmsg": "invalid grant_type"}),
], ids=["appid", "secret", "grant_type"])
async def test_login_checks_the_mini_programs_credentials(
    wechat: WeChatApi, sandbox: SandboxConsole, user: dict[str, Any],
    override: dict[str, str], expected: dict[str, Any],
) -> None:
    code = await sandbox.login_code(user["openid"])

    assert await wechat.login(code, **override) == expected
    assert errcode(await wechat.login(code)) == 0, "a refused call does not use the code"


async def test_a_blocked_user_cannot_log_in(
    wechat: WeChatApi, sandbox: SandboxConsole, user: dict[str, Any]
) -> None:
    await sandbox.miniapp_user(openid=user["openid"], blocked=True)
    code = await sandbox.login_code(user["openid"])

    assert await wechat.login(code) == {"errcode": 40226, "errmsg": "code blocked"}

    await sandbox.miniapp_user(openid=user["openid"], blocked=False)
    assert errcode(await wechat.login(code)) == 0


async def test_more_than_100_logins_a_minute_by_one_user_answer_45011(
    wechat: WeChatApi, sandbox: SandboxConsole, user: dict[str, Any]
) -> None:
    # Start at a minute boundary so all 101 calls fall into one minute window.
    now = await sandbox.advance_clock(0)
    await sandbox.advance_clock(60 - now % 60)
    codes = [await sandbox.login_code(user["openid"]) for _ in range(101)]
    other = await sandbox.miniapp_user()

    answers = await asyncio.gather(*(wechat.login(code) for code in codes[:100]))
    assert {errcode(a) for a in answers} == {0}
    assert await wechat.login(codes[100]) == {
        "errcode": 45011, "errmsg": "api minute-quota reach limit mustslower retry next minute"}
    assert errcode(await wechat.login(await sandbox.login_code(other["openid"]))) == 0

    await sandbox.advance_clock(60)
    assert errcode(await wechat.login(codes[100])) == 0


async def test_faults_and_the_call_log_name_the_mini_program_apis(
    wechat: WeChatApi, sandbox: SandboxConsole, user: dict[str, Any]
) -> None:
    code = await sandbox.login_code(user["openid"])
    await sandbox.fault(LOGIN, -1, count=2)
    await sandbox.fault("token", -1)
    await sandbox.fault(PHONE, 45011)

    assert [errcode(await wechat.login(code)) for _ in range(3)] == [-1, -1, 0]
    assert await wechat.get_token() == {"errcode": -1, "errmsg": "system busy"}
    token = await wechat.token()
    phone_code = await sandbox.phone_code(user["openid"])
    assert (await wechat.phone(token, {"code": phone_code}))["errcode"] == 45011
    assert (await wechat.phone(token, {"code": phone_code}))["errcode"] == 0

    assert await errcodes(sandbox, LOGIN) == [-1, -1, 0]
    assert await errcodes(sandbox, "token") == [-1, 0]
    assert await errcodes(sandbox, PHONE) == [45011, 0]


async def test_latency_applies_to_the_mini_program_apis(
    wechat: WeChatApi, sandbox: SandboxConsole, user: dict[str, Any]
) -> None:
    await sandbox.latency(LOGIN, 5)
    code = await sandbox.login_code(user["openid"])

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(wechat.login(code), 0.2)

    await sandbox.latency(LOGIN, 0)
    assert errcode(await wechat.login(code)) == 0


async def test_unknown_paths_under_sns_and_wxa_answer_48001(wechat: WeChatApi) -> None:
    for path in ("sns/userinfo", "wxa/getwxacode"):
        assert await wechat.call("GET", path) == {"errcode": 48001, "errmsg": "api unauthorized"}


# -- the mini-program's access token --

async def test_the_mini_program_token_is_not_wecoms(
    wechat: WeChatApi, api: WeComApi, settings: Settings
) -> None:
    answer = await wechat.get_token()
    assert set(answer) == {"access_token", "expires_in"}
    assert answer["expires_in"] == settings.sandbox.token_expires_in
    wecom_token = await api.token()

    assert (await wechat.phone(wecom_token, {"code": "x"}))["errcode"] == 40014
    assert (await api.get("externalcontact/get_follow_user_list",
                          answer["access_token"]))["errcode"] == 40014
    assert (await api.get("externalcontact/get_follow_user_list", wecom_token))["errcode"] == 0


@pytest.mark.parametrize(("override", "expected"), [
    ({"appid": "wxother"}, 40013), ({"secret": "wrong"}, 40125),
    ({"grant_type": "authorization_code"}, 40002),
], ids=["appid", "secret", "grant_type"])
async def test_the_token_checks_the_credentials(
    wechat: WeChatApi, override: dict[str, str], expected: int
) -> None:
    assert errcode(await wechat.get_token(**override)) == expected


async def test_phone_api_token_errors(
    wechat: WeChatApi, sandbox: SandboxConsole, settings: Settings, user: dict[str, Any]
) -> None:
    token = await wechat.token()
    code = await sandbox.phone_code(user["openid"])
    assert (await wechat.call("POST", PHONE, body={"code": code}))["errcode"] == 41001
    assert (await wechat.phone(token[:-2] + "zz", {"code": code}))["errcode"] == 40014

    await sandbox.advance_clock(settings.sandbox.token_expires_in)
    assert await wechat.phone(token, {"code": code}) == {
        "errcode": 42001, "errmsg": "access_token expired"}

    fresh = await wechat.token()
    assert await sandbox.invalidate_miniapp_tokens() == 2
    assert (await wechat.phone(fresh, {"code": code}))["errcode"] == 40014
    code = await sandbox.phone_code(user["openid"])  # the first one expired meanwhile
    assert (await wechat.phone(await wechat.token(), {"code": code}))["errcode"] == 0


# -- getuserphonenumber --

async def test_phone_number_answers_what_the_user_shared(
    wechat: WeChatApi, sandbox: SandboxConsole, settings: Settings, user: dict[str, Any]
) -> None:
    now = await sandbox.advance_clock(0)
    code = await sandbox.phone_code(user["openid"])
    foreign = await sandbox.phone_code(user["openid"], phone="61234567", country_code="852")
    token = await wechat.token()

    answer = await wechat.phone(token, {"code": code})
    assert answer["errcode"] == 0
    info = answer["phone_info"]
    assert (info["phoneNumber"], info["purePhoneNumber"], info["countryCode"]) == (
        "13800138000", "13800138000", "86")
    assert info["watermark"]["appid"] == settings.miniapp.appid
    assert abs(info["watermark"]["timestamp"] - now) <= 1
    info = (await wechat.phone(token, {"code": foreign}))["phone_info"]
    assert (info["phoneNumber"], info["purePhoneNumber"], info["countryCode"]) == (
        "+85261234567", "61234567", "852")


async def test_a_phone_code_works_once_and_expires_after_five_minutes(
    wechat: WeChatApi, sandbox: SandboxConsole, user: dict[str, Any]
) -> None:
    used, kept = [await sandbox.phone_code(user["openid"]) for _ in range(2)]
    token = await wechat.token()
    assert (await wechat.phone(token, {"code": used}))["errcode"] == 0
    assert await wechat.phone(token, {"code": used}) == {"errcode": 40029, "errmsg": "invalid code"}
    assert (await wechat.phone(token, {"code": "never-issued"}))["errcode"] == 40029

    await sandbox.advance_clock(CODE_TTL)

    assert (await wechat.phone(token, {"code": kept}))["errcode"] == 40029


async def test_a_phone_code_missing_from_the_body_is_47001(
    wechat: WeChatApi, sandbox: SandboxConsole, user: dict[str, Any]
) -> None:
    code = await sandbox.phone_code(user["openid"])
    token = await wechat.token()
    format_error = {"errcode": 47001, "errmsg": "data format error"}

    assert await wechat.phone(token, code=code) == format_error
    assert await wechat.phone(token, data=b"code=" + code.encode()) == format_error
    assert await wechat.phone(token, {"code": 12345}) == format_error
    assert await wechat.phone(token, {}) == format_error
    assert (await wechat.phone(token, {"code": code}))["errcode"] == 0


# -- the console --

async def test_users_are_created_updated_and_listed(sandbox: SandboxConsole) -> None:
    created = await sandbox.miniapp_user(nickname="李雷")
    given = await sandbox.miniapp_user(openid="oGIVEN", unionid="")
    assert created["openid"].startswith("o") and len(created["openid"]) == 28
    assert created["unionid"].startswith("o") and created["unionid"] != created["openid"]
    assert (given["openid"], given["unionid"], given["blocked"]) == ("oGIVEN", "", False)

    updated = await sandbox.miniapp_user(openid=created["openid"], phone="13900139000")

    assert updated == {**created, "phone": "13900139000"}
    assert await sandbox.miniapp_users() == [updated, given]
    state = await sandbox.state()
    assert state["miniapp_users"] == 2


async def test_a_unionid_belongs_to_one_wechat_user(sandbox: SandboxConsole) -> None:
    first = await sandbox.miniapp_user(unionid="oUNION")
    with pytest.raises(SandboxConsoleError) as refused:
        await sandbox.miniapp_user(unionid="oUNION")
    assert refused.value.status == 400 and first["openid"] in refused.value.payload["detail"]
    assert len(await sandbox.miniapp_users()) == 1


async def test_a_wechat_user_links_to_a_wecom_customer_by_unionid(
    wechat: WeChatApi, api: WeComApi, sandbox: SandboxConsole
) -> None:
    user = await sandbox.miniapp_user()
    customer = await sandbox.add_customer("李雷", unionid=user["unionid"])
    await sandbox.add_staff("zhangsan")
    await sandbox.add_contact("zhangsan", customer["external_userid"])

    contact = await api.get("externalcontact/get", await api.token(),
                            external_userid=customer["external_userid"])
    login = await wechat.login(await sandbox.login_code(user["openid"]))

    assert contact["external_contact"]["unionid"] == login["unionid"] == user["unionid"]


@pytest.mark.parametrize(("call", "status"), [
    (lambda s: s.login_code("onobody"), 404),
    (lambda s: s.phone_code("onobody", phone="13800138000"), 404),
    (lambda s: s.miniapp_user(phone="12-34"), 400),
    (lambda s: s.miniapp_user(blocked="yes"), 400),
    (lambda s: s.miniapp_user(nickname=7), 400),
], ids=["unknown-user", "unknown-phone-user", "bad-phone", "bad-blocked", "bad-nickname"])
async def test_console_refusals(
    sandbox: SandboxConsole, call: Callable[[SandboxConsole], Awaitable[Any]], status: int
) -> None:
    with pytest.raises(SandboxConsoleError) as refused:
        await call(sandbox)
    assert refused.value.status == status
    assert (await sandbox.state())["miniapp_users"] == 0


async def test_a_phone_code_needs_a_phone(sandbox: SandboxConsole) -> None:
    user = await sandbox.miniapp_user()
    with pytest.raises(SandboxConsoleError) as refused:
        await sandbox.phone_code(user["openid"])
    assert refused.value.status == 400
    with pytest.raises(SandboxConsoleError):
        await sandbox.phone_code(user["openid"], phone="13800138000", country_code="+86")
    assert (await sandbox.state())["miniapp_phone_codes"] == 0


async def test_the_state_counts_mini_program_things_and_reset_clears_them(
    wechat: WeChatApi, sandbox: SandboxConsole, user: dict[str, Any]
) -> None:
    await sandbox.login_code(user["openid"])
    await sandbox.phone_code(user["openid"])
    await wechat.token()
    state = await sandbox.state()
    assert {key: state[key] for key in state if key.startswith("miniapp_")} == {
        "miniapp_users": 1, "miniapp_login_codes": 1, "miniapp_phone_codes": 1,
        "miniapp_access_tokens": 1}

    await sandbox.reset()

    state = await sandbox.state()
    assert [state[key] for key in state if key.startswith("miniapp_")] == [0, 0, 0, 0]
