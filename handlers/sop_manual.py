"""When a group push cannot be automated, hand it to the owner: an app message (应用消息)
with the content to send by hand and the groups to send it to, and the tasks marked
`manual` with why.

Which WeCom answers mean "cannot be automated": the app may not call the mass-message
API (48002, 84074), the owner is not activated or outside the app's range (41054,
60011, 40003), or WeCom will not take the attachments (41064, 41065). Waiting changes
none of these, but the owner can still send the message in the WeCom client.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from handlers.sop_claim import settle
from models.sop import SopTask, TaskStatus

if TYPE_CHECKING:
    from bot.wecom import WeComClient

__all__ = ["MANUAL_ERRCODES", "hand_over", "manual_text", "describe_attachment"]

log = logging.getLogger("scrm.sop")

MANUAL_ERRCODES = frozenset({48002, 84074, 41054, 60011, 40003, 41064, 41065})
NAMES_SHOWN = 20


def describe_attachment(attachment: Mapping[str, Any]) -> str:
    """One line a person can act on: kind, title and where it points."""
    kind = str(attachment.get("msgtype", "attachment"))
    body = attachment.get(kind)
    body = body if isinstance(body, Mapping) else {}
    label = {"image": "图片", "link": "链接", "miniprogram": "小程序", "video": "视频",
             "file": "文件"}.get(kind, kind)
    parts = [str(body[key]) for key in ("title", "url", "appid", "page", "pic_url", "picurl",
                                        "media_id") if body.get(key)]
    return f"{label}：{' '.join(parts) or '（见运营后台）'}"


def manual_text(plan_name: str, text: str, attachments: Sequence[Mapping[str, Any]],
                group_names: Sequence[str], reason: str) -> str:
    shown = "、".join(group_names[:NAMES_SHOWN])
    if len(group_names) > NAMES_SHOWN:
        shown += f" 等 {len(group_names)} 个群"
    lines = [f"【群 SOP 需手动发送】{plan_name}",
             f"请在这些群里手动发送以下内容：{shown}", "——", text or "（无文字）"]
    if attachments:
        lines.append("——附件：")
        lines += [f"{i}. {describe_attachment(a)}" for i, a in enumerate(attachments, 1)]
    lines.append(f"（无法自动群发：{reason}）")
    return "\n".join(lines)


async def hand_over(wecom: WeComClient, *, owner: str, plan_name: str, text: str,
                    attachments: Sequence[Mapping[str, Any]], tasks: Sequence[SopTask],
                    group_names: Sequence[str], reason: str, now: datetime) -> None:
    """Tell `owner` to send the content by hand, and mark `tasks` manual (error: why,
    and whether the owner could be told)."""
    from bot.wecom import WeComError, WeComUnavailable

    app = wecom.app_message
    if not app.configured:
        told = ("app messages are not configured (wecom.agent_id/agent_secret): the owner "
                "was not told")
    else:
        body = manual_text(plan_name, text, attachments, group_names, reason)
        try:
            unreachable = await app.send_text([owner], body)
        except (WeComError, WeComUnavailable) as exc:
            told = f"the app message to the owner failed too ({exc})"
        else:
            told = (f"the app message could not reach {owner}" if owner in unreachable
                    else f"sent to {owner} by app message, to send by hand")
    error = f"{reason}; {told}"
    await settle([t.id for t in tasks], TaskStatus.MANUAL, now, error)
    log.warning("sop.manual owner=%s tasks=%d reason=%s told=%s", owner, len(tasks), reason,
                told)
