"""Group pushes (企业群发) over real HTTP: a task per add_msg_template, the sandbox playing
the sender (confirm, auto policies), the monthly receive limit, reminders, cancelling,
and the documented errcodes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from tests.bot.sandbox.wecom_api import WeComApi
from tests.sandbox_fixtures import SandboxConsole, SandboxConsoleError

ADD = "externalcontact/add_msg_template"
TASK = "externalcontact/get_groupmsg_task"
RESULT = "externalcontact/get_groupmsg_send_result"
REMIND = "externalcontact/remind_groupmsg_send"
CANCEL = "externalcontact/cancel_groupmsg_send"
LINK = {"msgtype": "link", "link": {"title": "新品", "url": "https://example.com/new"}}
SHANGHAI = timezone(timedelta(hours=8))


@pytest.fixture
async def chats(sandbox: SandboxConsole) -> list[str]:
    await sandbox.add_staff("owner1")
    await sandbox.add_staff("owner2")
    return await sandbox.bulk_groups(["owner1"], 5)


@pytest.fixture
async def token(api: WeComApi, chats: list[str]) -> str:
    return await api.token()


async def push(api: WeComApi, token: str, chat_ids: list[str], sender: str = "owner1",
               **fields: Any) -> dict[str, Any]:
    answer = await api.post(ADD, token, {"chat_type": "group", "sender": sender,
                                         "chat_id_list": chat_ids,
                                         "text": {"content": "周一好"}, **fields})
    assert answer["errcode"] == 0, answer
    return answer


async def results(api: WeComApi, token: str, msgid: str,
                  userid: str = "owner1") -> list[dict[str, Any]]:
    answer = await api.post(RESULT, token, {"msgid": msgid, "userid": userid})
    assert answer["errcode"] == 0, answer
    return list(answer["send_list"])


async def test_a_push_waits_for_the_sender_then_every_group_has_it(
    api: WeComApi, sandbox: SandboxConsole, token: str, chats: list[str]
) -> None:
    [others] = await sandbox.bulk_groups(["owner2"], 1)
    await sandbox.group_event("dismiss", chat_id=chats[4])
    created = await push(api, token, [*chats, others, "wr" + "0" * 30, chats[0]],
                         attachments=[LINK])
    msgid = created["msgid"]
    assert created["fail_list"] == [chats[4], others, "wr" + "0" * 30]

    assert (await api.post(TASK, token, {"msgid": msgid}))["task_list"] == [
        {"userid": "owner1", "status": 0}]
    assert await results(api, token, msgid) == [
        {"chat_id": c, "userid": "owner1", "status": 0} for c in chats[:4]]
    assert await results(api, token, msgid, userid="owner2") == []

    task = await sandbox.confirm_group_push(msgid, "owner1")
    sent_at = task["send_time"]
    assert (task["status"], task["chat_ids"], task["text"], task["attachments"]) == (
        2, chats[:4], "周一好", [LINK])
    assert (await api.post(TASK, token, {"msgid": msgid}))["task_list"] == [
        {"userid": "owner1", "status": 2, "send_time": sent_at}]
    assert await results(api, token, msgid) == [
        {"chat_id": c, "userid": "owner1", "status": 1, "send_time": sent_at}
        for c in chats[:4]]
    [listed] = await sandbox.group_pushes(sender="owner1")
    assert listed == task and await sandbox.group_pushes(sender="owner2") == []
    with pytest.raises(SandboxConsoleError) as twice:
        await sandbox.confirm_group_push(msgid)
    assert twice.value.payload["error"] == "conflict"
    assert (await sandbox.state())["group_pushes"] == 1


@pytest.mark.parametrize(("fields", "errcode"), [
    ({"chat_type": "single", "external_userid": ["wmX"]}, 40058),
    ({"chat_type": None}, 40058),
    ({"sender": ""}, 40058),
    ({"sender": "ghost"}, 40003),
    ({"chat_id_list": []}, 40058),
    ({"chat_id_list": [f"wr{n:030d}" for n in range(2001)]}, 40058),
    ({"text": {"content": "字" * 1334}}, 40058),
    ({"text": None}, 44004),
    ({"attachments": [LINK] * 10}, 41064),
    ({"attachments": [{"msgtype": "voice", "voice": {"media_id": "m"}}]}, 41065),
    ({"attachments": [{"msgtype": "link", "link": {"url": "https://x"}}]}, 40058),
], ids=["single", "no-chat-type", "no-sender", "unknown-sender", "no-chats", "2001-chats",
        "text-4002-bytes", "no-content", "ten-attachments", "voice", "link-without-title"])
async def test_add_msg_template_refuses_bad_pushes(
    api: WeComApi, sandbox: SandboxConsole, token: str, chats: list[str],
    fields: dict[str, Any], errcode: int
) -> None:
    body = {"chat_type": "group", "sender": "owner1", "chat_id_list": chats[:1],
            "text": {"content": "x"}, **fields}
    assert (await api.post(ADD, token, body))["errcode"] == errcode
    assert await sandbox.group_pushes() == []


async def test_the_largest_push_is_accepted(
    api: WeComApi, token: str, chats: list[str]
) -> None:
    created = await push(api, token, chats, text={"content": "字" * 1333},
                         attachments=[LINK] * 9)
    assert created["fail_list"] == []


async def test_record_apis_check_the_msgid_and_page(
    api: WeComApi, sandbox: SandboxConsole, token: str, chats: list[str]
) -> None:
    msgid = (await push(api, token, chats))["msgid"]
    for name in (TASK, RESULT, REMIND, CANCEL):
        assert await api.post(name, token, {}) == {"errcode": 41046, "errmsg": "missing msgid"}
        assert (await api.post(name, token, {"msgid": "msgNOPE"}))["errcode"] == 41047
    assert (await api.post(TASK, token, {"msgid": msgid, "limit": 1001}))["errcode"] == 40058
    assert (await api.post(RESULT, token, {"msgid": msgid}))["errcode"] == 41009

    seen, cursor = [], ""
    for _ in range(3):
        page = await api.post(RESULT, token, {"msgid": msgid, "userid": "owner1", "limit": 2,
                                              "cursor": cursor})
        seen += [r["chat_id"] for r in page["send_list"]]
        cursor = page["next_cursor"]
    assert seen == chats and cursor == ""

    await sandbox.fault(TASK, 41063)
    assert (await api.post(TASK, token, {"msgid": msgid}))["errcode"] == 41063
    assert (await api.post(TASK, token, {"msgid": msgid}))["errcode"] == 0


async def test_three_reminders_fit_in_24_hours(
    api: WeComApi, sandbox: SandboxConsole, token: str, chats: list[str]
) -> None:
    msgid = (await push(api, token, chats))["msgid"]
    answers = [(await api.post(REMIND, token, {"msgid": msgid}))["errcode"] for _ in range(4)]
    assert answers == [0, 0, 0, 41094]
    await sandbox.advance_clock(24 * 3600 - 60)
    token = await api.token()  # the first one expired meanwhile
    assert (await api.post(REMIND, token, {"msgid": msgid}))["errcode"] == 41094
    await sandbox.advance_clock(61)
    assert (await api.post(REMIND, token, {"msgid": msgid}))["errcode"] == 0
    [task] = await sandbox.group_pushes()
    assert task["reminders"] == 4


async def test_a_cancelled_push_cannot_be_confirmed_or_reminded(
    api: WeComApi, sandbox: SandboxConsole, token: str, chats: list[str]
) -> None:
    msgid = (await push(api, token, chats))["msgid"]
    assert (await api.post(CANCEL, token, {"msgid": msgid}))["errcode"] == 0
    assert await api.post(CANCEL, token, {"msgid": msgid}) == {
        "errcode": 41093, "errmsg": "mass msg task already cancelled"}
    assert (await api.post(REMIND, token, {"msgid": msgid}))["errcode"] == 41093
    with pytest.raises(SandboxConsoleError) as refused:
        await sandbox.confirm_group_push(msgid)
    assert refused.value.payload["error"] == "conflict"
    [task] = await sandbox.group_pushes()
    assert task["cancelled"] is True and {c["status"] for c in task["chats"]} == {0}


async def test_policies_confirm_new_pushes_per_member_or_for_everyone(
    api: WeComApi, sandbox: SandboxConsole, token: str, chats: list[str]
) -> None:
    [owned_by_2] = await sandbox.bulk_groups(["owner2"], 1)
    policy = await sandbox.group_push_policy(auto="confirm", userid="owner2")
    assert (policy["default"], policy["staff"]) == ("ignore", {"owner2": "confirm"})
    waiting = (await push(api, token, chats[:1]))["msgid"]
    auto = (await push(api, token, [owned_by_2], sender="owner2"))["msgid"]
    assert (await api.post(TASK, token, {"msgid": waiting}))["task_list"][0]["status"] == 0
    assert (await api.post(TASK, token, {"msgid": auto}))["task_list"][0]["status"] == 2

    await sandbox.group_push_policy(auto="confirm")
    everyone = (await push(api, token, chats[1:2]))["msgid"]
    assert [r["status"] for r in await results(api, token, everyone)] == [1]
    await sandbox.group_push_policy(auto="ignore", userid="owner1")
    ignored = (await push(api, token, chats[1:2]))["msgid"]
    assert [r["status"] for r in await results(api, token, ignored)] == [0]
    with pytest.raises(SandboxConsoleError):
        await sandbox.group_push_policy(auto="sometimes")
    with pytest.raises(SandboxConsoleError) as unknown:
        await sandbox.group_push_policy(auto="confirm", userid="ghost")
    assert unknown.value.status == 404


async def test_a_group_over_its_monthly_limit_gets_status_3(
    api: WeComApi, sandbox: SandboxConsole, token: str, chats: list[str]
) -> None:
    now = datetime.fromtimestamp((await sandbox.state())["clock"]["now"], SHANGHAI)
    next_month = (now.replace(day=28) + timedelta(days=4)).replace(day=1)
    policy = await sandbox.group_push_policy(auto="confirm")
    assert policy["receive_limit"] is None
    assert policy["receive_limit_now"] == ((next_month - timedelta(days=1)).day)

    assert (await sandbox.group_push_policy(receive_limit=2))["receive_limit_now"] == 2
    statuses = []
    for chat_ids in ([chats[0]], [chats[0], chats[1]], [chats[0], chats[1]]):
        msgid = (await push(api, token, chat_ids))["msgid"]
        statuses.append([r["status"] for r in await results(api, token, msgid)])
    assert statuses == [[1], [1, 1], [3, 1]]
    over = await results(api, token, msgid)
    assert "send_time" not in over[0] and over[1]["send_time"] > 0

    await sandbox.advance_clock((next_month - now).total_seconds() + 60)
    token = await api.token()
    msgid = (await push(api, token, [chats[0]]))["msgid"]
    assert [r["status"] for r in await results(api, token, msgid)] == [1]
    assert (await sandbox.group_push_policy(receive_limit=0))["receive_limit"] is None
