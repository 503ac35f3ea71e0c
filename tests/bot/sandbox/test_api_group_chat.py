"""Customer groups over real HTTP: groupchat/list paged by owner and groupchat/get with
its members as WeCom documents them, and the errcodes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bot.sandbox.wecom_api import WeComApi
from tests.sandbox_fixtures import SandboxConsole

LIST = "externalcontact/groupchat/list"
GET = "externalcontact/groupchat/get"


@pytest.fixture
async def token(api: WeComApi, sandbox: SandboxConsole) -> str:
    for userid, name in (("owner1", "店长一"), ("owner2", "店长二"), ("helper", "助理")):
        await sandbox.add_staff(userid, name)
    return await api.token()


async def chat_ids(api: WeComApi, token: str, **body: Any) -> list[str]:
    answer = await api.post(LIST, token, body)
    assert answer["errcode"] == 0, answer
    return [c["chat_id"] for c in answer["group_chat_list"]]


async def test_list_pages_by_owner_and_leaves_dismissed_groups_out(
    api: WeComApi, sandbox: SandboxConsole, token: str
) -> None:
    first = await sandbox.bulk_groups(["owner1"], 3)
    second = await sandbox.bulk_groups(["owner2"], 2)
    await sandbox.group_event("dismiss", chat_id=first[1])

    page1 = await api.post(LIST, token, {"owner_filter": {"userid_list": ["owner1", "owner2"]},
                                         "limit": 2})
    assert page1["group_chat_list"] == [{"chat_id": first[0], "status": 0},
                                        {"chat_id": first[2], "status": 0}]
    page2 = await api.post(LIST, token, {"owner_filter": {"userid_list": ["owner1", "owner2"]},
                                         "limit": 2, "cursor": page1["next_cursor"]})
    assert [c["chat_id"] for c in page2["group_chat_list"]] == second
    assert page2["next_cursor"] == ""
    assert await chat_ids(api, token, owner_filter={"userid_list": ["owner2"]},
                          limit=1000) == second
    assert await chat_ids(api, token, limit=10) == [first[0], first[2], *second]
    assert await chat_ids(api, token, limit=10, status_filter=1) == []
    assert await chat_ids(api, token, limit=10,
                          owner_filter={"userid_list": ["nobody"]}) == []


@pytest.mark.parametrize("body", [
    {},
    {"limit": 0},
    {"limit": 1001},
    {"limit": "10"},
    {"limit": 10, "status_filter": 4},
    {"limit": 10, "owner_filter": {"userid_list": [f"u{n}" for n in range(101)]}},
    {"limit": 10, "owner_filter": {"userid_list": "owner1"}},
    {"limit": 10, "cursor": "not-a-cursor"},
], ids=["no-limit", "limit-0", "limit-1001", "limit-string", "bad-status", "101-owners",
        "owners-not-a-list", "foreign-cursor"])
async def test_list_refuses_bad_parameters(
    api: WeComApi, token: str, body: dict[str, Any]
) -> None:
    assert await api.post(LIST, token, body) == {"errcode": 40058,
                                                 "errmsg": "invalid parameter"}


async def test_list_without_owners_needs_at_most_1000_staff(
    api: WeComApi, sandbox: SandboxConsole, token: str
) -> None:
    await sandbox.seed(staff=998, customers_per_staff=0)
    assert (await api.post(LIST, token, {"limit": 10}))["errcode"] == 81017
    answer = await api.post(LIST, token, {"limit": 10, "owner_filter": {"userid_list": ["x"]}})
    assert answer["errcode"] == 0


async def test_get_answers_members_admins_and_version_as_documented(
    api: WeComApi, sandbox: SandboxConsole, token: str
) -> None:
    known = await sandbox.add_customer("王语嫣", unionid="ozUNION1")
    wecom_user = await sandbox.add_customer("企业客户", type=2)
    created = await sandbox.group_event("create", owner="owner1", name="销售客服群",
                                        members=["helper", known["external_userid"]],
                                        admins=["helper"])
    chat = created["chat"]
    joined = await sandbox.group_event(
        "update", chat_id=chat["chat_id"], update_detail="add_member",
        members=[wecom_user["external_userid"], "wmUNKNOWN01"], join_scene=3, state="s42")
    await sandbox.group_event("update", chat_id=chat["chat_id"],
                              update_detail="change_notice", notice="文明沟通")
    t0, t1 = chat["create_time"], joined["chat"]["member_list"][-1]["join_time"]

    answer = await api.post(GET, token, {"chat_id": chat["chat_id"], "need_name": 1})
    assert answer["group_chat"] == {
        "chat_id": chat["chat_id"], "name": "销售客服群", "owner": "owner1",
        "create_time": t0, "notice": "文明沟通",
        "member_list": [
            {"userid": "owner1", "type": 1, "join_time": t0, "join_scene": 1,
             "group_nickname": "", "name": "店长一"},
            {"userid": "helper", "type": 1, "join_time": t0, "join_scene": 1,
             "invitor": {"userid": "owner1"}, "group_nickname": "", "name": "助理"},
            {"userid": known["external_userid"], "type": 2, "join_time": t0, "join_scene": 1,
             "unionid": "ozUNION1", "invitor": {"userid": "owner1"}, "group_nickname": "",
             "name": "王语嫣"},
            {"userid": wecom_user["external_userid"], "type": 2, "join_time": t1,
             "join_scene": 3, "state": "s42", "group_nickname": "", "name": "企业客户"},
            {"userid": "wmUNKNOWN01", "type": 2, "join_time": t1, "join_scene": 3,
             "state": "s42", "group_nickname": "", "name": ""},
        ],
        "admin_list": [{"userid": "helper"}],
        "member_version": joined["chat"]["member_version"],
    }
    without_names = await api.post(GET, token, {"chat_id": chat["chat_id"]})
    assert all("name" not in m for m in without_names["group_chat"]["member_list"])


async def test_get_refuses_unknown_and_dismissed_groups(
    api: WeComApi, sandbox: SandboxConsole, token: str
) -> None:
    [chat_id] = await sandbox.bulk_groups(["owner1"], 1)
    assert (await api.post(GET, token, {"chat_id": chat_id}))["errcode"] == 0
    await sandbox.group_event("dismiss", chat_id=chat_id)
    assert await api.post(GET, token, {"chat_id": chat_id}) == {
        "errcode": 90501, "errmsg": "not a customer group chat"}
    assert (await api.post(GET, token, {"chat_id": "wr" + "0" * 30}))["errcode"] == 90501
    assert (await api.post(GET, token, {}))["errcode"] == 40058
