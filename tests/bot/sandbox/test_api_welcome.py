"""send_welcome_msg over real HTTP: the code's 20 s and single use by the sandbox clock,
the relation's own history, the message checks, injected 41096, and the record of what
the customer received."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bot.sandbox.wecom_api import WeComApi
from tests.sandbox_fixtures import SandboxConsole

SEND = "externalcontact/send_welcome_msg"
ATTACHMENTS = [
    {"msgtype": "image", "image": {"pic_url": "http://p.qpic.cn/pic_wework/1/0"}},
    {"msgtype": "link", "link": {"title": "会员中心", "url": "https://example.com/m",
                                 "desc": "积分"}},
    {"msgtype": "miniprogram", "miniprogram": {"title": "安心码", "pic_media_id": "MEDIA",
                                               "appid": "wx8bd80126147dfAAA",
                                               "page": "/pages/index"}},
    {"msgtype": "video", "video": {"media_id": "MEDIA_V"}},
    {"msgtype": "file", "file": {"media_id": "MEDIA_F"}},
]


@pytest.fixture
async def token(api: WeComApi, sandbox: SandboxConsole) -> str:
    await sandbox.add_staff("zhangsan")
    return await api.token()


async def new_contact(sandbox: SandboxConsole, **add: Any) -> tuple[str, str]:
    """A new customer of zhangsan's and the add's WelcomeCode."""
    eid = (await sandbox.add_customer("李四"))["external_userid"]
    return eid, (await sandbox.add_contact("zhangsan", eid, **add))["welcome_code"]


async def send(api: WeComApi, token: str, code: str, **body: Any) -> int:
    return int((await api.post(SEND, token, {"welcome_code": code, **body}))["errcode"])


async def test_welcome_is_delivered_once_and_recorded(
    api: WeComApi, sandbox: SandboxConsole, token: str
) -> None:
    eid, code = await new_contact(sandbox)
    before = await sandbox.advance_clock(0)

    assert await api.post(SEND, token, {"welcome_code": code, "text": {"content": "欢迎"},
                                        "attachments": ATTACHMENTS}) == {
        "errcode": 0, "errmsg": "ok"}

    [sent] = await sandbox.welcome_messages()
    assert {k: v for k, v in sent.items() if k != "at"} == {
        "userid": "zhangsan", "external_userid": eid, "welcome_code": code, "text": "欢迎",
        "attachments": ATTACHMENTS}
    assert before <= sent["at"] <= await sandbox.advance_clock(0)
    assert await send(api, token, code, text={"content": "again"}) == 41051
    assert await sandbox.welcome_messages(eid) == [sent]
    assert await sandbox.welcome_messages("wmSomeoneElse") == []


async def test_the_code_expires_after_twenty_seconds_by_the_sandbox_clock(
    api: WeComApi, sandbox: SandboxConsole, token: str
) -> None:
    _, young = await new_contact(sandbox)
    _, old = await new_contact(sandbox)
    await sandbox.advance_clock(19)
    assert await send(api, token, young, text={"content": "hi"}) == 0
    await sandbox.advance_clock(1)
    assert await send(api, token, old, text={"content": "hi"}) == 41050
    assert await send(api, token, "never-issued", text={"content": "hi"}) == 41050
    assert await send(api, token, "", text={"content": "hi"}) == 41049
    assert len(await sandbox.welcome_messages()) == 1


async def test_no_welcome_after_the_pair_chatted(
    api: WeComApi, sandbox: SandboxConsole, token: str
) -> None:
    eid, code = await new_contact(sandbox)
    await sandbox.chat("zhangsan", eid)
    assert await send(api, token, code, text={"content": "hi"}) == 41051


async def test_a_welcome_sent_on_the_half_add_ends_the_welcomes(
    api: WeComApi, sandbox: SandboxConsole, token: str
) -> None:
    eid, half_code = await new_contact(sandbox, half=True)
    assert await send(api, token, half_code, text={"content": "hi"}) == 0
    confirmed = await sandbox.add_contact("zhangsan", eid)
    assert confirmed["welcome_code"] == ""
    assert "WelcomeCode" not in confirmed["delivery"]["xml"]


async def test_a_console_welcome_or_a_chat_means_no_welcome_code(
    sandbox: SandboxConsole, token: str
) -> None:
    await sandbox.add_staff("greeter", console_welcome=True)
    eid = (await sandbox.add_customer())["external_userid"]
    assert (await sandbox.add_contact("greeter", eid))["welcome_code"] == ""
    _, code = await new_contact(sandbox, welcome_code=False)
    assert code == ""


@pytest.mark.parametrize(("body", "errcode"), [
    ({"attachments": ATTACHMENTS * 2}, 41064),
    ({"attachments": [{"msgtype": "voice", "voice": {"media_id": "M"}}]}, 41065),
    ({"attachments": [{"msgtype": "link", "link": {"title": "t"}}]}, 40058),
    ({"attachments": [{"msgtype": "link", "link": {"title": "t" * 129, "url": "u"}}]}, 40058),
    ({"attachments": [{"msgtype": "image", "image": {}}]}, 40058),
    ({"attachments": [{"msgtype": "miniprogram", "miniprogram": {"title": "t"}}]}, 40058),
    ({"attachments": [{"msgtype": "file", "file": {}}]}, 40058),
    ({"attachments": ["image"]}, 40058),
    ({"text": {"content": "欢" * 1334}}, 45002),
    ({"text": {"content": ""}}, 44004),
    ({}, 44004),
], ids=["ten-attachments", "voice", "link-without-url", "long-link-title", "empty-image",
        "bare-miniprogram", "file-without-media", "attachment-not-object", "text-over-4000-bytes",
        "empty-text", "nothing"])
async def test_refused_messages_leave_the_code_usable(
    api: WeComApi, sandbox: SandboxConsole, token: str, body: dict[str, Any], errcode: int
) -> None:
    _, code = await new_contact(sandbox)
    assert await send(api, token, code, **body) == errcode
    assert await sandbox.welcome_messages() == []
    assert await send(api, token, code, text={"content": "欢" * 1333}) == 0


async def test_injected_41096_then_the_code_still_works(
    api: WeComApi, sandbox: SandboxConsole, token: str
) -> None:
    _, code = await new_contact(sandbox)
    await sandbox.fault(SEND, 41096, count=2)
    assert await api.post(SEND, token, {"welcome_code": code, "text": {"content": "hi"}}) == {
        "errcode": 41096, "errmsg": "welcome msg is being sent by another app"}
    assert await send(api, token, code, text={"content": "hi"}) == 41096
    assert await send(api, token, code, text={"content": "hi"}) == 0
    assert [c["errcode"] for c in (await sandbox.calls(SEND))["calls"]] == [41096, 41096, 0]
    assert len(await sandbox.welcome_messages()) == 1
