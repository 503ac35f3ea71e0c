"""Corp tags and mark_tag over real HTTP: the listing by id with deleted tags, adding by
group name or id, the limits, deletion cascading to customers, and that the API and
the console's tag events work on the same tags while only the console fires callbacks."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bot.sandbox.callback_receiver import CallbackReceiver, fields_of, open_callback
from tests.bot.sandbox.wecom_api import WeComApi
from tests.sandbox_fixtures import SandboxConsole

LIST = "externalcontact/get_corp_tag_list"
ADD = "externalcontact/add_corp_tag"
EDIT = "externalcontact/edit_corp_tag"
DELETE = "externalcontact/del_corp_tag"
MARK = "externalcontact/mark_tag"
GET = "externalcontact/get"
BATCH = "externalcontact/batch/get_by_user"


@pytest.fixture
async def token(api: WeComApi) -> str:
    return await api.token()


async def add(api: WeComApi, token: str, *names: str, **fields: Any) -> dict[str, Any]:
    answer = await api.post(ADD, token, {"tag": [{"name": n} for n in names], **fields})
    assert answer["errcode"] == 0, answer
    return dict(answer["tag_group"])


def names(listing: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [(g["group_name"], [t["name"] for t in g["tag"]]) for g in listing["tag_group"]]


async def test_add_creates_a_group_then_adds_to_it_by_name_or_id(
    api: WeComApi, token: str
) -> None:
    answer = await api.post(ADD, token, {
        "group_name": "等级", "order": 5,
        "tag": [{"name": "金卡", "order": 2}, {"name": "银卡"}, {"name": "金卡"}],
    })
    group = answer["tag_group"]
    assert (answer["errcode"], group["group_name"], group["order"]) == (0, "等级", 5)
    assert group["group_id"].startswith("et") and len(group["group_id"]) == 32
    assert [(t["name"], t["order"]) for t in group["tag"]] == [("金卡", 2), ("银卡", 0)]
    assert set(group["tag"][0]) == {"id", "name", "create_time", "order"}

    by_name = await add(api, token, "铜卡", group_name="等级")
    by_id = await api.post(ADD, token, {"group_id": group["group_id"], "group_name": "ignored",
                                        "tag": [{"name": "钻石", "order": 9}]})

    assert by_name["group_id"] == by_id["tag_group"]["group_id"] == group["group_id"]
    assert [t["name"] for t in by_name["tag"]] == ["铜卡"]
    await add(api, token, "门店A", group_name="渠道", order=9)
    listing = await api.post(LIST, token, {})
    assert names(listing) == [("渠道", ["门店A"]), ("等级", ["钻石", "金卡", "银卡", "铜卡"])]
    assert all("deleted" not in g and all("deleted" not in t for t in g["tag"])
               for g in listing["tag_group"])


@pytest.mark.parametrize(("body", "errcode"), [
    ({"group_name": "G", "tag": [{"name": "x" * 31}]}, 40071),
    ({"group_name": "G", "tag": [{"name": ""}]}, 40071),
    ({"group_name": "x" * 31, "tag": [{"name": "t"}]}, 40071),
    ({"tag": [{"name": "t"}]}, 40071),
    ({"group_name": "已有", "tag": [{"name": "老"}]}, 40071),
    ({"group_id": "etNoSuchGroup", "tag": [{"name": "t"}]}, 40068),
    ({"group_name": "G", "tag": []}, 40058),
    ({"group_name": "G", "tag": "t"}, 40058),
], ids=["long-name", "empty-name", "long-group", "no-group", "name-in-group", "unknown-group",
        "no-tags", "tags-not-a-list"])
async def test_add_refuses_bad_names_and_groups(
    api: WeComApi, token: str, body: dict[str, Any], errcode: int
) -> None:
    await add(api, token, "老", group_name="已有")
    assert (await api.post(ADD, token, body))["errcode"] == errcode
    assert names(await api.post(LIST, token, {})) == [("已有", ["老"])]


async def test_the_corp_holds_at_most_3000_tags(api: WeComApi, token: str) -> None:
    await add(api, token, *(f"t{n}" for n in range(2999)), group_name="多")
    assert await api.post(ADD, token, {"group_name": "又", "tag": [{"name": "a"}, {"name": "b"}]}) \
        == {"errcode": 40126, "errmsg": "corp tag count reaches the limit of 3000"}
    await add(api, token, "最后", group_name="又")


async def test_listing_by_id_answers_deleted_tags_and_groups(
    api: WeComApi, token: str
) -> None:
    kept = await add(api, token, "a1", "a2", group_name="A")
    gone = await add(api, token, "b1", group_name="B")
    a1, a2 = (t["id"] for t in kept["tag"])
    b1 = gone["tag"][0]["id"]
    assert (await api.post(DELETE, token, {"tag_id": [a1], "group_id": [gone["group_id"]]})
            )["errcode"] == 0

    by_tag = await api.post(LIST, token, {"tag_id": [a2, a1, b1, "etUnknown"]})
    assert [(g["group_name"], g["deleted"], [(t["name"], t["deleted"]) for t in g["tag"]])
            for g in by_tag["tag_group"]] == [
        ("A", False, [("a2", False), ("a1", True)]), ("B", True, [("b1", True)])]
    by_group = await api.post(LIST, token, {"group_id": [gone["group_id"], kept["group_id"]],
                                            "tag_id": [a1]})
    assert [(g["group_name"], g["deleted"], [t["name"] for t in g["tag"]])
            for g in by_group["tag_group"]] == [("B", True, ["b1"]), ("A", False, ["a2"])]
    assert names(await api.post(LIST, token, {})) == [("A", ["a2"])]


async def test_edit_renames_and_reorders_tags_and_groups(api: WeComApi, token: str) -> None:
    group = await add(api, token, "旧", "次", group_name="组")
    old = group["tag"][0]["id"]
    assert (await api.post(EDIT, token, {"id": old, "name": "新", "order": 7}))["errcode"] == 0
    assert (await api.post(EDIT, token, {"id": group["group_id"], "name": "新组"}))["errcode"] == 0
    assert names(await api.post(LIST, token, {})) == [("新组", ["新", "次"])]
    assert (await api.post(EDIT, token, {"id": "etNothing", "name": "x"}))["errcode"] == 40068
    assert (await api.post(EDIT, token, {"id": old, "name": "x" * 31}))["errcode"] == 40071


async def tagged_pair(api: WeComApi, token: str, sandbox: SandboxConsole
                      ) -> tuple[str, str, list[str]]:
    await sandbox.add_staff("zhangsan")
    eid = (await sandbox.add_customer("李四"))["external_userid"]
    await sandbox.add_contact("zhangsan", eid)
    group = await add(api, token, "VIP", "普通", group_name="等级")
    return "zhangsan", eid, [t["id"] for t in group["tag"]]


async def test_mark_tag_shows_in_get_and_batch(
    api: WeComApi, token: str, sandbox: SandboxConsole
) -> None:
    userid, eid, (vip, normal) = await tagged_pair(api, token, sandbox)
    mark = {"userid": userid, "external_userid": eid}
    assert await api.post(MARK, token, {**mark, "add_tag": [vip, normal, vip]}) == {
        "errcode": 0, "errmsg": "ok"}
    [follow] = (await api.get(GET, token, external_userid=eid))["follow_user"]
    assert follow["tags"] == [
        {"group_name": "等级", "tag_name": "VIP", "tag_id": vip, "type": 1},
        {"group_name": "等级", "tag_name": "普通", "tag_id": normal, "type": 1}]

    await api.post(MARK, token, {**mark, "remove_tag": [vip]})
    [entry] = (await api.post(BATCH, token, {"userid_list": [userid]}))["external_contact_list"]
    assert entry["follow_info"]["tag_id"] == [normal]


async def test_deleting_tags_takes_them_off_customers(
    api: WeComApi, token: str, sandbox: SandboxConsole
) -> None:
    userid, eid, (vip, normal) = await tagged_pair(api, token, sandbox)
    other = (await add(api, token, "门店", group_name="渠道"))["tag"][0]["id"]
    await api.post(MARK, token, {"userid": userid, "external_userid": eid,
                                 "add_tag": [vip, other, normal]})
    await api.post(DELETE, token, {"tag_id": [vip]})
    await sandbox.tag_event("delete", tag_type="tag", id=normal)
    [follow] = (await api.get(GET, token, external_userid=eid))["follow_user"]
    assert [t["tag_id"] for t in follow["tags"]] == [other]
    assert names(await api.post(LIST, token, {})) == [("渠道", ["门店"])]


async def test_delete_refuses_nothing_or_unknown_ids_and_deletes_nothing(
    api: WeComApi, token: str
) -> None:
    live = (await add(api, token, "t", group_name="G"))["tag"][0]["id"]
    assert (await api.post(DELETE, token, {}))["errcode"] == 40058
    assert (await api.post(DELETE, token, {"tag_id": [live, "etNoSuchTag"]}))["errcode"] == 40068
    assert (await api.post(DELETE, token, {"tag_id": [live], "group_id": ["etNoSuchGroup"]})
            )["errcode"] == 40068
    assert names(await api.post(LIST, token, {})) == [("G", ["t"])]


async def test_mark_tag_needs_a_visible_relation(
    api: WeComApi, token: str, sandbox: SandboxConsole
) -> None:
    userid, eid, (vip, _) = await tagged_pair(api, token, sandbox)
    await sandbox.add_staff("lisi")
    await sandbox.add_staff("wangwu")
    await sandbox.add_contact("lisi", eid, half=True)
    await sandbox.add_contact("wangwu", eid)
    await sandbox.delete_contact("wangwu", eid)
    await sandbox.customer_deletes_staff(userid, eid)

    async def mark(staff: str, external_userid: str = eid, **tags: Any) -> int:
        body = {"userid": staff, "external_userid": external_userid, "add_tag": [vip], **tags}
        return int((await api.post(MARK, token, body))["errcode"])

    assert await mark(userid) == 0  # the customer deleted the member: one-way, still works
    assert await mark("lisi") == 84061  # half-added
    assert await mark("wangwu") == 84061  # the member deleted the customer
    assert await mark("nobody") == 40003
    assert await mark("") == 41009
    assert await mark(userid, "xx-not-a-customer") == 40096
    assert await mark(userid, add_tag=["etNoSuchTag"]) == 40068
    assert await mark(userid, add_tag=[], remove_tag=[]) == 40058
    other = (await sandbox.add_customer())["external_userid"]
    assert await mark(userid, other) == 84061


async def test_api_changes_fire_no_callbacks_console_changes_do(
    api: WeComApi, token: str, sandbox: SandboxConsole, receiver: CallbackReceiver
) -> None:
    userid, eid, (vip, _) = await tagged_pair(api, token, sandbox)
    console = await sandbox.tag_event("create", tag_type="tag_group", name="后台",
                                      tags=["人工"])
    fired = len(receiver.requests)
    assert fired == 2  # the add and the console's tag group

    manual = console["tag_ids"][0]
    await api.post(MARK, token, {"userid": userid, "external_userid": eid,
                                 "add_tag": [vip, manual]})
    await api.post(EDIT, token, {"id": manual, "name": "人工2"})
    await api.post("externalcontact/remark", token,
                   {"userid": userid, "external_userid": eid, "remark": "r"})
    await api.post(DELETE, token, {"tag_id": [vip]})
    assert len(receiver.requests) == fired
    assert len(await sandbox.deliveries()) == fired

    deleted = await sandbox.tag_event("delete", tag_type="tag_group", id=console["id"])
    event = fields_of(open_callback(receiver, receiver.requests[fired]))
    assert (event["Event"], event["ChangeType"], event["Id"]) == (
        "change_external_tag", "delete", console["id"])
    assert deleted["tag_ids"] == [manual]
    assert (await api.get(GET, token, external_userid=eid))["follow_user"][0]["tags"] == []
