"""Channel onboarding end to end: an operator creates a channel through the admin API, a
sandbox customer scans its QR and adds the guide, and the worker attributes, welcomes,
tags and remarks them — checked on the sandbox's side and in our records."""

from __future__ import annotations

import time
from typing import Any

import aiohttp

from bot.settings import Settings
from models.channels import Attribution, Channel, WelcomeMessage, WelcomeStatus
from models.events import EventStatus, InboxEvent
from tests.admin_api.conftest import GUIDES, admin_client
from tests.apphost import contact_event, encrypt, signed_post, wait_for
from tests.bot.sandbox.wecom_api import WeComApi
from tests.sandbox_fixtures import SandboxConsole

SEND = "externalcontact/send_welcome_msg"
LINK = {"msgtype": "link", "link": {"title": "会员中心", "url": "https://example.com/member"}}


def welcome_body(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "门店A", "kind": "store", "guides": [GUIDES[0]],
        "tags": [{"group": "渠道", "name": "门店A"}], "create_missing_tags": True,
        "welcome": {"text": "你好，{customer_name}！我是{guide_name}。", "attachments": [LINK]},
        "remark_template": "{channel_name}-{customer_name}", "skip_verify": True,
    }
    body.update(fields)
    return body


async def _welcome(external_userid: str) -> WelcomeMessage | None:
    return await WelcomeMessage.get_or_none(external_userid=external_userid)


async def _all_done() -> bool:
    return not await InboxEvent.filter(
        status__in=[EventStatus.PENDING, EventStatus.PROCESSING]).exists()


async def test_a_scan_is_welcomed_tagged_remarked_attributed_and_counted(
    settings: Settings, corp: SandboxConsole, wecom_api: WeComApi
) -> None:
    async with admin_client(settings, worker=True) as admin:
        channel = (await admin.post("/channels", welcome_body())).json()
        tag_id = channel["tags"][0]["id"]
        scanned = await corp.scan(channel["config_id"], name="王小明")
        assert scanned["delivery"]["outcome"] == "delivered"
        ext = scanned["relation"]["external_userid"]

        welcome = await wait_for(lambda: _welcome(ext), what="welcome recorded")
        assert welcome.status == WelcomeStatus.SENT and welcome.attempts == 1
        [received] = await corp.welcome_messages(ext)
        assert received["text"] == "你好，王小明！我是导购 zhangsan。"
        assert received["attachments"] == [LINK]
        assert received["welcome_code"] == scanned["welcome_code"]

        await wait_for(_all_done, what="onboarding finished")
        detail = await wecom_api.get("externalcontact/get", await wecom_api.token(),
                                     external_userid=ext)
        [follow] = detail["follow_user"]
        assert [t["tag_id"] for t in follow["tags"]] == [tag_id]
        assert follow["remark"] == "门店A-王小明"
        assert follow["state"] == channel["state"]

        attribution = await Attribution.get(external_userid=ext)
        assert (attribution.channel_id, attribution.staff_userid) == (channel["id"], GUIDES[0])
        assert attribution.first_add

        funnel = (await admin.get(f"/channels/{channel['id']}/funnel")).json()
        [day] = funnel["rows"]
        assert (day["adds"], day["re_adds"], day["net_adds"]) == (1, 0, 1)
        assert day["tags"] == {"渠道/门店A": 1}


async def test_redelivery_and_replay_send_no_second_welcome_nor_count_twice(
    settings: Settings, corp: SandboxConsole
) -> None:
    async with admin_client(settings, worker=True) as admin:
        channel = (await admin.post("/channels", welcome_body())).json()
        scanned = await corp.scan(channel["config_id"], name="李雷")
        ext = scanned["relation"]["external_userid"]
        await wait_for(lambda: _welcome(ext), what="welcome recorded")
        await wait_for(_all_done, what="onboarding finished")

        again = await corp.redeliver(scanned["delivery"]["id"])
        assert again["attempts"][-1]["status"] == 200
        event = await InboxEvent.get()
        replayed = await admin.post(f"/events/{event.id}/replay")
        assert replayed.status == 202
        await wait_for(lambda: InboxEvent.filter(id=event.id, status=EventStatus.DONE,
                                                 attempts=1).exists(), what="replay done")
        assert await InboxEvent.all().count() == 1
        assert len(await corp.welcome_messages(ext)) == 1
        assert await corp.call_count(SEND) == 1
        assert await Attribution.filter(external_userid=ext).count() == 1


async def test_two_adds_in_the_same_second_are_both_welcomed_and_credited(
    settings: Settings, corp: SandboxConsole
) -> None:
    async with admin_client(settings) as admin:
        channel = (await admin.post("/channels", welcome_body())).json()
    # Our server is down while the two customers scan: WeCom's deliveries fail, the
    # welcome codes stay valid for 20 s. We then deliver both adds ourselves, stamped
    # with the same second (FromUserName is `sys` for both).
    scans = [await corp.scan(channel["config_id"], name=name) for name in ("甲", "乙")]
    assert all(s["delivery"]["outcome"] != "delivered" for s in scans)
    same_second = int(time.time())
    async with admin_client(settings, worker=True) as admin:
        async with aiohttp.ClientSession() as http:
            for scan in scans:
                relation = scan["relation"]
                message = contact_event(
                    "add_external_contact", relation["external_userid"],
                    user_id=relation["userid"], create_time=same_second,
                    extra=f"<State><![CDATA[{channel['state']}]]></State>"
                          f"<WelcomeCode><![CDATA[{scan['welcome_code']}]]></WelcomeCode>")
                query, body = signed_post(settings, encrypt(settings, message))
                async with http.post(f"{admin.base_url}/wecom/callback?{query}",
                                     data=body) as response:
                    assert response.status == 200
        await wait_for(_all_done, what="both adds processed")
        statuses = await WelcomeMessage.all().values_list("status", flat=True)
        assert sorted(statuses) == [WelcomeStatus.SENT, WelcomeStatus.SENT]
        assert await Attribution.filter(channel_id=channel["id"]).count() == 2
        assert len(await corp.welcome_messages()) == 2


async def test_a_stalled_worker_lets_the_code_expire_recorded_not_retried(
    settings: Settings, corp: SandboxConsole
) -> None:
    async with admin_client(settings, worker=True) as admin:
        channel = (await admin.post("/channels", welcome_body())).json()
        # The worker stalls in its first WeCom call while the sandbox's time runs past
        # the code's 20 seconds.
        await corp.latency("externalcontact/get", 1.0)
        scanned = await corp.scan(channel["config_id"], name="迟到的客户")
        await wait_for(lambda: InboxEvent.filter(status=EventStatus.PROCESSING).exists(),
                       what="worker on the event")
        await corp.advance_clock(25)
        welcome = await wait_for(lambda: _welcome(scanned["relation"]["external_userid"]),
                                 what="welcome outcome")
        assert (welcome.status, welcome.errcode, welcome.attempts) == (
            WelcomeStatus.CODE_EXPIRED, 41050, 1)
        await wait_for(_all_done, what="event finished")
        assert await InboxEvent.filter(status=EventStatus.DONE).count() == 1
        assert await corp.call_count(SEND) == 1
        assert await corp.welcome_messages() == []


async def test_41096_is_retried_shortly_then_sent(
    settings: Settings, corp: SandboxConsole
) -> None:
    async with admin_client(settings, worker=True) as admin:
        channel = (await admin.post("/channels", welcome_body())).json()
        await corp.fault(SEND, 41096, 2)
        scanned = await corp.scan(channel["config_id"], name="重试的客户")
        welcome = await wait_for(lambda: _welcome(scanned["relation"]["external_userid"]),
                                 what="welcome outcome")
        assert (welcome.status, welcome.attempts) == (WelcomeStatus.SENT, 3)
        assert len(await corp.welcome_messages()) == 1


async def test_without_a_welcome_code_wecom_default_applies_and_unknown_state_is_organic(
    settings: Settings, corp: SandboxConsole
) -> None:
    await corp.add_staff("zhaoliu", "导购 赵六", console_welcome=True)
    customer = await corp.add_customer("无码客户")
    async with admin_client(settings, worker=True):
        await corp.add_contact("zhaoliu", customer["external_userid"], state="no-such-state")
        welcome = await wait_for(lambda: _welcome(customer["external_userid"]),
                                 what="welcome outcome")
        assert welcome.status == WelcomeStatus.WECOM_DEFAULT
        attribution = await wait_for(
            lambda: Attribution.get_or_none(external_userid=customer["external_userid"]),
            what="attribution")
        organic = await Channel.get(id=attribution.channel_id)
        assert organic.is_default and organic.kind == "organic"
        assert await corp.call_count(SEND) == 0


async def test_console_tag_edits_resync_the_mirror(
    settings: Settings, corp: SandboxConsole
) -> None:
    async with admin_client(settings, worker=True) as admin:
        created = await corp.tag_event("create", tag_type="tag_group", name="会员等级",
                                       tags=["金卡", "银卡"])

        async def listing() -> list[dict[str, Any]]:
            return list((await admin.get("/tags")).json()["items"])

        async def group_names() -> dict[str, list[str]]:
            return {g["group"]: [t["name"] for t in g["tags"]] for g in await listing()}

        await wait_for(lambda: _has(group_names, "会员等级", ["金卡", "银卡"]), what="created")
        gold = created["tag_ids"][0]
        await corp.tag_event("update", tag_type="tag", id=gold, name="黑金卡")
        await wait_for(lambda: _has(group_names, "会员等级", ["黑金卡", "银卡"]), what="renamed")
        await corp.tag_event("delete", tag_type="tag", id=gold)
        await wait_for(lambda: _has(group_names, "会员等级", ["银卡"]), what="deleted")


async def _has(names: Any, group: str, tags: list[str]) -> bool:
    return sorted((await names()).get(group, [])) == sorted(tags)
