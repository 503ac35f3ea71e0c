"""Channel routes over real HTTP against the WeCom sandbox: create, list, read, change,
delete, and what WeCom's refusals become."""

from __future__ import annotations

from tests.admin_api.conftest import GUIDES, AdminClient, channel_body, contact_way
from tests.bot.sandbox.wecom_api import WeComApi
from tests.sandbox_fixtures import SandboxConsole

ADD = "externalcontact/add_contact_way"
UPDATE = "externalcontact/update_contact_way"
DELETE = "externalcontact/del_contact_way"


async def test_create_makes_the_contact_way(admin: AdminClient, corp: SandboxConsole,
                                            wecom_api: WeComApi) -> None:
    created = await admin.post("/tags", {"group": "渠道", "name": "门店"})
    assert created.status == 201, created.body
    reply = await admin.post("/channels", channel_body(
        tags=[{"group": "渠道", "name": "门店"}, {"group": "兴趣", "name": "护肤"}],
        create_missing_tags=True, guides=list(GUIDES), skip_verify=False,
        welcome={"text": "欢迎", "attachments": [
            {"msgtype": "link", "link": {"title": "会员中心", "url": "https://example.com/m"}}]},
    ))
    assert reply.status == 201, reply.body
    channel = reply.json()
    assert reply.headers["Content-Type"].startswith("application/json")
    assert channel["state"].startswith("ch") and len(channel["state"]) <= 30
    assert channel["config_id"] and channel["qr_code"].startswith("http")
    assert channel["guides"] == channel["current_guides"] == list(GUIDES)
    assert channel["kind"] == "store" and channel["skip_verify"] is False
    assert [(t["group"], t["name"]) for t in channel["tags"]] == [("渠道", "门店"),
                                                                  ("兴趣", "护肤")]
    assert channel["tags"][0]["id"] == created.json()["id"]
    assert channel["welcome"]["attachments"][0]["link"]["title"] == "会员中心"

    way = await contact_way(wecom_api, channel["config_id"])
    assert way["errcode"] == 0, way
    assert way["contact_way"]["state"] == channel["state"]
    assert way["contact_way"]["user"] == list(GUIDES)
    assert way["contact_way"]["skip_verify"] is False
    assert await corp.call_count(ADD) == 1
    # The tag created on the way is in the mirror now.
    groups = {g["group"]: [t["name"] for t in g["tags"]]
              for g in (await admin.get("/tags")).json()["items"]}
    assert groups == {"渠道": ["门店"], "兴趣": ["护肤"]}

    fetched = await admin.get(f"/channels/{channel['id']}")
    assert fetched.status == 200
    assert fetched.json() == channel


async def test_a_given_state_is_kept_and_must_be_unique(admin: AdminClient,
                                                        corp: SandboxConsole) -> None:
    channel = await admin.create_channel(state="store-001")
    assert channel["state"] == "store-001"
    again = await admin.post("/channels", channel_body(state="store-001"))
    assert again.status == 400
    assert again.error["field"] == "state"
    assert await corp.call_count(ADD) == 1


async def test_list_pages_and_hides_deleted(admin: AdminClient) -> None:
    ids = [(await admin.create_channel(name=f"渠道 {n}"))["id"] for n in range(5)]
    first = (await admin.get("/channels", params={"limit": "2"})).json()
    assert first["total"] == 5 and first["limit"] == 2 and first["offset"] == 0
    assert [c["id"] for c in first["items"]] == ids[:2]
    last = (await admin.get("/channels", params={"limit": "2", "offset": "4"})).json()
    assert [c["id"] for c in last["items"]] == ids[4:]
    beyond = (await admin.get("/channels", params={"offset": "10"})).json()
    assert beyond["items"] == [] and beyond["total"] == 5
    assert (await admin.get("/channels")).json()["limit"] == 50

    assert (await admin.delete(f"/channels/{ids[1]}")).status == 204
    shown = (await admin.get("/channels")).json()
    assert [c["id"] for c in shown["items"]] == [ids[0], *ids[2:]] and shown["total"] == 4
    everything = (await admin.get("/channels", params={"include_deleted": "true"})).json()
    assert everything["total"] == 5
    assert everything["items"][1]["deleted_at"] is not None

    for params, field in (({"limit": "0"}, "limit"), ({"limit": "201"}, "limit"),
                          ({"limit": "x"}, "limit"), ({"offset": "-1"}, "offset"),
                          ({"include_deleted": "yes"}, "include_deleted")):
        reply = await admin.get("/channels", params=params)
        assert reply.status == 400, params
        assert reply.error["field"] == field


async def test_patch_guides_updates_the_contact_way(admin: AdminClient, corp: SandboxConsole,
                                                    wecom_api: WeComApi) -> None:
    channel = await admin.create_channel(guides=[GUIDES[0]])
    reply = await admin.patch(f"/channels/{channel['id']}", {"guides": [GUIDES[1]]})
    assert reply.status == 200, reply.body
    changed = reply.json()
    assert changed["guides"] == changed["current_guides"] == [GUIDES[1]]
    assert changed["state"] == channel["state"] and changed["name"] == channel["name"]
    assert changed["welcome"] == channel["welcome"]
    assert await corp.call_count(UPDATE) == 1
    way = await contact_way(wecom_api, channel["config_id"])
    assert way["contact_way"]["user"] == [GUIDES[1]]


async def test_patch_welcome_is_partial_and_local(admin: AdminClient,
                                                  corp: SandboxConsole) -> None:
    attachment = {"msgtype": "image", "image": {"pic_url": "https://example.com/a.png"}}
    channel = await admin.create_channel(welcome={"text": "旧的", "attachments": [attachment]})
    reply = await admin.patch(f"/channels/{channel['id']}", {"welcome": {"text": "新的欢迎语"}})
    assert reply.status == 200, reply.body
    assert reply.json()["welcome"] == {"text": "新的欢迎语", "attachments": [attachment]}
    assert (await admin.get(f"/channels/{channel['id']}")).json()["welcome"]["text"] == "新的欢迎语"
    # The welcome is ours to send: WeCom's contact way does not change.
    assert await corp.call_count(UPDATE) == 0

    renamed = await admin.patch(f"/channels/{channel['id']}", {"name": "新名字"})
    assert renamed.json()["name"] == "新名字"
    assert await corp.call_count(UPDATE) == 1


async def test_patch_refuses_bad_input_before_wecom(admin: AdminClient,
                                                    corp: SandboxConsole) -> None:
    channel = await admin.create_channel()
    path = f"/channels/{channel['id']}"
    for body, field in (({"state": "another"}, "state"), ({"guides": ["nobody"]}, "guides"),
                        ({"welcome": {"attachments": [{}] * 10}}, "welcome.attachments"),
                        ({"config_id": "x"}, "config_id"), ({"skip_verify": 1}, "skip_verify"),
                        ({"welcome": {"text": 5}}, "welcome.text")):
        reply = await admin.patch(path, body)
        assert reply.status == 400, (body, reply.body)
        assert reply.error["field"] == field, body
    assert await corp.call_count(UPDATE) == 0
    assert (await admin.get(path)).json() == channel


async def test_delete_removes_the_contact_way(admin: AdminClient, corp: SandboxConsole,
                                              wecom_api: WeComApi) -> None:
    channel = await admin.create_channel()
    path = f"/channels/{channel['id']}"
    reply = await admin.delete(path)
    assert reply.status == 204 and reply.body == b""
    assert await corp.call_count(DELETE) == 1
    way = await contact_way(wecom_api, channel["config_id"])
    assert way["errcode"] == 41044  # unknown config_id
    kept = (await admin.get(path)).json()
    assert kept["deleted_at"] is not None and kept["config_id"] is None
    for method in ("PATCH", "DELETE"):
        again = await admin.request(method, path, json={"name": "x"})
        assert again.status == 404, method
        assert again.error["code"] == "not_found"
    assert await corp.call_count(DELETE) == 1


async def test_unknown_ids_are_404(admin: AdminClient) -> None:
    for method, path in (("GET", "/channels/999"), ("PATCH", "/channels/999"),
                         ("DELETE", "/channels/999"), ("GET", "/channels/999/qr.png"),
                         ("GET", "/channels/999/poster.svg"), ("GET", "/channels/999/funnel"),
                         ("POST", "/events/999/replay"), ("GET", "/channels/abc")):
        reply = await admin.request(method, path, json={"name": "x"})
        assert reply.status == 404, (method, path)
        assert reply.error["code"] == "not_found"


async def test_wecom_error_is_502_and_stores_nothing(admin: AdminClient,
                                                     corp: SandboxConsole) -> None:
    await corp.fault(ADD, 41045, 1)
    reply = await admin.post("/channels", channel_body())
    assert reply.status == 502
    error = reply.error
    assert error["code"] == "wecom_error"
    assert error["errcode"] == 41045 and error["errmsg"]
    assert (await admin.get("/channels")).json()["total"] == 0
    # The fault was used up: the next try goes through.
    assert (await admin.post("/channels", channel_body())).status == 201
