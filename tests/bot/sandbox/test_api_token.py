"""gettoken and the access_token check every API makes, over real HTTP."""

from __future__ import annotations

from bot.settings import Settings
from tests.bot.sandbox.wecom_api import WeComApi
from tests.sandbox_fixtures import SandboxConsole

FOLLOW_LIST = "externalcontact/get_follow_user_list"


async def test_gettoken_issues_a_token_that_works(api: WeComApi, settings: Settings) -> None:
    answer = await api.gettoken()
    assert answer["errcode"] == 0 and answer["errmsg"] == "ok"
    assert answer["expires_in"] == settings.sandbox.token_expires_in
    assert (await api.get(FOLLOW_LIST, answer["access_token"]))["errcode"] == 0


async def test_bad_secret_is_40001(api: WeComApi) -> None:
    answer = await api.gettoken(corpsecret="wrong")
    assert answer == {"errcode": 40001, "errmsg": "invalid secret"}


async def test_bad_corpid_is_40013(api: WeComApi) -> None:
    assert (await api.gettoken(corpid="wwother"))["errcode"] == 40013
    assert (await api.call("GET", "gettoken"))["errcode"] == 40013


async def test_token_expires_by_the_sandbox_clock(
    api: WeComApi, sandbox: SandboxConsole, settings: Settings
) -> None:
    token = await api.token()
    await sandbox.advance_clock(settings.sandbox.token_expires_in - 1)
    assert (await api.get(FOLLOW_LIST, token))["errcode"] == 0
    await sandbox.advance_clock(1)
    assert await api.get(FOLLOW_LIST, token) == {"errcode": 42001,
                                                 "errmsg": "access_token expired"}
    assert (await api.get(FOLLOW_LIST, await api.token()))["errcode"] == 0


async def test_invalidated_token_is_40014(api: WeComApi, sandbox: SandboxConsole) -> None:
    token = await api.token()
    assert await sandbox.invalidate_tokens() == 1
    assert (await api.get(FOLLOW_LIST, token))["errcode"] == 40014
    assert (await api.get(FOLLOW_LIST, await api.token()))["errcode"] == 0


async def test_garbled_token_is_40014_and_missing_is_41001(api: WeComApi) -> None:
    token = await api.token()
    assert (await api.get(FOLLOW_LIST, token[:-2] + "zz"))["errcode"] == 40014
    assert (await api.call("GET", FOLLOW_LIST))["errcode"] == 41001
    assert (await api.get(FOLLOW_LIST, ""))["errcode"] == 41001
