"""WeCom API: the welcome message for a new contact,
`POST externalcontact/send_welcome_msg` (wecom-protocol.md §3.7).

Body {welcome_code, text?: {content}, attachments?: [{msgtype, <msgtype>: {...}}]}:
- the code: missing 41049; unknown, or 20 s old by the sandbox clock 41050; already
  used, or for a relation that already chatted (a delivered welcome counts) 41051;
- text.content at most 4000 bytes (45002); neither text nor attachments 44004;
- at most 9 attachments (41064) of msgtype image, link, miniprogram, video or file
  (41065); image needs media_id or pic_url, link a title (≤ 128 bytes) and url (desc ≤
  512 bytes), miniprogram a title (≤ 64 bytes), pic_media_id, appid and page, video
  and file a media_id (40058 otherwise; the sandbox's choice of code).

A refused call leaves the code unused, so a retry within its 20 s can still succeed
(e.g. after an injected 41096). Every delivered message is recorded with the sandbox
time (console `GET /sandbox/welcome_messages`).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.sandbox.api import ApiCall, route
from bot.sandbox.api_body import items, obj, text, within_bytes
from bot.sandbox.errors import (
    CONTENT_TOO_LONG,
    EMPTY_CONTENT,
    INVALID_ATTACHMENT_TYPE,
    INVALID_PARAMETER,
    TOO_MANY_ATTACHMENTS,
    WELCOME_ALREADY_SENT,
    ApiError,
)
from bot.sandbox.messages import WelcomeMessage

MAX_TEXT_BYTES = 4000
MAX_ATTACHMENTS = 9
REQUIRED_FIELDS = {
    "image": (),  # media_id or pic_url, checked below
    "link": ("title", "url"),
    "miniprogram": ("title", "pic_media_id", "appid", "page"),
    "video": ("media_id",),
    "file": ("media_id",),
}
MAX_FIELD_BYTES = {"link": {"title": 128, "desc": 512}, "miniprogram": {"title": 64}}


def attachment(raw: dict[str, Any]) -> dict[str, Any]:
    """One checked attachment, as it will be recorded."""
    msgtype = text(raw, "msgtype")
    if msgtype not in REQUIRED_FIELDS:
        raise ApiError(INVALID_ATTACHMENT_TYPE)
    content = obj(raw, msgtype)
    present = {name for name in content if text(content, name)}
    if not present.issuperset(REQUIRED_FIELDS[msgtype]) or (
            msgtype == "image" and not present & {"media_id", "pic_url"}):
        raise ApiError(INVALID_PARAMETER)
    for name, max_bytes in MAX_FIELD_BYTES.get(msgtype, {}).items():
        within_bytes(text(content, name), max_bytes)
    return {"msgtype": msgtype, msgtype: content}


def send_welcome_msg(call: ApiCall) -> dict[str, Any]:
    code = call.state.welcome_codes.check(text(call.body, "welcome_code"), call.now)
    relation = call.state.contacts.relation(code.userid, code.external_userid)
    if relation is None or relation.chatted:
        raise ApiError(WELCOME_ALREADY_SENT)
    content: str | None = None
    if "text" in call.body:
        content = within_bytes(text(obj(call.body, "text"), "content"), MAX_TEXT_BYTES,
                               CONTENT_TOO_LONG)
    raw_attachments = items(call.body, "attachments", dict)
    if len(raw_attachments) > MAX_ATTACHMENTS:
        raise ApiError(TOO_MANY_ATTACHMENTS)
    attachments = [attachment(raw) for raw in raw_attachments]
    if not content and not attachments:
        raise ApiError(EMPTY_CONTENT)
    code.used = relation.chatted = True
    call.state.messages.record_welcome(WelcomeMessage(
        userid=code.userid, external_userid=code.external_userid, welcome_code=code.code,
        text=content, attachments=attachments, at=call.now,
    ))
    return {}


def routes() -> list[web.RouteDef]:
    return [route("POST", "externalcontact/send_welcome_msg", send_welcome_msg)]
