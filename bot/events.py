"""WeCom customer-contact events, registered in wechatpy's enterprise event registry.

One class per `Event` (wecom-protocol.md §2): `change_external_contact`,
`change_external_chat`, `change_external_tag`, with every ChangeType's fields. Handlers
dispatch on `Event` + `ChangeType`, never on ChangeType alone (chat and tag events share
bare values such as `create`).
"""

from __future__ import annotations

from typing import Any

from wechatpy.enterprise import parse_message as _wechatpy_parse
from wechatpy.enterprise.events import register_event
from wechatpy.events import BaseEvent
from wechatpy.fields import IntegerField, StringField
from wechatpy.messages import BaseMessage

from bot.crypto import parse_xml

__all__ = [
    "ExternalContactChange",
    "ExternalChatChange",
    "ExternalTagChange",
    "parse_event",
    "event_key",
]


def member_list(value: Any) -> list[str]:
    """`MemChangeList`: `<Item>` children now, a comma-separated CDATA string before."""
    if value is None:
        return []
    if isinstance(value, dict):
        items = value.get("Item", [])
        items = items if isinstance(items, list) else [items]
        return [str(i).strip() for i in items if i is not None and str(i).strip()]
    return [part.strip() for part in str(value).split(",") if part.strip()]


class OptionalIntegerField(IntegerField):
    """An integer that may be absent or empty (`<StrategyId></StrategyId>`)."""

    def __init__(self, name: str) -> None:
        super().__init__(name, None)

    @staticmethod
    def converter(value: Any) -> int | None:
        if value is None or str(value).strip() == "":
            return None
        return int(str(value).strip())


class _CorpEvent(BaseEvent):
    """Fields of the self-built app envelope shared by the three events."""

    to_user = StringField("ToUserName")
    create_time = IntegerField("CreateTime", 0)
    change_type = StringField("ChangeType")


@register_event("change_external_contact")
class ExternalContactChange(_CorpEvent):
    """`change_external_contact`: add/edit/add_half/del/del_follow_user/transfer_fail/
    msg_audit_approved."""

    event = "change_external_contact"
    user_id = StringField("UserID")
    external_user_id = StringField("ExternalUserID")
    state = StringField("State")
    welcome_code = StringField("WelcomeCode")
    del_source = StringField("Source")
    fail_reason = StringField("FailReason")


@register_event("change_external_chat")
class ExternalChatChange(_CorpEvent):
    """`change_external_chat`: create/update/dismiss of a customer group."""

    event = "change_external_chat"
    chat_id = StringField("ChatId")
    update_detail = StringField("UpdateDetail")
    join_scene = OptionalIntegerField("JoinScene")
    quit_scene = OptionalIntegerField("QuitScene")
    mem_change_cnt = OptionalIntegerField("MemChangeCnt")
    last_mem_ver = StringField("LastMemVer")
    cur_mem_ver = StringField("CurMemVer")

    @property
    def mem_change_list(self) -> list[str]:
        return member_list(self._data.get("MemChangeList"))


@register_event("change_external_tag")
class ExternalTagChange(_CorpEvent):
    """`change_external_tag`: create/update/delete/shuffle of a tag or tag group."""

    event = "change_external_tag"
    id = StringField("Id")
    tag_type = StringField("TagType")
    strategy_id = OptionalIntegerField("StrategyId")


def parse_event(xml: str) -> BaseMessage:
    """Parse decrypted callback XML with wechatpy; unknown events come back as
    wechatpy's UnknownMessage. The XML is screened for DTDs first."""
    parse_xml(xml)
    return _wechatpy_parse(xml)


def event_key(root_fields: dict[str, str]) -> tuple[str, str]:
    """The dispatch key (`Event`, `ChangeType`), or (`MsgType`, "") for plain messages."""
    msg_type = root_fields.get("MsgType", "").lower()
    if msg_type == "event":
        return root_fields.get("Event", "").lower(), root_fields.get("ChangeType", "")
    return msg_type, ""
