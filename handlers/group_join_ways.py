"""Group QR codes (加入群聊 join ways): each a groupchat join way with its own `state`.

Creating, changing and deleting one calls add_join_way, update_join_way and
del_join_way. Everything is checked first (1 to 5 active groups we hold, a unique state
of at most 30 characters, tags the mirror knows), so bad input never reaches WeCom.
WeCom and the local row stay consistent: WeCom is written first, and a local write that
fails afterwards is undone in WeCom. Customers who join with the way's state are
attributed and tagged by handlers.group_joins.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from handlers.channels import MAX_STATE_CHARS, new_state
from handlers.input_error import GroupInputError
from models.groups import GroupChat, GroupJoinWay, GroupStatus
from models.tags import Tag

if TYPE_CHECKING:
    from bot.wecom import WeComClient
    from bot.wecom.group_chat import JoinWay

log = logging.getLogger("scrm.groups")

MAX_NAME_CHARS = 64
MAX_REMARK_CHARS = 30
MAX_ROOM_BASE_NAME_CHARS = 40
UNKNOWN_CONFIG = 41044  # del_join_way: no such config_id (deleted elsewhere)


class StateTaken(Exception):
    """Another join way has this state already."""


@dataclass
class JoinWaySpec:
    name: str
    chat_ids: list[str]
    state: str = ""
    remark: str = ""
    auto_create_room: bool = True
    room_base_name: str = ""
    room_base_id: int | None = None
    tag_ids: list[str] = field(default_factory=list)

    def way(self) -> JoinWay:
        from bot.wecom.group_chat import JoinWay

        return JoinWay(chat_ids=self.chat_ids, state=self.state,
                       remark=self.remark or self.name[:MAX_REMARK_CHARS],
                       auto_create_room=self.auto_create_room,
                       room_base_name=self.room_base_name, room_base_id=self.room_base_id)


def spec_of(row: GroupJoinWay) -> JoinWaySpec:
    """The editable fields of a stored way, to apply a partial change to."""
    return JoinWaySpec(
        name=row.name, chat_ids=list(row.chat_ids), state=row.state, remark=row.remark,
        auto_create_room=row.auto_create_room, room_base_name=row.room_base_name,
        room_base_id=row.room_base_id, tag_ids=list(row.tag_ids),
    )


def _check_length(name: str, value: str, limit: int, *, required: bool = False) -> None:
    if len(value) > limit or (required and not value.strip()):
        raise GroupInputError(name, f"{1 if required else 0}-{limit} characters")


async def _validate(spec: JoinWaySpec) -> None:
    from bot.wecom.group_chat import JOIN_WAY_MAX_CHATS

    _check_length("name", spec.name, MAX_NAME_CHARS, required=True)
    _check_length("state", spec.state, MAX_STATE_CHARS)
    _check_length("remark", spec.remark, MAX_REMARK_CHARS)
    _check_length("room_base_name", spec.room_base_name, MAX_ROOM_BASE_NAME_CHARS)
    if spec.room_base_id is not None and spec.room_base_id < 0:
        raise GroupInputError("room_base_id", "must be >= 0")
    chat_ids = list(dict.fromkeys(spec.chat_ids))
    if not 1 <= len(chat_ids) <= JOIN_WAY_MAX_CHATS:
        raise GroupInputError("chat_ids", f"1 to {JOIN_WAY_MAX_CHATS} groups")
    active = set(await GroupChat.filter(chat_id__in=chat_ids, status=GroupStatus.ACTIVE)
                 .values_list("chat_id", flat=True))
    unknown = [c for c in chat_ids if c not in active]
    if unknown:
        raise GroupInputError("chat_ids", f"not active groups we hold: {', '.join(unknown)}")
    spec.chat_ids = chat_ids
    spec.tag_ids = list(dict.fromkeys(spec.tag_ids))
    known = set(await Tag.filter(tag_id__in=spec.tag_ids).values_list("tag_id", flat=True))
    missing = [t for t in spec.tag_ids if t not in known]
    if missing:
        raise GroupInputError("tag_ids", f"unknown corp tags: {', '.join(missing)}")


async def create_join_way(spec: JoinWaySpec, wecom: WeComClient) -> GroupJoinWay:
    await _validate(spec)
    spec = replace(spec, state=spec.state or new_state("gj"))
    if await GroupJoinWay.filter(state=spec.state).exists():
        raise StateTaken(f"state {spec.state!r} is taken")
    config_id = await wecom.group_chat.add_join_way(spec.way())
    try:
        info = await wecom.group_chat.get_join_way(config_id)
        row = await GroupJoinWay.create(
            config_id=config_id, name=spec.name, state=spec.state, remark=spec.remark,
            auto_create_room=spec.auto_create_room, room_base_name=spec.room_base_name,
            room_base_id=spec.room_base_id, chat_ids=spec.chat_ids, qr_code=info.qr_code,
            tag_ids=spec.tag_ids,
        )
    except Exception:
        # Not stored: remove the way too, or it would live on in WeCom unowned.
        await wecom.group_chat.del_join_way(config_id)
        raise
    log.info("group.join_way_created config_id=%s state=%s chats=%s",
             config_id, spec.state, ",".join(spec.chat_ids))
    return row


async def update_join_way(row: GroupJoinWay, spec: JoinWaySpec,
                          wecom: WeComClient) -> GroupJoinWay:
    if spec.state != row.state:
        raise GroupInputError("state", "a join way's state never changes (joins carry it)")
    await _validate(spec)
    before = spec_of(row)
    if spec.way() != before.way():
        await wecom.group_chat.update_join_way(row.config_id, spec.way())
    row.update_from_dict({
        "name": spec.name, "remark": spec.remark, "auto_create_room": spec.auto_create_room,
        "room_base_name": spec.room_base_name, "room_base_id": spec.room_base_id,
        "chat_ids": spec.chat_ids, "tag_ids": spec.tag_ids,
    })
    try:
        await row.save()
    except Exception:
        if spec.way() != before.way():
            await wecom.group_chat.update_join_way(row.config_id, before.way())
        raise
    log.info("group.join_way_updated config_id=%s", row.config_id)
    return row


async def delete_join_way(row: GroupJoinWay, wecom: WeComClient) -> None:
    """Delete the way in WeCom and here; the joins it brought stay recorded."""
    from bot.wecom import WeComError

    try:
        await wecom.group_chat.del_join_way(row.config_id)
    except WeComError as exc:
        if exc.errcode != UNKNOWN_CONFIG:
            raise
        log.warning("group.join_way_gone config_id=%s: already deleted in WeCom",
                    row.config_id)
    await row.delete()
    log.info("group.join_way_deleted config_id=%s", row.config_id)
