"""「联系我」 contact ways over real HTTP: create, read, update, list and delete with the
documented errcodes, and the QR code a browser opens and a customer scans."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest

from bot.events import ExternalContactChange, parse_event
from tests.bot.sandbox.callback_receiver import CallbackReceiver, open_callback
from tests.bot.sandbox.wecom_api import WeComApi
from tests.sandbox_fixtures import SandboxConsole, SandboxConsoleError

ADD = "externalcontact/add_contact_way"
GET = "externalcontact/get_contact_way"
UPDATE = "externalcontact/update_contact_way"
DELETE = "externalcontact/del_contact_way"
LIST = "externalcontact/list_contact_way"


@pytest.fixture
async def token(api: WeComApi, sandbox: SandboxConsole) -> str:
    await sandbox.add_staff("zhangsan", "张三")
    await sandbox.add_staff("lisi", "李四")
    await sandbox.add_staff("boss", customer_contact=False)
    return await api.token()


async def create(api: WeComApi, token: str, **fields: Any) -> dict[str, Any]:
    body = {"type": 2, "scene": 2, "state": "shop42", "user": ["zhangsan", "lisi"], **fields}
    answer = await api.post(ADD, token, body)
    assert answer["errcode"] == 0, answer
    return answer


async def test_create_read_update_and_delete(
    api: WeComApi, sandbox: SandboxConsole, token: str
) -> None:
    created = await create(api, token, remark="门店渠道", skip_verify=False, mark_source=True)
    config_id = created["config_id"]
    assert re.fullmatch(r"[0-9a-f]{32}", config_id)
    assert created["qr_code"] == f"{sandbox.url}/sandbox/qr/{config_id}"

    way = (await api.post(GET, token, {"config_id": config_id}))["contact_way"]
    assert way == {"config_id": config_id, "type": 2, "scene": 2, "style": 0,
                   "remark": "门店渠道", "skip_verify": False, "state": "shop42",
                   "user": ["zhangsan", "lisi"], "party": [], "is_temp": False,
                   "mark_source": True, "qr_code": created["qr_code"]}

    assert (await api.post(UPDATE, token, {"config_id": config_id, "user": ["lisi"],
                                           "state": "shop43"}))["errcode"] == 0
    way = (await api.post(GET, token, {"config_id": config_id}))["contact_way"]
    assert (way["user"], way["state"], way["remark"], way["skip_verify"]) == (
        ["lisi"], "shop43", "门店渠道", False)

    assert (await api.post(DELETE, token, {"config_id": config_id}))["errcode"] == 0
    assert await api.post(GET, token, {"config_id": config_id}) == {
        "errcode": 41044, "errmsg": "invalid config_id"}
    assert (await api.post(DELETE, token, {"config_id": config_id}))["errcode"] == 41044


async def test_mini_program_ways_have_no_qr_code_and_check_the_style(
    api: WeComApi, token: str
) -> None:
    created = await create(api, token, type=1, scene=1, style=3, user=["zhangsan"])
    assert "qr_code" not in created
    way = (await api.post(GET, token, {"config_id": created["config_id"]}))["contact_way"]
    assert (way["style"], "qr_code" in way) == (3, False)
    answer = await api.post(ADD, token, {"type": 2, "scene": 1, "style": 3, "user": ["lisi"]})
    assert answer["errcode"] == 41042


@pytest.mark.parametrize(("body", "errcode"), [
    ({"scene": 2, "user": ["zhangsan"]}, 41037),
    ({"type": 1, "user": ["zhangsan"]}, 41038),
    ({"type": 3, "scene": 2, "user": ["zhangsan"]}, 41039),
    ({"type": 1, "scene": 3, "user": ["zhangsan"]}, 41040),
    ({"type": 1, "scene": 2, "user": ["zhangsan", "lisi"]}, 40058),
    ({"type": 2, "scene": 2, "user": []}, 40058),
    ({"type": 2, "scene": 2}, 40058),
    ({"type": 2, "scene": 2, "user": [f"u{n}" for n in range(101)]}, 41041),
    ({"type": 1, "scene": 2, "user": ["nobody"]}, 40003),
    ({"type": 1, "scene": 2, "user": ["boss"]}, 84074),
    ({"type": 1, "scene": 2, "user": ["zhangsan"], "state": "s" * 31}, 40058),
    ({"type": 1, "scene": 2, "user": ["zhangsan"], "remark": "r" * 31}, 40058),
    ({"type": 2, "scene": 2, "user": ["zhangsan"], "party": [2]}, 60123),
    ({"type": "1", "scene": 2, "user": ["zhangsan"]}, 40058),
], ids=["no-type", "no-scene", "bad-type", "bad-scene", "single-with-two", "no-users",
        "users-absent", "over-100", "unknown-user", "no-customer-contact", "long-state",
        "long-remark", "party", "type-not-int"])
async def test_add_refuses_bad_ways(
    api: WeComApi, token: str, body: dict[str, Any], errcode: int
) -> None:
    assert (await api.post(ADD, token, body))["errcode"] == errcode


async def test_update_checks_like_add_and_config_ids_are_required(
    api: WeComApi, token: str
) -> None:
    single = (await create(api, token, type=1, user=["zhangsan"]))["config_id"]
    assert (await api.post(UPDATE, token, {"config_id": single, "user": ["zhangsan", "lisi"]})
            )["errcode"] == 40058
    assert (await api.post(UPDATE, token, {"config_id": single, "user": ["boss"]})
            )["errcode"] == 84074
    assert (await api.post(UPDATE, token, {"config_id": "0" * 32}))["errcode"] == 41044
    for name in (GET, UPDATE, DELETE):
        assert (await api.post(name, token, {}))["errcode"] == 41043
    way = (await api.post(GET, token, {"config_id": single}))["contact_way"]
    assert way["user"] == ["zhangsan"]


async def test_list_pages_through_the_ways_in_a_time_range(
    api: WeComApi, sandbox: SandboxConsole, token: str
) -> None:
    old = [(await create(api, token))["config_id"] for _ in range(3)]
    now = await sandbox.advance_clock(3600)
    new = [(await create(api, token))["config_id"] for _ in range(2)]

    first = await api.post(LIST, token, {"limit": 2})
    rest = await api.post(LIST, token, {"limit": 2, "cursor": first["next_cursor"]})
    last = await api.post(LIST, token, {"limit": 2, "cursor": rest["next_cursor"]})
    listed = [w["config_id"] for page in (first, rest, last) for w in page["contact_way"]]
    assert listed == old + new and last["next_cursor"] == ""
    recent = await api.post(LIST, token, {"start_time": int(now) - 10})
    assert [w["config_id"] for w in recent["contact_way"]] == new


async def test_qr_page_shows_the_way_and_a_form(
    api: WeComApi, sandbox: SandboxConsole, token: str
) -> None:
    config_id = (await create(api, token, state="渠道<春>", remark="春季"))["config_id"]
    async with aiohttp.ClientSession() as session, \
            session.get(f"{sandbox.url}/sandbox/qr/{config_id}") as response:
        assert response.status == 200
        assert response.content_type == "text/html" and response.charset == "utf-8"
        html = await response.text()
    assert html == await sandbox.qr_page(config_id)
    assert "渠道&lt;春&gt;" in html and "渠道<春>" not in html
    assert "张三 (zhangsan)" in html and "李四 (lisi)" in html
    assert f'action="/sandbox/qr/{config_id}/scan"' in html and 'name="name"' in html
    assert not re.search(r"\b(src|href)=\"?https?:", html)
    with pytest.raises(SandboxConsoleError) as missing:
        await sandbox.qr_page("0" * 32)
    assert missing.value.status == 404


async def test_scan_adds_the_guide_with_the_state_and_fires_a_verified_callback(
    api: WeComApi, sandbox: SandboxConsole, token: str, receiver: CallbackReceiver
) -> None:
    config_id = (await create(api, token, type=1, user=["lisi"]))["config_id"]

    answer = await sandbox.scan(config_id, name="王五", unionid="oUnion5")

    relation = answer["relation"]
    eid = relation["external_userid"]
    assert (relation["userid"], relation["state"], relation["add_way"]) == ("lisi", "shop42", 1)
    assert answer["delivery"]["outcome"] == "delivered" and answer["welcome_code"]
    event = parse_event(open_callback(receiver, receiver.requests[-1]))
    assert isinstance(event, ExternalContactChange)
    assert (event.change_type, event.user_id, event.external_user_id, event.state,
            event.welcome_code) == ("add_external_contact", "lisi", eid, "shop42",
                                    answer["welcome_code"])
    contact = await api.get("externalcontact/get", token, external_userid=eid)
    assert contact["external_contact"]["name"] == "王五"
    assert contact["external_contact"]["unionid"] == "oUnion5"
    assert [(f["userid"], f["state"], f["add_way"]) for f in contact["follow_user"]] == [
        ("lisi", "shop42", 1)]


async def test_multi_member_ways_hand_out_guides_in_turn(
    api: WeComApi, sandbox: SandboxConsole, token: str
) -> None:
    config_id = (await create(api, token))["config_id"]
    known = (await sandbox.add_customer("老客"))["external_userid"]
    guides = [(await sandbox.scan(config_id, name=f"客{n}"))["relation"]["userid"]
              for n in range(3)]
    again = await sandbox.scan(config_id, external_userid=known)
    assert guides == ["zhangsan", "lisi", "zhangsan"]
    assert (again["relation"]["userid"], again["relation"]["external_userid"]) == ("lisi", known)
    assert (await sandbox.state())["customers"] == 4


async def test_a_guide_with_a_console_welcome_gets_no_welcome_code(
    api: WeComApi, sandbox: SandboxConsole, token: str, receiver: CallbackReceiver
) -> None:
    await sandbox.add_staff("wangwu", console_welcome=True)
    config_id = (await create(api, token, type=1, user=["wangwu"]))["config_id"]
    answer = await sandbox.scan(config_id, name="客")
    assert answer["welcome_code"] == ""
    event = parse_event(open_callback(receiver, receiver.requests[-1]))
    assert isinstance(event, ExternalContactChange)
    assert (event.state, event.welcome_code) == ("shop42", None)


async def test_the_form_scan_answers_html_and_fires_the_callback(
    api: WeComApi, sandbox: SandboxConsole, token: str, receiver: CallbackReceiver
) -> None:
    config_id = (await create(api, token, type=1, user=["zhangsan"]))["config_id"]
    async with aiohttp.ClientSession() as session, session.post(
            f"{sandbox.url}/sandbox/qr/{config_id}/scan",
            data={"name": "表单客户", "external_userid": ""}) as response:
        assert response.status == 200 and response.content_type == "text/html"
        html = await response.text()
    event = parse_event(open_callback(receiver, receiver.requests[-1]))
    assert isinstance(event, ExternalContactChange)
    assert event.external_user_id in html and "delivered" in html
    assert (event.user_id, event.state) == ("zhangsan", "shop42") and event.welcome_code
    assert event.welcome_code in html


async def test_scanning_an_unknown_or_deleted_way_is_404(
    api: WeComApi, sandbox: SandboxConsole, token: str
) -> None:
    config_id = (await create(api, token))["config_id"]
    await api.post(DELETE, token, {"config_id": config_id})
    with pytest.raises(SandboxConsoleError) as refused:
        await sandbox.scan(config_id, name="客")
    assert (refused.value.status, refused.value.payload["error"]) == (404, "not_found")
    assert (await sandbox.state())["customers"] == 0
