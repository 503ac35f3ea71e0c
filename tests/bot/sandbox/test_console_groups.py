"""The group console: members that are customers, both MemChangeList encodings, lost
callbacks (`fire: false`), bulk groups, and customers joining through a group QR code
(capacity, auto-created groups) with the callbacks WeCom fires."""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest

from bot.events import ExternalChatChange, parse_event
from tests.bot.sandbox.callback_receiver import CallbackReceiver, open_callback
from tests.bot.sandbox.wecom_api import WeComApi
from tests.sandbox_fixtures import SandboxConsole, SandboxConsoleError

ADD_WAY = "externalcontact/groupchat/add_join_way"
GET_WAY = "externalcontact/groupchat/get_join_way"
GET_CHAT = "externalcontact/groupchat/get"
LIST = "externalcontact/groupchat/list"


def chat_event(receiver: CallbackReceiver, index: int = -1) -> ExternalChatChange:
    event = parse_event(open_callback(receiver, receiver.requests[index]))
    assert isinstance(event, ExternalChatChange)
    return event


@pytest.fixture
async def chat(sandbox: SandboxConsole) -> dict[str, Any]:
    await sandbox.add_staff("owner1", "店长")
    await sandbox.add_staff("helper")
    return dict((await sandbox.group_event("create", owner="owner1", name="群"))["chat"])


@pytest.mark.parametrize("encoding", ["items", "csv"])
async def test_mem_change_list_in_either_encoding(
    sandbox: SandboxConsole, receiver: CallbackReceiver, chat: dict[str, Any], encoding: str
) -> None:
    customer = await sandbox.add_customer("老王", unionid="ozWANG")
    joined = await sandbox.group_event(
        "update", chat_id=chat["chat_id"], update_detail="add_member", mem_change_list=encoding,
        members=["helper", customer["external_userid"]], join_scene=3, state="poster1")

    xml = open_callback(receiver, receiver.requests[-1])
    ids = ["helper", customer["external_userid"]]
    if encoding == "csv":
        assert f"<MemChangeList><![CDATA[{','.join(ids)}]]></MemChangeList>" in xml
    else:
        assert "<MemChangeList><Item><![CDATA[helper]]></Item>" in xml
    event = chat_event(receiver)
    assert (event.update_detail, event.join_scene, event.mem_change_cnt,
            event.mem_change_list) == ("add_member", 3, 2, ids)
    assert (event.last_mem_ver, event.cur_mem_ver) == (chat["member_version"],
                                                       joined["chat"]["member_version"])
    records = {m["userid"]: m for m in joined["chat"]["member_list"]}
    assert (records["helper"]["type"], records[customer["external_userid"]]["type"]) == (1, 2)
    assert records[customer["external_userid"]]["unionid"] == "ozWANG"
    assert {m["state"] for m in records.values() if m["userid"] in ids} == {"poster1"}


async def test_invited_members_name_the_inviter(
    sandbox: SandboxConsole, chat: dict[str, Any]
) -> None:
    eid = (await sandbox.add_customer("客"))["external_userid"]
    joined = await sandbox.group_event("update", chat_id=chat["chat_id"],
                                       update_detail="add_member", members=[eid])
    direct = await sandbox.group_event("update", chat_id=chat["chat_id"], invitor="helper",
                                       update_detail="add_member", members=["wmOTHER001"],
                                       join_scene=2)
    [_, by_owner] = joined["chat"]["member_list"]
    by_helper = direct["chat"]["member_list"][-1]
    assert (by_owner["join_scene"], by_owner["invitor"]) == (1, "owner1")
    assert (by_helper["join_scene"], by_helper["invitor"]) == (2, "helper")


async def test_fire_false_loses_the_callback_but_changes_the_group(
    sandbox: SandboxConsole, receiver: CallbackReceiver, chat: dict[str, Any]
) -> None:
    lost = await sandbox.group_event("update", chat_id=chat["chat_id"], fire=False,
                                     update_detail="add_member", members=["wmLOST00001"])
    assert lost["delivery"] is None and "wmLOST00001" in lost["chat"]["members"]
    seen = len(receiver.requests)
    await sandbox.group_event("update", chat_id=chat["chat_id"], update_detail="del_member",
                              members=["wmLOST00001"])
    assert len(receiver.requests) == seen + 1
    event = chat_event(receiver)
    # The backend last saw the version from the create; the event starts from another.
    assert event.last_mem_ver == lost["chat"]["member_version"] != chat["member_version"]
    assert [d["summary"] for d in await sandbox.deliveries()][-1].endswith("del_member")


async def test_dismissed_groups_cannot_change_and_leave_the_state_counts(
    sandbox: SandboxConsole, chat: dict[str, Any]
) -> None:
    dismissed = await sandbox.group_event("dismiss", chat_id=chat["chat_id"])
    assert dismissed["chat"]["dismissed"] is True
    with pytest.raises(SandboxConsoleError) as refused:
        await sandbox.group_event("update", chat_id=chat["chat_id"],
                                  update_detail="change_name", name="x")
    assert refused.value.status == 404 and "dismissed" in refused.value.payload["detail"]
    state = await sandbox.state()
    assert (state["group_chats"], state["dismissed_group_chats"]) == (0, 1)


async def test_bulk_creates_ten_thousand_groups_fast_without_callbacks(
    api: WeComApi, sandbox: SandboxConsole, receiver: CallbackReceiver
) -> None:
    seeded = await sandbox.seed(staff=500, customers_per_staff=0)
    owners = list(seeded["follows"])
    started = time.monotonic()
    chat_ids = await sandbox.bulk_groups(owners, 20)
    elapsed = time.monotonic() - started
    assert len(set(chat_ids)) == 10_000 and elapsed < 10
    assert receiver.requests == []
    token = await api.token()
    listed = await api.post(LIST, token, {"owner_filter": {"userid_list": owners[:1]},
                                          "limit": 1000})
    assert [c["chat_id"] for c in listed["group_chat_list"]] == chat_ids[::500]
    assert (await sandbox.state())["group_chats"] == 10_000


async def test_bulk_groups_may_hold_customers_and_refuse_unknown_owners(
    api: WeComApi, sandbox: SandboxConsole
) -> None:
    await sandbox.add_staff("owner1")
    [chat_id] = await sandbox.bulk_groups(["owner1"], 1, customers_per_group=3,
                                          name_prefix="门店群")
    got = (await api.post(GET_CHAT, await api.token(), {"chat_id": chat_id, "need_name": 1}))
    group = got["group_chat"]
    assert group["name"] == "门店群owner1-1"
    assert [m["type"] for m in group["member_list"]] == [1, 2, 2, 2]
    assert all(m["unionid"] and m["invitor"] == {"userid": "owner1"}
               for m in group["member_list"][1:])
    with pytest.raises(SandboxConsoleError) as refused:
        await sandbox.bulk_groups(["owner1", "ghost"], 1)
    assert refused.value.status == 404 and "ghost" in refused.value.payload["detail"]


# -- joining through a group QR code --

@pytest.fixture
async def token(api: WeComApi, chat: dict[str, Any]) -> str:
    return await api.token()


async def join_way(api: WeComApi, token: str, chat_ids: list[str], **fields: Any) -> str:
    answer = await api.post(ADD_WAY, token, {"scene": 2, "chat_id_list": chat_ids,
                                             "state": "qr-spring", **fields})
    assert answer["errcode"] == 0, answer
    return str(answer["config_id"])


async def test_a_customer_joins_the_first_group_with_room(
    api: WeComApi, sandbox: SandboxConsole, receiver: CallbackReceiver,
    chat: dict[str, Any], token: str
) -> None:
    second = (await sandbox.group_event("create", owner="owner1", name="二群"))["chat"]
    await sandbox.group_event("update", chat_id=chat["chat_id"], update_detail="add_member",
                              members=["helper"])
    config_id = await join_way(api, token, [chat["chat_id"], second["chat_id"]])

    answer = await sandbox.join_group(config_id, name="新客", unionid="ozNEW", capacity=2)
    assert answer["chat"]["chat_id"] == second["chat_id"] and answer["create_delivery"] is None
    event = chat_event(receiver)
    eid = event.mem_change_list[0]
    assert (event.chat_id, event.update_detail, event.join_scene) == (
        second["chat_id"], "add_member", 3)
    got = await api.post(GET_CHAT, token, {"chat_id": second["chat_id"]})
    member = got["group_chat"]["member_list"][-1]
    assert member == {"userid": eid, "type": 2, "join_time": member["join_time"],
                      "join_scene": 3, "state": "qr-spring", "unionid": "ozNEW",
                      "group_nickname": ""}
    with pytest.raises(SandboxConsoleError) as again:
        await sandbox.join_group(config_id, external_userid=eid)
    assert again.value.payload["error"] == "conflict"


async def test_full_groups_make_wecom_open_a_new_one(
    api: WeComApi, sandbox: SandboxConsole, receiver: CallbackReceiver,
    chat: dict[str, Any], token: str
) -> None:
    config_id = await join_way(api, token, [chat["chat_id"]], room_base_name="春季群",
                               room_base_id=7)
    first = await sandbox.join_group(config_id, name="客一", capacity=2)
    assert first["chat"]["chat_id"] == chat["chat_id"]

    second = await sandbox.join_group(config_id, name="客二", capacity=2,
                                      mem_change_list="csv")
    third = await sandbox.join_group(config_id, name="客三", capacity=2)
    new_chat = second["chat"]
    assert (new_chat["name"], new_chat["owner"]) == ("春季群7", "owner1")
    assert new_chat["members"][0] == "owner1" and len(new_chat["members"]) == 2
    assert second["create_delivery"]["summary"] == (
        f"change_external_chat/create ChatId={new_chat['chat_id']}")
    assert third["chat"]["name"] == "春季群8"
    created, joined = chat_event(receiver, -4), chat_event(receiver, -3)
    assert (created.change_type, created.chat_id) == ("create", new_chat["chat_id"])
    assert (joined.update_detail, joined.join_scene, joined.mem_change_list) == (
        "add_member", 3, [new_chat["members"][1]])
    way = (await api.post(GET_WAY, token, {"config_id": config_id}))["join_way"]
    assert way["chat_id_list"] == [chat["chat_id"], new_chat["chat_id"],
                                   third["chat"]["chat_id"]]
    assert way["room_base_id"] == 9


async def test_a_full_way_without_auto_create_refuses_and_fire_false_is_silent(
    api: WeComApi, sandbox: SandboxConsole, receiver: CallbackReceiver,
    chat: dict[str, Any], token: str
) -> None:
    config_id = await join_way(api, token, [chat["chat_id"]], auto_create_room=0)
    customers = (await sandbox.state())["customers"]
    with pytest.raises(SandboxConsoleError) as full:
        await sandbox.join_group(config_id, name="客", capacity=1)
    assert full.value.payload["error"] == "conflict"
    assert (await sandbox.state())["customers"] == customers
    seen = len(receiver.requests)
    quiet = await sandbox.join_group(config_id, name="客", fire=False)
    assert quiet["delivery"] is None and len(receiver.requests) == seen
    assert len(quiet["chat"]["members"]) == 2
    with pytest.raises(SandboxConsoleError) as unknown:
        await sandbox.join_group("0" * 32, name="客")
    assert unknown.value.status == 404


async def test_the_join_page_shows_the_way_and_its_form_joins(
    api: WeComApi, sandbox: SandboxConsole, receiver: CallbackReceiver,
    chat: dict[str, Any], token: str
) -> None:
    config_id = await join_way(api, token, [chat["chat_id"]], remark="春<季>")
    way = (await api.post(GET_WAY, token, {"config_id": config_id}))["join_way"]
    assert way["qr_code"] == f"{sandbox.url}/sandbox/join/{config_id}"
    html = await sandbox.join_page(config_id)
    assert "春&lt;季&gt;" in html and "qr-spring" in html and chat["chat_id"] in html
    assert 'action="/sandbox/groups/join"' in html and f'value="{config_id}"' in html
    async with aiohttp.ClientSession() as session, session.post(
            f"{sandbox.url}/sandbox/groups/join",
            data={"config_id": config_id, "name": "表单客户"}) as response:
        assert response.status == 200 and response.content_type == "text/html"
        joined = await response.text()
    event = chat_event(receiver)
    assert event.mem_change_list[0] in joined and "delivered" in joined
