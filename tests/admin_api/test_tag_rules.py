"""Tag rules through the admin API, and onboarding marking the tags of matching rules."""

from __future__ import annotations

from bot.settings import Settings
from models.events import EventStatus, InboxEvent
from tests.admin_api.conftest import AdminClient, admin_client
from tests.admin_api.test_onboarding import welcome_body
from tests.apphost import wait_for
from tests.bot.sandbox.wecom_api import WeComApi
from tests.sandbox_fixtures import SandboxConsole


async def test_rules_are_validated_listed_and_deleted(admin: AdminClient) -> None:
    bad = {
        "channel_kind": {"name": "r", "tags": [{"group": "g", "name": "n"}],
                         "channel_kind": "spaceship", "create_missing_tags": True},
        "tags": {"name": "r", "tags": [{"group": "无此组", "name": "无此标签"}]},
        "customer_type": {"name": "r", "tags": [{"group": "g", "name": "n"}],
                          "customer_type": 7, "create_missing_tags": True},
    }
    for field, body in bad.items():
        reply = await admin.post("/tag-rules", body)
        assert reply.status == 400 and reply.error["field"] == field, reply.body
    created = await admin.post("/tag-rules", {
        "name": "直播客户", "tags": [{"group": "来源", "name": "直播"}],
        "channel_kind": "live_room", "create_missing_tags": True})
    assert created.status == 201
    rule = created.json()
    assert [t["name"] for t in rule["tags"]] == ["直播"] and rule["channel_kind"] == "live_room"
    listed = (await admin.get("/tag-rules")).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == rule["id"]
    assert (await admin.delete(f"/tag-rules/{rule['id']}")).status == 204
    assert (await admin.delete(f"/tag-rules/{rule['id']}")).status == 404


async def test_onboarding_marks_the_tags_of_matching_rules_only(
    settings: Settings, corp: SandboxConsole, wecom_api: WeComApi
) -> None:
    async with admin_client(settings, worker=True) as admin:
        store_rule = (await admin.post("/tag-rules", {
            "name": "门店客户", "tags": [{"group": "来源", "name": "门店"}],
            "channel_kind": "store", "create_missing_tags": True})).json()
        await admin.post("/tag-rules", {
            "name": "直播客户", "tags": [{"group": "来源", "name": "直播"}],
            "channel_kind": "live_room", "create_missing_tags": True})
        channel = (await admin.post("/channels", welcome_body())).json()
        scanned = await corp.scan(channel["config_id"], name="规则客户")
        ext = scanned["relation"]["external_userid"]

        async def done() -> bool:
            return await InboxEvent.filter(status=EventStatus.DONE).exists()

        await wait_for(done, what="onboarding done")
        detail = await wecom_api.get("externalcontact/get", await wecom_api.token(),
                                     external_userid=ext)
        marked = {t["tag_id"] for t in detail["follow_user"][0]["tags"]}
        assert marked == {channel["tags"][0]["id"], store_rule["tags"][0]["id"]}
