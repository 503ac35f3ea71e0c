"""The `sandbox` fixture: the WeCom sandbox served on settings.sandbox.host:port, driven
through its console over HTTP by a `SandboxConsole` (never by reaching into its memory).

The sandbox clock is real time plus whatever `advance_clock` added. Console actions wait
for callback delivery unless called with `wait=False`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.sandbox import start_sandbox
from bot.settings import Settings


class SandboxConsoleError(Exception):
    """The console refused a request: `status` (400/404) and its `{"error", "detail"}`."""

    def __init__(self, status: int, payload: Any) -> None:
        super().__init__(f"{status}: {payload}")
        self.status = status
        self.payload = payload


class SandboxConsole:
    """Async wrappers over the /sandbox/ console. Actions that fire a callback return
    the console's answer, whose "delivery" is the delivery record (id, summary, xml,
    url, body, attempts[{at, status, error, latency_ms}], outcome)."""

    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self.url = url
        self._session = session

    async def _request(self, method: str, path: str, body: dict[str, Any] | None = None,
                       params: dict[str, str] | None = None) -> Any:
        async with self._session.request(method, f"{self.url}/sandbox/{path}", json=body,
                                         params=params) as response:
            payload = await response.json()
            if response.status != 200:
                raise SandboxConsoleError(response.status, payload)
            return payload

    async def _post(self, path: str, **body: Any) -> Any:
        return await self._request("POST", path, {k: v for k, v in body.items()
                                                  if v is not None})

    # -- the corp --
    async def add_staff(self, userid: str, name: str | None = None,
                        customer_contact: bool = True, *, avatar: str | None = None,
                        console_welcome: bool | None = None) -> dict[str, Any]:
        """`console_welcome`: the member has a welcome set in the WeCom console, so
        their adds carry no WelcomeCode."""
        answer = await self._post("staff", userid=userid, name=name,
                                  customer_contact=customer_contact, avatar=avatar,
                                  console_welcome=console_welcome)
        return dict(answer["staff"])

    async def add_customer(self, name: str = "客户", **fields: Any) -> dict[str, Any]:
        """fields: external_userid, type (1 WeChat, 2 WeCom), avatar, gender, unionid,
        corp_name, corp_full_name, position."""
        return dict((await self._post("customers", name=name, **fields))["customer"])

    async def seed(self, staff: int, customers_per_staff: int) -> dict[str, Any]:
        """{"follows": {userid: [external_userid]}, "staff": n, "customers": n}."""
        return dict(await self._post("seed", staff=staff,
                                     customers_per_staff=customers_per_staff))

    async def state(self) -> dict[str, Any]:
        return dict(await self._request("GET", "state"))

    async def reset(self) -> None:
        await self._post("reset")

    # -- user actions (fire callbacks) --
    async def add_contact(self, userid: str, external_userid: str, *, state: str | None = None,
                          half: bool = False, welcome_code: bool = True,
                          add_way: int | None = None, wait: bool = True) -> dict[str, Any]:
        """{"relation", "welcome_code", "delivery"}."""
        return dict(await self._post("contacts/add", userid=userid,
                                     external_userid=external_userid, state=state, half=half,
                                     welcome_code=welcome_code, add_way=add_way, wait=wait))

    async def scan(self, config_id: str, *, name: str | None = None,
                   external_userid: str | None = None, wait: bool = True,
                   **customer: Any) -> dict[str, Any]:
        """A customer scans a 「联系我」 QR code (the one named, else a new customer called
        `name`, with any `add_customer` fields) → {"relation", "welcome_code",
        "delivery"}."""
        return dict(await self._post(f"qr/{config_id}/scan", name=name,
                                     external_userid=external_userid, wait=wait, **customer))

    async def qr_page(self, config_id: str) -> str:
        """The HTML page a phone opening the QR code's URL sees."""
        return await self._page(f"qr/{config_id}")

    async def _page(self, path: str) -> str:
        async with self._session.get(f"{self.url}/sandbox/{path}") as response:
            if response.status != 200:
                raise SandboxConsoleError(response.status, await response.json())
            return await response.text()

    async def chat(self, userid: str, external_userid: str) -> dict[str, Any]:
        """Member and customer exchange messages (no callback): no welcome can follow."""
        return dict((await self._post("contacts/chat", userid=userid,
                                      external_userid=external_userid))["relation"])

    async def edit_contact(self, userid: str, external_userid: str, *, wait: bool = True,
                           **changes: Any) -> dict[str, Any]:
        """changes: remark, description, remark_corp_name, remark_mobiles, add_tag,
        remove_tag. {"relation", "delivery" (None when nothing fires)}."""
        return dict(await self._post("contacts/edit", userid=userid,
                                     external_userid=external_userid, wait=wait, **changes))

    async def delete_contact(self, userid: str, external_userid: str, *,
                             source: str | None = None, wait: bool = True) -> dict[str, Any]:
        return dict(await self._post("contacts/delete", userid=userid,
                                     external_userid=external_userid, source=source, wait=wait))

    async def customer_deletes_staff(self, userid: str, external_userid: str, *,
                                     wait: bool = True) -> dict[str, Any]:
        return dict(await self._post("contacts/customer_deletes_staff", userid=userid,
                                     external_userid=external_userid, wait=wait))

    async def transfer_fail(self, userid: str, external_userid: str,
                            fail_reason: str = "customer_refused", *,
                            wait: bool = True) -> dict[str, Any]:
        return dict(await self._post("contacts/transfer_fail", userid=userid,
                                     external_userid=external_userid,
                                     fail_reason=fail_reason, wait=wait))

    async def group_event(self, change_type: str, *, wait: bool = True,
                          **fields: Any) -> dict[str, Any]:
        """create {owner, name, members, admins}; update {chat_id, update_detail, members,
        join_scene, state, invitor, quit_scene, owner, name, notice}; dismiss {chat_id};
        any: mem_change_list ("items" | "csv"), fire (False: no callback).
        {"chat", "delivery"}."""
        return dict(await self._post("groups/event", change_type=change_type, wait=wait,
                                     **fields))

    async def bulk_groups(self, owners: list[str], groups_per_owner: int, *,
                          customers_per_group: int = 0,
                          name_prefix: str | None = None) -> list[str]:
        """Groups created without callbacks (existing WeCom data) → their chat ids."""
        answer = await self._post("groups/bulk", owners=owners,
                                  groups_per_owner=groups_per_owner,
                                  customers_per_group=customers_per_group,
                                  name_prefix=name_prefix)
        return list(answer["chat_ids"])

    async def join_group(self, config_id: str, *, external_userid: str | None = None,
                         name: str | None = None, capacity: int | None = None,
                         wait: bool = True, **fields: Any) -> dict[str, Any]:
        """A customer scans a group QR code (join way): the one named, else a new one
        called `name`; fields: any `add_customer` field, fire, mem_change_list.
        {"chat", "delivery", "create_delivery"}."""
        return dict(await self._post("groups/join", config_id=config_id,
                                     external_userid=external_userid, name=name,
                                     capacity=capacity, wait=wait, **fields))

    async def join_page(self, config_id: str) -> str:
        """The HTML page a phone opening a join way's qr_code URL sees."""
        return await self._page(f"join/{config_id}")

    async def tag_event(self, change_type: str, *, wait: bool = True,
                        **fields: Any) -> dict[str, Any]:
        """create {tag_type, name, tags | group_id, order}; update {tag_type, id, name,
        order}; delete {tag_type, id}; shuffle {id}; any: strategy_id.
        {"id", "tag_ids", "delivery"}."""
        return dict(await self._post("tags/event", change_type=change_type, wait=wait,
                                     **fields))

    async def raw_callback(self, xml: str, *, wait: bool = True) -> dict[str, Any]:
        return dict((await self._post("callbacks/raw", xml=xml, wait=wait))["delivery"])

    # -- deliveries --
    async def redeliver(self, delivery_id: int, *, wait: bool = True) -> dict[str, Any]:
        return dict((await self._post(f"deliveries/{delivery_id}/redeliver",
                                      wait=wait))["delivery"])

    async def deliveries(self) -> list[dict[str, Any]]:
        return list((await self._request("GET", "deliveries"))["deliveries"])

    async def verify_url(self) -> dict[str, Any]:
        """{"ok", "expected", "status", "body", "error", "latency_ms"}."""
        return dict(await self._post("verify_url"))

    async def welcome_messages(self, external_userid: str | None = None) -> list[dict[str, Any]]:
        """What send_welcome_msg delivered, oldest first: {userid, external_userid,
        welcome_code, text, attachments, at} (`at`: sandbox time)."""
        params = {"external_userid": external_userid} if external_userid else None
        answer = await self._request("GET", "welcome_messages", params=params)
        return list(answer["welcome_messages"])

    # -- group pushes (企业群发) and app messages --
    async def confirm_group_push(self, msgid: str,
                                 userid: str | None = None) -> dict[str, Any]:
        """The sender confirms a group push → the task."""
        return dict((await self._post("groupmsg/confirm", msgid=msgid,
                                      userid=userid))["task"])

    async def group_push_policy(self, *, auto: str | None = None, userid: str | None = None,
                                receive_limit: int | None = None) -> dict[str, Any]:
        """auto "confirm" | "ignore" for `userid` (else corp-wide); receive_limit per
        group and month (0: the days of the month) → {"default", "staff",
        "receive_limit", "receive_limit_now"}."""
        return dict(await self._post("groupmsg/policy", auto=auto, userid=userid,
                                     receive_limit=receive_limit))

    async def group_pushes(self, sender: str | None = None) -> list[dict[str, Any]]:
        """Every group push task, oldest first: {msgid, sender, chat_ids, chats: [{chat_id,
        status, send_time}], fail_list, text, attachments, status, send_time, reminders,
        cancelled, ...}."""
        params = {"sender": sender} if sender else None
        return list((await self._request("GET", "groupmsg", params=params))["tasks"])

    async def app_messages(self, userid: str | None = None) -> list[dict[str, Any]]:
        """What message/send delivered to staff, oldest first: {msgid, agentid, touser,
        invaliduser, msgtype, content, at}."""
        params = {"userid": userid} if userid else None
        answer = await self._request("GET", "app-messages", params=params)
        return list(answer["app_messages"])

    # -- the mini-program's WeChat users (console_miniapp.py) --
    async def miniapp_user(self, **fields: Any) -> dict[str, Any]:
        """Create (or, naming an existing `openid`, update) a WeChat user; fields:
        openid, unionid ("" for none; the same as a customer's links them), nickname,
        phone, blocked. → {openid, unionid, nickname, phone, blocked}."""
        return dict((await self._post("miniapp/users", **fields))["user"])

    async def miniapp_users(self) -> list[dict[str, Any]]:
        return list((await self._request("GET", "miniapp/users"))["users"])

    async def login_code(self, openid: str) -> str:
        """What wx.login gives the mini-program: a code for jscode2session (5 min, once)."""
        return str((await self._post("miniapp/login-code", openid=openid))["code"])

    async def phone_code(self, openid: str, phone: str | None = None,
                         country_code: str | None = None) -> str:
        """What the getPhoneNumber button gives: a code for getuserphonenumber
        answering `phone` (default the user's own), 5 min, once."""
        answer = await self._post("miniapp/phone-code", openid=openid, phone=phone,
                                  country_code=country_code)
        return str(answer["code"])

    async def invalidate_miniapp_tokens(self) -> int:
        return int((await self._post("miniapp/tokens/invalidate"))["invalidated"])

    # -- faults, time, logs --
    async def fault(self, api: str, errcode: int, count: int = 1) -> dict[str, Any]:
        return dict(await self._post("faults", api=api, errcode=errcode, count=count))

    async def latency(self, api: str, seconds: float) -> dict[str, Any]:
        return dict(await self._post("latency", api=api, seconds=seconds))

    async def invalidate_tokens(self) -> int:
        return int((await self._post("tokens/invalidate"))["invalidated"])

    async def advance_clock(self, seconds: float) -> float:
        """Returns the sandbox clock's new time."""
        return float((await self._post("clock/advance", seconds=seconds))["now"])

    async def calls(self, api: str | None = None) -> dict[str, Any]:
        """{"calls": [{api, at, errcode}], "counts": {api: n}, "total": n}."""
        params = {"api": api} if api is not None else None
        return dict(await self._request("GET", "calls", params=params))

    async def call_count(self, api: str) -> int:
        """How many calls of `api` the sandbox has answered."""
        return int((await self.calls(api))["counts"].get(api, 0))


@pytest.fixture
async def sandbox(settings: Settings) -> AsyncIterator[SandboxConsole]:
    runner = await start_sandbox(settings)
    try:
        async with aiohttp.ClientSession() as session:
            yield SandboxConsole(settings.sandbox.base_url, session)
    finally:
        await runner.cleanup()
