"""「加入群聊」 join ways over real HTTP: create, read, overwrite and delete with the
documented errcodes, and the quota they share with 「联系我」 contact ways."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.bot.sandbox.wecom_api import WeComApi
from tests.sandbox_fixtures import SandboxConsole

ADD = "externalcontact/groupchat/add_join_way"
GET = "externalcontact/groupchat/get_join_way"
UPDATE = "externalcontact/groupchat/update_join_way"
DELETE = "externalcontact/groupchat/del_join_way"


@pytest.fixture
async def chats(sandbox: SandboxConsole) -> list[str]:
    await sandbox.add_staff("owner1")
    return await sandbox.bulk_groups(["owner1"], 6)


@pytest.fixture
async def token(api: WeComApi, chats: list[str]) -> str:
    return await api.token()


async def add(api: WeComApi, token: str, **fields: Any) -> str:
    answer = await api.post(ADD, token, {"scene": 2, **fields})
    assert answer["errcode"] == 0, answer
    return str(answer["config_id"])


async def get(api: WeComApi, token: str, config_id: str) -> dict[str, Any]:
    answer = await api.post(GET, token, {"config_id": config_id})
    assert answer["errcode"] == 0, answer
    return dict(answer["join_way"])


async def test_create_read_overwrite_and_delete(
    api: WeComApi, sandbox: SandboxConsole, token: str, chats: list[str]
) -> None:
    config_id = await add(api, token, chat_id_list=chats[:2], state="klsdup3kj3s1",
                          remark="备" * 31, room_base_name="销售客服群", room_base_id=10,
                          auto_create_room=1, mark_source=False)
    assert re.fullmatch(r"[0-9a-f]{32}", config_id)
    assert await get(api, token, config_id) == {
        "config_id": config_id, "scene": 2, "remark": "备" * 30, "auto_create_room": 1,
        "room_base_name": "销售客服群", "room_base_id": 10, "chat_id_list": chats[:2],
        "state": "klsdup3kj3s1", "mark_source": False,
        "qr_code": f"{sandbox.url}/sandbox/join/{config_id}",
    }

    answer = await api.post(UPDATE, token, {"config_id": config_id, "scene": 2,
                                            "chat_id_list": [chats[2]], "state": "s2"})
    assert answer["errcode"] == 0
    way = await get(api, token, config_id)
    assert (way["chat_id_list"], way["state"], way["remark"], way["room_base_name"],
            way["room_base_id"], way["auto_create_room"], way["mark_source"]) == (
        [chats[2]], "s2", "", "", 1, 1, True)

    assert (await api.post(DELETE, token, {"config_id": config_id}))["errcode"] == 0
    assert await api.post(GET, token, {"config_id": config_id}) == {
        "errcode": 41044, "errmsg": "invalid config_id"}
    assert (await api.post(DELETE, token, {"config_id": config_id}))["errcode"] == 41044
    for name in (GET, UPDATE, DELETE):
        assert (await api.post(name, token, {}))["errcode"] == 41043


async def test_mini_program_ways_have_no_qr_code(
    api: WeComApi, token: str, chats: list[str]
) -> None:
    way = await get(api, token, await add(api, token, scene=1, chat_id_list=chats[:1]))
    assert (way["scene"], "qr_code" in way) == (1, False)


@pytest.mark.parametrize(("fields", "errcode"), [
    ({"chat_id_list": "CHATS6"}, 41091),
    ({"chat_id_list": []}, 40058),
    ({}, 40058),
    ({"chat_id_list": ["wr" + "0" * 30]}, 40058),
    ({"chat_id_list": "DISMISSED"}, 40058),
    ({"chat_id_list": "CHATS1", "state": "s" * 31}, 40058),
    ({"chat_id_list": "CHATS1", "room_base_name": "群" * 41}, 40058),
    ({"chat_id_list": "CHATS1", "scene": 3}, 40058),
    ({"chat_id_list": "CHATS1", "scene": None}, 40058),
    ({"chat_id_list": "CHATS1", "auto_create_room": 2}, 40058),
    ({"chat_id_list": "CHATS1", "room_base_id": -1}, 40058),
], ids=["six-groups", "no-groups", "groups-absent", "unknown-group", "dismissed-group",
        "long-state", "long-base-name", "bad-scene", "no-scene", "bad-auto-create",
        "negative-base-id"])
async def test_add_and_update_refuse_bad_ways(
    api: WeComApi, sandbox: SandboxConsole, token: str, chats: list[str],
    fields: dict[str, Any], errcode: int
) -> None:
    await sandbox.group_event("dismiss", chat_id=chats[5])
    named = {"CHATS6": chats, "CHATS1": chats[:1], "DISMISSED": [chats[0], chats[5]]}
    body = {"scene": 2, **fields}
    body["chat_id_list"] = named.get(str(body.get("chat_id_list")), body.get("chat_id_list"))
    assert (await api.post(ADD, token, body))["errcode"] == errcode
    config_id = await add(api, token, chat_id_list=chats[:1], state="kept")
    assert (await api.post(UPDATE, token, {**body, "config_id": config_id}))["errcode"] == errcode
    assert (await get(api, token, config_id))["state"] == "kept"


async def test_join_ways_and_contact_ways_are_counted_in_the_state(
    api: WeComApi, sandbox: SandboxConsole, token: str, chats: list[str]
) -> None:
    await add(api, token, chat_id_list=chats[:1])
    await add(api, token, chat_id_list=chats[1:3])
    state = await sandbox.state()
    assert (state["join_ways"], state["contact_ways"], state["group_chats"]) == (2, 0, 6)
