"""企业群发 (mass messaging) to customer groups: create a group push task, read who
confirmed and what each group got, remind the sender (wecom-protocol.md §3.10).

add_msg_template only creates a task: nothing reaches a group until the sender (the
group's owner) confirms it in the WeCom client. The record APIs may answer 41063
right after the task was created ("being dispatched"): ask again later.
All of them need the customer-contact secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.wecom.transport import ApiArea

__all__ = [
    "MsgTemplate",
    "GroupPushCreated",
    "SenderStatus",
    "GroupSendResult",
    "MAX_CHAT_IDS",
    "MAX_ATTACHMENTS",
    "MAX_TEXT_BYTES",
    "SENDER_SENT",
    "RESULT_NOT_SENT",
    "RESULT_SENT",
    "RESULT_NOT_FRIEND",
    "RESULT_LIMIT",
]

MAX_CHAT_IDS = 2000
MAX_ATTACHMENTS = 9
MAX_TEXT_BYTES = 4000
TASK_PAGE = 1000
RESULT_PAGE = 1000
SENDER_SENT = 2  # get_groupmsg_task status: 0 not sent, 2 sent
# get_groupmsg_send_result status: 0 not sent, 1 sent, 2 not a friend, 3 receive limit.
RESULT_NOT_SENT, RESULT_SENT, RESULT_NOT_FRIEND, RESULT_LIMIT = 0, 1, 2, 3


@dataclass(frozen=True)
class GroupPushCreated:
    msgid: str
    fail_list: tuple[str, ...]  # chat ids WeCom refused outright


@dataclass(frozen=True)
class SenderStatus:
    """get_groupmsg_task `task_list[]`: `status` 0 not sent, 2 sent (confirmed)."""

    userid: str
    status: int
    send_time: int


@dataclass(frozen=True)
class GroupSendResult:
    """get_groupmsg_send_result `send_list[]` for a group push."""

    chat_id: str
    userid: str
    status: int
    send_time: int


class MsgTemplate(ApiArea):
    """企业群发 APIs. Every method needs the customer-contact secret."""

    async def add_group_push(
        self, *, sender: str, chat_ids: Sequence[str], text: str,
        attachments: Sequence[dict[str, Any]] = (),
    ) -> GroupPushCreated:
        """A group push task from `sender` (the groups' owner) to `chat_ids` (≤ 2,000):
        `text` ≤ 4,000 bytes and ≤ 9 attachments (image, link, miniprogram …, shaped
        as in send_welcome_msg).

        WeCom doc: /document/path/92135 (创建企业群发; wecom-protocol.md §3.10),
        `POST externalcontact/add_msg_template` with chat_type `group`.
        Secret: customer contact.
        """
        if not 1 <= len(chat_ids) <= MAX_CHAT_IDS:
            raise ValueError(f"chat_ids: 1 to {MAX_CHAT_IDS} groups")
        if len(attachments) > MAX_ATTACHMENTS:
            raise ValueError(f"attachments: at most {MAX_ATTACHMENTS}")
        if len(text.encode()) > MAX_TEXT_BYTES:
            raise ValueError(f"text: at most {MAX_TEXT_BYTES} bytes")
        body: dict[str, Any] = {"chat_type": "group", "sender": sender,
                                "chat_id_list": list(chat_ids)}
        if text:
            body["text"] = {"content": text}
        if attachments:
            body["attachments"] = list(attachments)
        data = await self._post("externalcontact/add_msg_template", body)
        return GroupPushCreated(msgid=str(data.get("msgid", "")),
                                fail_list=tuple(str(c) for c in data.get("fail_list") or ()))

    async def get_task(self, msgid: str) -> list[SenderStatus]:
        """Every sender of the push and whether they confirmed it (all pages).

        WeCom doc: /document/path/93338 (获取群发成员发送任务列表; wecom-protocol.md
        §3.10), `POST externalcontact/get_groupmsg_task`. Secret: customer contact.
        """
        senders: list[SenderStatus] = []
        cursor = ""
        while True:
            data = await self._post("externalcontact/get_groupmsg_task",
                                    {"msgid": msgid, "limit": TASK_PAGE, "cursor": cursor})
            senders.extend(
                SenderStatus(userid=str(t.get("userid", "")), status=int(t.get("status") or 0),
                             send_time=int(t.get("send_time") or 0))
                for t in data.get("task_list") or ())
            cursor = str(data.get("next_cursor") or "")
            if not cursor:
                return senders

    async def get_send_result(self, msgid: str, userid: str) -> list[GroupSendResult]:
        """What each group of `userid`'s part of the push got (all pages).

        WeCom doc: /document/path/93338 (获取企业群发成员执行结果; wecom-protocol.md
        §3.10), `POST externalcontact/get_groupmsg_send_result`. Secret: customer
        contact.
        """
        results: list[GroupSendResult] = []
        cursor = ""
        while True:
            data = await self._post(
                "externalcontact/get_groupmsg_send_result",
                {"msgid": msgid, "userid": userid, "limit": RESULT_PAGE, "cursor": cursor})
            results.extend(
                GroupSendResult(chat_id=str(r.get("chat_id", "")),
                                userid=str(r.get("userid", "")),
                                status=int(r.get("status") or 0),
                                send_time=int(r.get("send_time") or 0))
                for r in data.get("send_list") or ())
            cursor = str(data.get("next_cursor") or "")
            if not cursor:
                return results

    async def remind(self, msgid: str) -> None:
        """Remind the senders who have not confirmed; WeCom allows 3 reminders per
        task in 24 h (41094 past that).

        WeCom doc: /document/path/97610 (提醒成员群发),
        `POST externalcontact/remind_groupmsg_send`. Secret: customer contact.
        """
        await self._post("externalcontact/remind_groupmsg_send", {"msgid": msgid})

    async def cancel(self, msgid: str) -> None:
        """Stop a push the senders have not confirmed (41093: cancelled already).

        WeCom doc: /document/path/97611 (停止企业群发),
        `POST externalcontact/cancel_groupmsg_send`. Secret: customer contact.
        """
        await self._post("externalcontact/cancel_groupmsg_send", {"msgid": msgid})
