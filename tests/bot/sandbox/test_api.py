"""The /cgi-bin/ pipeline: unknown APIs, bodies, the call log, faults and latency."""

from __future__ import annotations

import time

from tests.bot.sandbox.wecom_api import WeComApi
from tests.sandbox_fixtures import SandboxConsole

GET = "externalcontact/get"
FOLLOW_LIST = "externalcontact/get_follow_user_list"
BATCH = "externalcontact/batch/get_by_user"


async def test_unknown_path_or_method_answers_48001(api: WeComApi) -> None:
    token = await api.token()
    assert await api.get("externalcontact/no_such_api", token) == {
        "errcode": 48001, "errmsg": "api unauthorized"}
    assert (await api.get(BATCH, token))["errcode"] == 48001


async def test_malformed_json_body_is_47001(api: WeComApi) -> None:
    token = await api.token()
    params = {"access_token": token}
    assert await api.call("POST", BATCH, params=params, data=b"{not json") == {
        "errcode": 47001, "errmsg": "data format error"}
    assert (await api.call("POST", BATCH, params=params, data=b"[1]"))["errcode"] == 47001


async def test_every_call_is_logged_with_its_errcode(
    api: WeComApi, sandbox: SandboxConsole
) -> None:
    token = await api.token()
    await api.post(FOLLOW_LIST, token, {})
    await api.get(FOLLOW_LIST, "bad")
    log = await sandbox.calls(FOLLOW_LIST)
    assert [(c["api"], c["errcode"]) for c in log["calls"]] == [
        (FOLLOW_LIST, 0), (FOLLOW_LIST, 40014)]
    assert log["counts"] == {"gettoken": 1, FOLLOW_LIST: 2}
    assert log["total"] == 3


async def test_fault_fails_the_next_calls_then_clears(
    api: WeComApi, sandbox: SandboxConsole
) -> None:
    token = await api.token()
    await sandbox.fault(FOLLOW_LIST, 45009, count=2)
    answers = [await api.get(FOLLOW_LIST, token) for _ in range(3)]
    assert answers[0] == answers[1] == {"errcode": 45009, "errmsg": "api freq out of limit"}
    assert answers[2]["errcode"] == 0
    assert [c["errcode"] for c in (await sandbox.calls(FOLLOW_LIST))["calls"]] == [
        45009, 45009, 0]


async def test_fault_on_any_api_and_clearing(api: WeComApi, sandbox: SandboxConsole) -> None:
    await sandbox.fault("*", -1, count=5)
    assert (await api.gettoken())["errcode"] == -1
    plan = await sandbox.fault("*", -1, count=0)
    assert plan["faults"] == []
    assert (await api.gettoken())["errcode"] == 0


async def test_fault_comes_before_the_token_check(
    api: WeComApi, sandbox: SandboxConsole
) -> None:
    await sandbox.fault(GET, 42001)
    answer = await api.get(GET, await api.token(), external_userid="wmnobody")
    assert answer == {"errcode": 42001, "errmsg": "access_token expired"}


async def test_latency_delays_one_api_until_cleared(
    api: WeComApi, sandbox: SandboxConsole
) -> None:
    token = await api.token()
    plan = await sandbox.latency(FOLLOW_LIST, 0.3)
    assert plan["latency"] == {FOLLOW_LIST: 0.3}
    started = time.monotonic()
    assert (await api.get(FOLLOW_LIST, token))["errcode"] == 0
    assert time.monotonic() - started >= 0.3
    assert (await sandbox.latency(FOLLOW_LIST, 0))["latency"] == {}
