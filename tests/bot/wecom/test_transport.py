"""Retries and errors: busy answers are retried with doubling waits, other errcodes
raise their typed exception at once, transport failures raise WeComUnavailable."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from bot.settings import Settings
from bot.wecom import (
    AlreadyChatted,
    InvalidExternalUserId,
    NoRelationship,
    RateLimited,
    SystemBusy,
    TokenInvalid,
    WeComClient,
    WeComError,
    WeComUnavailable,
    WelcomeCodeInvalid,
    error_for,
)
from tests.apphost import free_port

from .conftest import FakeTime, MakeClient, backoffs, errcodes, failure_text

FOLLOW_LIST = "externalcontact/get_follow_user_list"
BUSY = [(45009, RateLimited), (45033, RateLimited), (-1, SystemBusy)]


@pytest.mark.parametrize("errcode", [code for code, _ in BUSY])
@pytest.mark.parametrize("failures", [2, "all retries"])
async def test_busy_answers_are_retried_until_the_call_succeeds(
    client: WeComClient, sandbox: Any, settings: Settings, fake_time: FakeTime,
    errcode: int, failures: int | str,
) -> None:
    count = settings.wecom.busy_retries if failures == "all retries" else int(failures)
    await sandbox.add_staff("zhangsan")
    await sandbox.fault(FOLLOW_LIST, errcode, count)

    assert await client.external_contact.get_follow_user_list() == ["zhangsan"]

    assert await errcodes(sandbox, FOLLOW_LIST) == [errcode] * count + [0]
    assert fake_time.sleeps == backoffs(settings, count)


@pytest.mark.parametrize(("errcode", "error"), BUSY)
async def test_busy_answers_beyond_the_retries_raise(
    client: WeComClient, sandbox: Any, settings: Settings, fake_time: FakeTime,
    errcode: int, error: type[WeComError],
) -> None:
    retries = settings.wecom.busy_retries
    await sandbox.fault(FOLLOW_LIST, errcode, retries + 2)

    with pytest.raises(error) as raised:
        await client.external_contact.get_follow_user_list()

    assert raised.value.errcode == errcode
    assert raised.value.api == FOLLOW_LIST
    assert await errcodes(sandbox, FOLLOW_LIST) == [errcode] * (retries + 1)
    assert fake_time.sleeps == backoffs(settings, retries)


@pytest.mark.parametrize(
    ("errcode", "error"),
    [
        (40096, InvalidExternalUserId),
        (84061, NoRelationship),
        (41050, WelcomeCodeInvalid),
        (41051, AlreadyChatted),
        (48002, WeComError),
    ],
)
async def test_other_errcodes_raise_at_once(
    client: WeComClient, sandbox: Any, fake_time: FakeTime,
    errcode: int, error: type[WeComError],
) -> None:
    await sandbox.fault(FOLLOW_LIST, errcode, 1)

    with pytest.raises(error) as raised:
        await client.external_contact.get_follow_user_list()

    assert type(raised.value) is error
    assert raised.value.errcode == errcode
    assert raised.value.errmsg
    assert await errcodes(sandbox, FOLLOW_LIST) == [errcode]
    assert fake_time.sleeps == []


async def test_unknown_customer_raises_invalid_external_userid(
    client: WeComClient, sandbox: Any
) -> None:
    with pytest.raises(InvalidExternalUserId) as raised:
        await client.external_contact.get("wmNoSuchCustomer000000000000001")

    assert raised.value.api == "externalcontact/get"
    assert await errcodes(sandbox, "externalcontact/get") == [40096]


def test_error_for_maps_errcodes_to_classes() -> None:
    assert type(error_for(42001, "expired", "x")) is TokenInvalid
    assert type(error_for(41096, "sending", "x")) is not WeComError
    assert type(error_for(40001, "invalid secret", "gettoken")) is WeComError


async def test_timeout_raises_unavailable(
    make_client: MakeClient, sandbox: Any
) -> None:
    client = make_client(request_timeout_seconds=0.1)
    await client.external_contact.get_follow_user_list()
    await sandbox.latency(FOLLOW_LIST, 0.5)

    with pytest.raises(WeComUnavailable) as raised:
        await client.external_contact.get_follow_user_list()

    assert raised.value.api == FOLLOW_LIST


async def test_connection_refused_raises_unavailable(make_client: MakeClient) -> None:
    client = make_client(api_base=f"http://127.0.0.1:{free_port()}")

    with pytest.raises(WeComUnavailable) as raised:
        await client.external_contact.get_follow_user_list()

    assert raised.value.api == "gettoken"


async def test_secrets_and_tokens_never_reach_messages_or_logs(
    make_client: MakeClient, sandbox: Any, settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client()
    secret = settings.wecom.contact_secret
    tokens = [await client.transport.tokens.get(secret)]
    messages = []

    await sandbox.fault(FOLLOW_LIST, 40014, 2)
    messages.append(await failure_text(client.external_contact.get_follow_user_list()))
    tokens.append(await client.transport.tokens.get(secret))
    await sandbox.fault(FOLLOW_LIST, 45009, settings.wecom.busy_retries + 1)
    messages.append(await failure_text(client.external_contact.get_follow_user_list()))
    messages.append(await failure_text(client.external_contact.get("wmNoSuchCustomer0000001")))
    await sandbox.latency(FOLLOW_LIST, 0.5)
    slow = make_client(request_timeout_seconds=0.1)
    messages.append(await failure_text(slow.external_contact.get_follow_user_list()))
    wrong = make_client(contact_secret="wrong-secret-0123456789")
    messages.append(await failure_text(wrong.external_contact.get_follow_user_list()))
    refused = make_client(api_base=f"http://127.0.0.1:{free_port()}")
    messages.append(await failure_text(refused.external_contact.get_follow_user_list()))

    # aiohttp.access is the sandbox's server log (WeCom's side of the wire), not ours.
    logged = [r.getMessage() for r in caplog.records if r.name != "aiohttp.access"]
    assert sum(1 for r in caplog.records if r.name == "bot.wecom") >= len(messages)
    for text in messages + logged:
        for value in (secret, "wrong-secret-0123456789", *tokens):
            assert value not in text
        assert not re.search(r"(access_token|corpsecret)=(?!\*\*\*)", text)


WELCOME = "externalcontact/send_welcome_msg"


@pytest.fixture
async def guide(sandbox: Any) -> str:
    return str((await sandbox.add_staff("zhangsan"))["userid"])


async def welcome_code(sandbox: Any, guide: str) -> str:
    """The WelcomeCode of the guide's newest customer."""
    eid = (await sandbox.add_customer())["external_userid"]
    return str((await sandbox.add_contact(guide, eid))["welcome_code"])


async def test_a_welcome_never_waits_behind_other_apis_limits(
    make_client: MakeClient, sandbox: Any, fake_time: FakeTime, guide: str
) -> None:
    client = make_client(rate_limits={FOLLOW_LIST: 1, "externalcontact/get": 1})
    await client.external_contact.get_follow_user_list()
    code = await welcome_code(sandbox, guide)

    await client.external_contact.send_welcome_msg(code, "hi")

    assert fake_time.sleeps == []
    assert await errcodes(sandbox, WELCOME) == [0]


async def test_a_welcome_over_its_own_limit_fails_at_once_instead_of_waiting(
    make_client: MakeClient, sandbox: Any, fake_time: FakeTime, guide: str
) -> None:
    client = make_client(rate_limits={WELCOME: 1})
    await client.external_contact.send_welcome_msg(await welcome_code(sandbox, guide), "hi")
    late = await welcome_code(sandbox, guide)

    # The next minute window opens in 50 s, after the code's 20 s.
    with pytest.raises(RateLimited) as raised:
        await client.external_contact.send_welcome_msg(late, "hi")

    assert (raised.value.errcode, raised.value.api) == (45009, WELCOME)
    assert fake_time.sleeps == []
    assert await errcodes(sandbox, WELCOME) == [0]


async def test_a_welcome_stops_busy_retries_at_the_codes_lifetime(
    make_client: MakeClient, sandbox: Any, fake_time: FakeTime, guide: str
) -> None:
    client = make_client(busy_backoff_seconds=4.0)
    await sandbox.fault(WELCOME, 45009, 5)

    with pytest.raises(RateLimited):
        await client.external_contact.send_welcome_msg(await welcome_code(sandbox, guide), "hi")

    # 4 + 8 s of backoff fit in the 20 s; the next 16 s would not.
    assert fake_time.sleeps == [4.0, 8.0]
    assert await errcodes(sandbox, WELCOME) == [45009] * 3
