"""企业群发 group push tasks (add_msg_template with chat_type "group",
wecom-protocol.md §3.10), and the sandbox playing the senders who confirm them.

add_msg_template only records a task: nothing reaches a group until the sender (the
groups' owner) confirms it in the WeCom client. The console plays that
(`confirm`), or a policy per staff member (or corp-wide) confirms every new push at
once. On confirmation the sender's status becomes 2 (sent) and each group's 1 (sent),
or 3 when the group has already received its limit of confirmed pushes this natural
month (Asia/Shanghai, by the sandbox clock). The limit is corp-wide: as many as the
month has days by default (WeCom's current rule), or a number the console sets (4 per
month was the older rule). A cancelled task can no longer be confirmed.

Reminders are counted per task; at most 3 fit in any 24 hours.
"""

from __future__ import annotations

import calendar
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from bot.sandbox.errors import Conflict, lookup
from bot.sandbox.ids import new_id

NOT_SENT, SENT, OVER_LIMIT = 0, 1, 3  # get_groupmsg_send_result status
SENDER_WAITING, SENDER_SENT = 0, 2  # get_groupmsg_task status
AUTO_CONFIRM, AUTO_IGNORE = "confirm", "ignore"
POLICIES = (AUTO_CONFIRM, AUTO_IGNORE)
REMINDERS_PER_WINDOW = 3
REMINDER_WINDOW_SECONDS = 24 * 3600
MSGID_PREFIX = "msg"
# China has kept UTC+8 without daylight saving since 1991: a fixed offset is exact.
SHANGHAI = timezone(timedelta(hours=8))


@dataclass
class ChatSend:
    chat_id: str
    status: int = NOT_SENT
    send_time: int = 0


@dataclass
class GroupPush:
    msgid: str
    sender: str
    create_time: int
    text: str | None
    attachments: list[dict[str, Any]]
    chats: list[ChatSend]
    fail_list: list[str]
    status: int = SENDER_WAITING
    send_time: int = 0
    reminders: list[float] = field(default_factory=list)
    cancelled: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "msgid": self.msgid, "chat_type": "group", "sender": self.sender,
            "create_time": self.create_time, "text": self.text,
            "attachments": self.attachments,
            "chat_ids": [c.chat_id for c in self.chats],
            "chats": [asdict(c) for c in self.chats], "fail_list": list(self.fail_list),
            "status": self.status, "send_time": self.send_time,
            "reminders": len(self.reminders), "reminded_at": list(self.reminders),
            "cancelled": self.cancelled,
        }


def month_of(now: float) -> tuple[int, int]:
    """(year, month) of the sandbox time in Asia/Shanghai."""
    local = datetime.fromtimestamp(now, SHANGHAI)
    return local.year, local.month


class GroupPushes:
    """Tasks by msgid (creation order), the senders' policies and the receive limit."""

    def __init__(self) -> None:
        self.tasks: dict[str, GroupPush] = {}
        self.policies: dict[str, str] = {}
        self.default_policy = AUTO_IGNORE
        self.receive_limit: int | None = None
        # (chat_id, (year, month)) → confirmed pushes the group received that month.
        self._received: Counter[tuple[str, tuple[int, int]]] = Counter()

    def create(self, sender: str, chat_ids: list[str], fail_list: list[str],
               text: str | None, attachments: list[dict[str, Any]], now: float) -> GroupPush:
        """Record a task; confirm it at once when the sender's policy says so."""
        task = GroupPush(new_id(MSGID_PREFIX), sender, int(now), text, attachments,
                         [ChatSend(chat_id) for chat_id in chat_ids], fail_list)
        self.tasks[task.msgid] = task
        if self.policy_of(sender) == AUTO_CONFIRM:
            self.confirm(task, now)
        return task

    def require(self, msgid: str) -> GroupPush:
        return lookup(self.tasks, msgid, "group push")

    def policy_of(self, userid: str) -> str:
        return self.policies.get(userid, self.default_policy)

    def set_policy(self, userid: str | None, policy: str) -> None:
        """`userid` None sets the corp-wide default (and drops per-staff choices)."""
        if userid is None:
            self.default_policy = policy
            self.policies.clear()
        else:
            self.policies[userid] = policy

    def limit_at(self, now: float) -> int:
        """Pushes a group may receive in the month of `now`."""
        if self.receive_limit is not None:
            return self.receive_limit
        year, month = month_of(now)
        return calendar.monthrange(year, month)[1]

    def confirm(self, task: GroupPush, now: float) -> None:
        """The sender sends the push: each group gets it unless over its monthly limit."""
        if task.cancelled:
            raise Conflict(f"group push {task.msgid!r} was cancelled")
        if task.status == SENDER_SENT:
            raise Conflict(f"group push {task.msgid!r} was already confirmed")
        month, limit = month_of(now), self.limit_at(now)
        for chat in task.chats:
            key = (chat.chat_id, month)
            if self._received[key] >= limit:
                chat.status = OVER_LIMIT
            else:
                self._received[key] += 1
                chat.status, chat.send_time = SENT, int(now)
        task.status, task.send_time = SENDER_SENT, int(now)

    def remind(self, task: GroupPush, now: float) -> bool:
        """Count a reminder; False (nothing counted) when 3 were sent in the last 24 h."""
        recent = [at for at in task.reminders if now - at < REMINDER_WINDOW_SECONDS]
        if len(recent) >= REMINDERS_PER_WINDOW:
            return False
        task.reminders.append(now)
        return True

    def policy_json(self, now: float) -> dict[str, Any]:
        return {"default": self.default_policy, "staff": dict(self.policies),
                "receive_limit": self.receive_limit, "receive_limit_now": self.limit_at(now)}

    def __len__(self) -> int:
        return len(self.tasks)
