"""externalcontact/get, get_follow_user_list and batch/get_by_user over real HTTP, on
state the console set up."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bot.sandbox.wecom_api import WeComApi
from tests.sandbox_fixtures import SandboxConsole

GET = "externalcontact/get"
FOLLOW_LIST = "externalcontact/get_follow_user_list"
BATCH = "externalcontact/batch/get_by_user"


@pytest.fixture
async def token(api: WeComApi) -> str:
    return await api.token()


async def test_get_answers_contact_and_follow_user_as_documented(
    api: WeComApi, sandbox: SandboxConsole, token: str
) -> None:
    await sandbox.add_staff("zhangsan", "张三")
    customer = await sandbox.add_customer("李四", avatar="http://a/1.png", gender=1,
                                          unionid="ounion1")
    group = await sandbox.tag_event("create", tag_type="tag_group", name="客户等级",
                                    tags=["VIP", "普通"])
    vip = group["tag_ids"][0]
    eid = customer["external_userid"]
    added = await sandbox.add_contact("zhangsan", eid, state="shop42")
    await sandbox.edit_contact("zhangsan", eid, remark="李四-门店", description="老客户",
                               remark_corp_name="某公司", remark_mobiles=["13800000000"],
                               add_tag=[vip])
    answer = await api.get(GET, token, external_userid=eid)
    assert answer == {
        "errcode": 0, "errmsg": "ok",
        "external_contact": {"external_userid": eid, "name": "李四", "avatar": "http://a/1.png",
                             "type": 1, "gender": 1, "unionid": "ounion1"},
        "follow_user": [{
            "userid": "zhangsan", "remark": "李四-门店", "description": "老客户",
            "createtime": added["relation"]["createtime"], "remark_corp_name": "某公司",
            "remark_mobiles": ["13800000000"], "oper_userid": eid, "add_way": 1,
            "state": "shop42",
            "tags": [{"group_name": "客户等级", "tag_name": "VIP", "tag_id": vip, "type": 1}],
        }],
        "next_cursor": "",
    }


async def test_wecom_user_customer_has_corp_fields_and_no_unionid(
    api: WeComApi, sandbox: SandboxConsole, token: str
) -> None:
    await sandbox.add_staff("zhangsan")
    customer = await sandbox.add_customer("王五", type=2, corp_name="腾讯",
                                          corp_full_name="腾讯科技", position="经理",
                                          unionid="ignored")
    assert customer["external_userid"].startswith("wo")
    await sandbox.add_contact("zhangsan", customer["external_userid"])
    contact = (await api.get(GET, token,
                             external_userid=customer["external_userid"]))["external_contact"]
    assert "unionid" not in contact
    assert (contact["type"], contact["corp_name"], contact["corp_full_name"],
            contact["position"]) == (2, "腾讯", "腾讯科技", "经理")


async def test_malformed_unknown_or_missing_external_userid(
    api: WeComApi, token: str
) -> None:
    assert await api.get(GET, token, external_userid="xx0000") == {
        "errcode": 40096, "errmsg": "invalid external userid"}
    assert (await api.get(GET, token, external_userid="wm" + "0" * 30))["errcode"] == 40096
    assert (await api.get(GET, token))["errcode"] == 41035


async def relation_pair(sandbox: SandboxConsole) -> tuple[str, str]:
    await sandbox.add_staff("zhangsan")
    await sandbox.add_staff("lisi")
    return "zhangsan", (await sandbox.add_customer())["external_userid"]


async def test_half_added_relation_is_84061_until_confirmed(
    api: WeComApi, sandbox: SandboxConsole, token: str
) -> None:
    userid, eid = await relation_pair(sandbox)
    assert (await api.get(GET, token, external_userid=eid))["errcode"] == 84061
    await sandbox.add_contact(userid, eid, half=True)
    assert await api.get(GET, token, external_userid=eid) == {
        "errcode": 84061, "errmsg": "not external contact"}
    await sandbox.add_contact(userid, eid)
    assert (await api.get(GET, token, external_userid=eid))["errcode"] == 0


async def test_staff_deleted_relation_is_hidden_customer_deleted_is_not(
    api: WeComApi, sandbox: SandboxConsole, token: str
) -> None:
    userid, eid = await relation_pair(sandbox)
    await sandbox.add_contact(userid, eid)
    await sandbox.add_contact("lisi", eid)
    await sandbox.customer_deletes_staff("lisi", eid)
    followers = (await api.get(GET, token, external_userid=eid))["follow_user"]
    assert [f["userid"] for f in followers] == [userid, "lisi"]
    await sandbox.delete_contact(userid, eid)
    followers = (await api.get(GET, token, external_userid=eid))["follow_user"]
    assert [f["userid"] for f in followers] == ["lisi"]
    batch = await api.post(BATCH, token, {"userid_list": [userid, "lisi"]})
    assert [e["follow_info"]["userid"] for e in batch["external_contact_list"]] == ["lisi"]
    await sandbox.delete_contact("lisi", eid)
    assert (await api.get(GET, token, external_userid=eid))["errcode"] == 84061


async def test_follow_user_list_has_only_customer_contact_staff(
    api: WeComApi, sandbox: SandboxConsole, token: str
) -> None:
    await sandbox.add_staff("zhangsan")
    await sandbox.add_staff("boss", customer_contact=False)
    await sandbox.add_staff("lisi")
    assert (await api.get(FOLLOW_LIST, token))["follow_user"] == ["zhangsan", "lisi"]
    assert (await api.post(FOLLOW_LIST, token, {}))["follow_user"] == ["zhangsan", "lisi"]


async def collect(api: WeComApi, token: str, userids: list[str],
                  limit: int | None = None) -> list[list[dict[str, Any]]]:
    pages, cursor = [], ""
    while True:
        body: dict[str, Any] = {"userid_list": userids, "cursor": cursor}
        if limit is not None:
            body["limit"] = limit
        answer = await api.post(BATCH, token, body)
        assert answer["errcode"] == 0, answer
        pages.append(answer["external_contact_list"])
        cursor = answer["next_cursor"]
        if not cursor:
            return pages


async def test_batch_paging_returns_exactly_what_was_seeded(
    api: WeComApi, sandbox: SandboxConsole, token: str
) -> None:
    seeded = await sandbox.seed(staff=3, customers_per_staff=45)
    follows: dict[str, list[str]] = seeded["follows"]
    pages = await collect(api, token, list(follows), limit=20)
    assert [len(p) for p in pages] == [20] * 6 + [15]
    listed = [(e["follow_info"]["userid"], e["external_contact"]["external_userid"])
              for page in pages for e in page]
    assert listed == [(u, eid) for u, eids in follows.items() for eid in eids]
    assert await collect(api, token, list(follows), limit=20) == pages


async def test_batch_limit_defaults_to_50_and_clamps_to_100(
    api: WeComApi, sandbox: SandboxConsole, token: str
) -> None:
    follows = (await sandbox.seed(staff=1, customers_per_staff=130))["follows"]
    assert [len(p) for p in await collect(api, token, list(follows))] == [50, 50, 30]
    assert [len(p) for p in await collect(api, token, list(follows), limit=500)] == [100, 30]


async def test_batch_follow_info_shape(
    api: WeComApi, sandbox: SandboxConsole, token: str
) -> None:
    userid, eid = await relation_pair(sandbox)
    tag = (await sandbox.tag_event("create", tag_type="tag_group", name="G",
                                   tags=["t"]))["tag_ids"][0]
    await sandbox.add_contact(userid, eid, state="s1")
    await sandbox.edit_contact(userid, eid, remark="r", add_tag=[tag])
    [entry] = (await api.post(BATCH, token, {"userid_list": [userid]}))["external_contact_list"]
    info = entry["follow_info"]
    assert set(info) == {"userid", "remark", "description", "createtime", "tag_id",
                         "remark_corp_name", "remark_mobiles", "oper_userid", "add_way",
                         "state"}
    assert (info["tag_id"], info["remark"], info["state"]) == ([tag], "r", "s1")


@pytest.mark.parametrize(("body", "errcode"), [
    ({"userid_list": [f"u{i}" for i in range(101)]}, 40058),
    ({"userid_list": []}, 40058),
    ({}, 40058),
    ({"userid_list": ["nobody"]}, 40003),
    ({"userid_list": ["zhangsan"], "cursor": "not-a-cursor"}, 40058),
    ({"userid_list": ["zhangsan"], "limit": "ten"}, 40058),
    ({"userid_list": ["boss"]}, 84074),
])
async def test_batch_rejects_bad_requests(
    api: WeComApi, sandbox: SandboxConsole, token: str, body: dict[str, Any], errcode: int
) -> None:
    await sandbox.add_staff("zhangsan")
    await sandbox.add_staff("boss", customer_contact=False)
    assert (await api.post(BATCH, token, body))["errcode"] == errcode


REMARK = "externalcontact/remark"


async def test_remark_sets_only_the_fields_given(
    api: WeComApi, sandbox: SandboxConsole, token: str
) -> None:
    userid, eid = await relation_pair(sandbox)
    await sandbox.add_contact(userid, eid)
    await sandbox.edit_contact(userid, eid, description="老客户", remark_mobiles=["138"])
    pair = {"userid": userid, "external_userid": eid}
    assert await api.post(REMARK, token, {**pair, "remark": "李四-门店",
                                          "remark_company": "某公司"}) == {
        "errcode": 0, "errmsg": "ok"}
    [follow] = (await api.get(GET, token, external_userid=eid))["follow_user"]
    assert (follow["remark"], follow["description"], follow["remark_corp_name"],
            follow["remark_mobiles"]) == ("李四-门店", "老客户", "某公司", ["138"])
    await api.post(REMARK, token, {**pair, "description": "", "remark_mobiles": [""]})
    [follow] = (await api.get(GET, token, external_userid=eid))["follow_user"]
    assert (follow["remark"], follow["description"], follow["remark_mobiles"]) == (
        "李四-门店", "", [])


@pytest.mark.parametrize(("change", "errcode"), [
    ({"remark": "r" * 21}, 40058),
    ({"description": "d" * 151}, 40058),
    ({"remark_company": "c" * 21}, 40058),
    ({"remark_mobiles": "138"}, 40058),
    ({"userid": "lisi"}, 84061),
    ({"userid": "nobody"}, 40003),
    ({"userid": ""}, 41009),
    ({"external_userid": ""}, 41035),
    ({"external_userid": "xx1"}, 40096),
])
async def test_remark_refusals_change_nothing(
    api: WeComApi, sandbox: SandboxConsole, token: str, change: dict[str, Any], errcode: int
) -> None:
    userid, eid = await relation_pair(sandbox)
    await sandbox.add_contact(userid, eid)
    await sandbox.add_contact("lisi", eid, half=True)
    body = {"userid": userid, "external_userid": eid, "remark": "ok", **change}
    assert (await api.post(REMARK, token, body))["errcode"] == errcode
    [follow] = (await api.get(GET, token, external_userid=eid))["follow_user"]
    assert follow["remark"] == ""
