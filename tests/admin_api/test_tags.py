"""Tag routes over real HTTP: the mirror as groups, creating a tag, a full resync."""

from __future__ import annotations

from tests.admin_api.conftest import AdminClient
from tests.bot.sandbox.wecom_api import WeComApi
from tests.sandbox_fixtures import SandboxConsole


async def test_create_lists_and_refuses_duplicates(admin: AdminClient,
                                                   corp: SandboxConsole) -> None:
    assert (await admin.get("/tags")).json() == {"items": [], "total": 0, "limit": 50,
                                                 "offset": 0}
    first = await admin.post("/tags", {"group": "会员等级", "name": "金卡"})
    assert first.status == 201, first.body
    second = await admin.post("/tags", {"group": "会员等级", "name": "银卡"})
    assert second.status == 201
    other = await admin.post("/tags", {"group": "兴趣", "name": "护肤"})
    assert other.status == 201
    assert first.json()["group"] == "会员等级" and first.json()["id"]

    listing = (await admin.get("/tags")).json()
    assert listing["total"] == 2
    groups = {g["group"]: g for g in listing["items"]}
    assert sorted(t["name"] for t in groups["会员等级"]["tags"]) == ["金卡", "银卡"]
    assert {t["id"] for t in groups["会员等级"]["tags"]} == {first.json()["id"],
                                                           second.json()["id"]}
    one = (await admin.get("/tags", params={"limit": "1", "offset": "1"})).json()
    assert len(one["items"]) == 1 and one["total"] == 2

    again = await admin.post("/tags", {"group": "会员等级", "name": "金卡"})
    assert again.status == 409
    assert again.error["code"] == "conflict"
    assert await corp.call_count("externalcontact/add_corp_tag") == 3


async def test_bad_tag_input_is_400(admin: AdminClient, corp: SandboxConsole) -> None:
    for body, field in (({"group": "g"}, "name"), ({"group": "", "name": "n"}, "group"),
                        ({"group": "g", "name": "n" * 31}, "name"),
                        ({"group": "g", "name": 1}, "name"),
                        ({"group": "g", "name": "n", "order": 1}, "order")):
        reply = await admin.post("/tags", body)
        assert reply.status == 400, body
        assert reply.error["field"] == field, body
    assert await corp.call_count("externalcontact/add_corp_tag") == 0


async def test_sync_takes_in_tags_made_elsewhere(admin: AdminClient, corp: SandboxConsole,
                                                 wecom_api: WeComApi) -> None:
    # Another app of the corp adds tags through the API: WeCom sends no callback for it.
    made = await wecom_api.post("externalcontact/add_corp_tag", await wecom_api.token(),
                                {"group_name": "活动", "tag": [{"name": "双十一"}]})
    assert made["errcode"] == 0, made
    assert (await admin.get("/tags")).json()["total"] == 0
    reply = await admin.post("/tags/sync")
    assert reply.status == 200
    assert reply.json() == {"tags": 1}
    groups = (await admin.get("/tags")).json()["items"]
    assert [(g["group"], [t["name"] for t in g["tags"]]) for g in groups] == [("活动", ["双十一"])]
    # A channel can now use it.
    channel = await admin.create_channel(tags=[{"group": "活动", "name": "双十一"}])
    assert channel["tags"][0]["id"] == made["tag_group"]["tag"][0]["id"]


async def test_a_wecom_failure_of_sync_is_502(admin: AdminClient, corp: SandboxConsole) -> None:
    await corp.fault("externalcontact/get_corp_tag_list", 60011, 1)
    reply = await admin.post("/tags/sync")
    assert reply.status == 502
    assert reply.error["errcode"] == 60011


async def test_rename_and_delete_go_to_wecom_and_the_mirror(
    admin: AdminClient, corp: SandboxConsole, wecom_api: WeComApi
) -> None:
    gold = (await admin.post("/tags", {"group": "会员等级", "name": "金卡"})).json()
    silver = (await admin.post("/tags", {"group": "会员等级", "name": "银卡"})).json()
    renamed = await admin.patch(f"/tags/{gold['id']}", {"name": "黑金卡"})
    assert renamed.status == 200 and renamed.json() == {"id": gold["id"], "name": "黑金卡"}
    assert (await admin.patch(f"/tags/{gold['id']}", {"name": ""})).error["field"] == "name"
    assert (await admin.patch("/tags/etNoSuchTag", {"name": "x"})).status == 404

    async def wecom_names() -> list[str]:
        answer = await wecom_api.post("externalcontact/get_corp_tag_list",
                                      await wecom_api.token(), {})
        return sorted(t["name"] for g in answer["tag_group"] for t in g["tag"])

    assert await wecom_names() == ["银卡", "黑金卡"]
    assert (await admin.delete(f"/tags/{gold['id']}")).status == 204
    assert (await admin.delete(f"/tags/{silver['id']}")).status == 204
    assert await wecom_names() == []
    # The emptied group left the mirror with its last tag, as it left WeCom.
    assert (await admin.get("/tags")).json()["total"] == 0
    assert await corp.call_count("externalcontact/del_corp_tag") == 2
