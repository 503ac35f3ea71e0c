"""Callback delivery to a receiver over real HTTP: signing and encryption checked by our
own bot.crypto, WeCom's re-delivery on failure, the delivery log and the URL check."""

from __future__ import annotations

import dataclasses
import time

import pytest

from bot.crypto import parse_xml
from bot.events import ExternalContactChange, parse_event
from bot.settings import Settings
from tests.bot.sandbox.callback_receiver import (
    STALL,
    CallbackReceiver,
    fields_of,
    open_callback,
)
from tests.bot.sandbox.wecom_api import WeComApi
from tests.sandbox_fixtures import SandboxConsole


async def contact_pair(sandbox: SandboxConsole) -> tuple[str, str]:
    await sandbox.add_staff("zhangsan")
    return "zhangsan", (await sandbox.add_customer("李四"))["external_userid"]


async def test_add_contact_delivers_a_signed_encrypted_event(
    sandbox: SandboxConsole, receiver: CallbackReceiver, settings: Settings
) -> None:
    userid, eid = await contact_pair(sandbox)
    before = int(time.time())
    answer = await sandbox.add_contact(userid, eid, state="shop42")
    delivery = answer["delivery"]
    assert delivery["outcome"] == "delivered"
    assert [a["status"] for a in delivery["attempts"]] == [200]
    [received] = receiver.requests
    assert received.method == "POST"
    xml = open_callback(receiver, received)
    assert xml == delivery["xml"]
    event = parse_event(xml)
    assert isinstance(event, ExternalContactChange)
    assert (event.to_user, event.source, event.change_type) == (
        settings.wecom.corp_id, "sys", "add_external_contact")
    assert (event.user_id, event.external_user_id, event.state) == (userid, eid, "shop42")
    assert event.welcome_code == answer["welcome_code"] != ""
    assert before <= event.create_time <= int(time.time())
    assert abs(int(received.query["timestamp"]) - event.create_time) <= 1


async def test_add_without_welcome_code_or_state_omits_them(
    sandbox: SandboxConsole, receiver: CallbackReceiver
) -> None:
    userid, eid = await contact_pair(sandbox)
    answer = await sandbox.add_contact(userid, eid, welcome_code=False)
    root = parse_xml(open_callback(receiver, receiver.requests[0]))
    assert answer["welcome_code"] == ""
    assert root.find("WelcomeCode") is None and root.find("State") is None


async def test_contact_actions_fire_their_change_types(
    sandbox: SandboxConsole, receiver: CallbackReceiver
) -> None:
    userid, eid = await contact_pair(sandbox)
    await sandbox.add_staff("lisi")
    await sandbox.add_contact(userid, eid, half=True)
    await sandbox.add_contact(userid, eid, welcome_code=False)
    await sandbox.edit_contact(userid, eid, remark="VIP")
    await sandbox.delete_contact(userid, eid, source="DELETE_BY_TRANSFER")
    await sandbox.add_contact("lisi", eid)
    await sandbox.customer_deletes_staff("lisi", eid)
    await sandbox.transfer_fail("lisi", eid, "customer_limit_exceed")
    events = [fields_of(open_callback(receiver, r)) for r in receiver.requests]
    assert [(e["Event"], e["ChangeType"], e["UserID"]) for e in events] == [
        ("change_external_contact", "add_half_external_contact", userid),
        ("change_external_contact", "add_external_contact", userid),
        ("change_external_contact", "edit_external_contact", userid),
        ("change_external_contact", "del_external_contact", userid),
        ("change_external_contact", "add_external_contact", "lisi"),
        ("change_external_contact", "del_follow_user", "lisi"),
        ("change_external_contact", "transfer_fail", "lisi"),
    ]
    assert {e["ExternalUserID"] for e in events} == {eid}
    assert "WelcomeCode" in events[0]
    assert events[3]["Source"] == "DELETE_BY_TRANSFER"
    assert events[6]["FailReason"] == "customer_limit_exceed"


async def test_editing_only_remark_mobiles_fires_nothing(
    sandbox: SandboxConsole, receiver: CallbackReceiver
) -> None:
    userid, eid = await contact_pair(sandbox)
    await sandbox.add_contact(userid, eid)
    answer = await sandbox.edit_contact(userid, eid, remark_mobiles=["13800000000"])
    assert answer["delivery"] is None
    assert answer["relation"]["remark_mobiles"] == ["13800000000"]
    assert len(await sandbox.deliveries()) == 1


async def test_group_events_carry_member_changes(
    sandbox: SandboxConsole, receiver: CallbackReceiver
) -> None:
    await sandbox.add_staff("owner")
    created = await sandbox.group_event("create", owner="owner", name="群", members=["wm1"])
    chat_id = created["chat"]["chat_id"]
    joined = await sandbox.group_event("update", chat_id=chat_id, update_detail="add_member",
                                       members=["wm2", "wm3"], join_scene=3)
    left = await sandbox.group_event("update", chat_id=chat_id, update_detail="del_member",
                                     members=["wm1"], quit_scene=1)
    await sandbox.group_event("update", chat_id=chat_id, update_detail="change_name",
                              name="新群名")
    await sandbox.group_event("dismiss", chat_id=chat_id)
    roots = [parse_xml(open_callback(receiver, r)) for r in receiver.requests]
    assert [(r.findtext("ChangeType"), r.findtext("UpdateDetail")) for r in roots] == [
        ("create", None), ("update", "add_member"), ("update", "del_member"),
        ("update", "change_name"), ("dismiss", None)]
    assert {r.findtext("ChatId") for r in roots} == {chat_id}
    join, leave = roots[1], roots[2]
    assert [i.text for i in join.iter("Item")] == ["wm2", "wm3"]
    assert (join.findtext("JoinScene"), join.findtext("MemChangeCnt")) == ("3", "2")
    assert (leave.findtext("QuitScene"), [i.text for i in leave.iter("Item")]) == ("1", ["wm1"])
    assert join.findtext("LastMemVer") == created["chat"]["member_version"]
    assert join.findtext("CurMemVer") == joined["chat"]["member_version"]
    assert leave.findtext("LastMemVer") == joined["chat"]["member_version"]
    assert leave.findtext("CurMemVer") == left["chat"]["member_version"]
    assert left["chat"]["members"] == ["owner", "wm2", "wm3"]
    assert roots[3].find("MemChangeList") is None


async def test_tag_events_carry_id_tag_type_and_strategy(
    sandbox: SandboxConsole, receiver: CallbackReceiver, api: WeComApi
) -> None:
    group = await sandbox.tag_event("create", tag_type="tag_group", name="等级", tags=["A"])
    tag = await sandbox.tag_event("create", tag_type="tag", group_id=group["id"], name="B",
                                  strategy_id=7)
    await sandbox.tag_event("update", tag_type="tag", id=tag["id"], name="B2")
    await sandbox.tag_event("shuffle", id="")
    deleted = await sandbox.tag_event("delete", tag_type="tag_group", id=group["id"])
    assert sorted(deleted["tag_ids"]) == sorted(group["tag_ids"] + [tag["id"]])
    fields = [fields_of(open_callback(receiver, r)) for r in receiver.requests]
    assert [(f["ChangeType"], f["Id"], f.get("TagType"), f.get("StrategyId")) for f in fields] == [
        ("create", group["id"], "tag_group", None),
        ("create", tag["id"], "tag", "7"),
        ("update", tag["id"], "tag", None),
        ("shuffle", "", None, None),
        ("delete", group["id"], "tag_group", None),
    ]
    assert {f["Event"] for f in fields} == {"change_external_tag"}


async def test_raw_callback_sends_the_xml_as_given(
    sandbox: SandboxConsole, receiver: CallbackReceiver
) -> None:
    xml = "<xml><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[brand_new]]></Event></xml>"
    delivery = await sandbox.raw_callback(xml)
    assert delivery["summary"] == "raw" and delivery["outcome"] == "delivered"
    assert open_callback(receiver, receiver.requests[0]) == xml


async def test_non_200_is_redelivered_with_the_same_body_and_query(
    sandbox: SandboxConsole, receiver: CallbackReceiver
) -> None:
    receiver.plan = [500, 503, 200]
    delivery = await sandbox.raw_callback("<xml><A>1</A></xml>")
    assert [a["status"] for a in delivery["attempts"]] == [500, 503, 200]
    assert delivery["outcome"] == "delivered"
    first, *again = receiver.requests
    assert len(again) == 2
    assert all((r.body, r.query) == (first.body, first.query) for r in again)


async def test_delivery_gives_up_after_the_configured_retries(
    sandbox: SandboxConsole, receiver: CallbackReceiver, settings: Settings
) -> None:
    retries = settings.sandbox.delivery_retries
    receiver.plan = [500] * (retries + 1)
    delivery = await sandbox.raw_callback("<xml/>")
    assert delivery["outcome"] == "failed"
    assert len(delivery["attempts"]) == len(receiver.requests) == retries + 1


class TestTimeout:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, sandbox=dataclasses.replace(
            settings.sandbox, delivery_timeout_seconds=0.3))

    async def test_no_answer_in_time_is_redelivered_identically(
        self, sandbox: SandboxConsole, receiver: CallbackReceiver
    ) -> None:
        receiver.plan = [STALL, 200]
        delivery = await sandbox.raw_callback("<xml><A>1</A></xml>")
        timed_out, answered = delivery["attempts"]
        assert (timed_out["status"], timed_out["error"]) == (None, "timeout")
        assert timed_out["latency_ms"] >= 300
        assert answered["status"] == 200 and delivery["outcome"] == "delivered"
        first, second = receiver.requests
        assert (first.body, first.query) == (second.body, second.query)


async def test_redeliver_sends_the_logged_payload_again(
    sandbox: SandboxConsole, receiver: CallbackReceiver
) -> None:
    first = await sandbox.raw_callback("<xml/>")
    again = await sandbox.redeliver(first["id"])
    assert again["id"] == first["id"]
    assert [a["status"] for a in again["attempts"]] == [200, 200]
    original, repeated = receiver.requests
    assert (original.body, original.query) == (repeated.body, repeated.query)
    assert [d["id"] for d in await sandbox.deliveries()] == [first["id"]]


async def test_wait_false_returns_before_delivery(
    sandbox: SandboxConsole, receiver: CallbackReceiver
) -> None:
    userid, eid = await contact_pair(sandbox)
    answer = await sandbox.add_contact(userid, eid, wait=False)
    assert answer["delivery"]["outcome"] == "pending"
    assert answer["delivery"]["attempts"] == []
    [received] = await receiver.wait_for(1)
    assert fields_of(open_callback(receiver, received))["ChangeType"] == "add_external_contact"


async def test_api_calls_emit_no_callbacks(
    sandbox: SandboxConsole, receiver: CallbackReceiver, api: WeComApi
) -> None:
    seeded = await sandbox.seed(staff=2, customers_per_staff=3)
    token = await api.token()
    userids = list(seeded["follows"])
    await api.post("externalcontact/batch/get_by_user", token, {"userid_list": userids})
    await api.get("externalcontact/get", token,
                  external_userid=seeded["follows"][userids[0]][0])
    await api.get("externalcontact/get_follow_user_list", token)
    assert await sandbox.deliveries() == []
    await sandbox.raw_callback("<xml/>")
    assert len(receiver.requests) == 1


async def test_verify_url_accepts_the_exact_plaintext_only(
    sandbox: SandboxConsole, receiver: CallbackReceiver
) -> None:
    good = await sandbox.verify_url()
    assert good["ok"] is True and good["body"] == good["expected"]
    assert good["expected"].isdigit()
    assert receiver.requests[0].method == "GET"
    receiver.answer_echo = lambda plain: plain + "\n"
    bad = await sandbox.verify_url()
    assert bad["ok"] is False and bad["status"] == 200


async def test_reset_clears_deliveries_and_state(
    sandbox: SandboxConsole, receiver: CallbackReceiver
) -> None:
    await sandbox.seed(staff=1, customers_per_staff=2)
    await sandbox.raw_callback("<xml/>")
    await sandbox.reset()
    state = await sandbox.state()
    assert (state["staff"], state["customers"], state["deliveries"]) == (0, 0, 0)
