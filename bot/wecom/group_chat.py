"""客户群 (customer group) APIs: the group list and details, and the group QR codes
(「加入群聊」 join ways) (wecom-protocol.md §3.8, §3.9).

All of them need the customer-contact secret. A join way links at most 5 groups
(41091 beyond); its `state` comes back as the member's `state` in groupchat/get and
names the join way a customer came through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.wecom.transport import ApiArea

__all__ = [
    "GroupChat",
    "GroupChatDetail",
    "GroupChatPage",
    "GroupMemberInfo",
    "JoinWay",
    "JoinWayInfo",
    "LIST_MAX_LIMIT",
    "LIST_MAX_OWNERS",
    "JOIN_WAY_MAX_CHATS",
]

LIST_MAX_LIMIT = 1000
LIST_MAX_OWNERS = 100
JOIN_WAY_MAX_CHATS = 5
QR_CODE_SCENE = 2


@dataclass(frozen=True)
class GroupChatPage:
    """One page of groupchat/list: (chat_id, status) pairs; `status` 0 normal, 1 owner
    left, 2 inheriting, 3 inherited. `next_cursor` is "" on the last page."""

    chats: tuple[tuple[str, int], ...]
    next_cursor: str


@dataclass(frozen=True)
class GroupMemberInfo:
    """`member_list[]` of groupchat/get. `type`: 1 corp member, 2 external contact;
    `join_scene`: 1 direct invite, 2 invite link, 3 group QR code."""

    userid: str
    type: int
    join_time: int
    join_scene: int
    state: str
    unionid: str
    invitor: str
    group_nickname: str
    name: str

    @classmethod
    def from_wecom(cls, data: dict[str, Any]) -> GroupMemberInfo:
        return cls(
            userid=str(data.get("userid", "")),
            type=int(data.get("type") or 0),
            join_time=int(data.get("join_time") or 0),
            join_scene=int(data.get("join_scene") or 0),
            state=str(data.get("state", "")),
            unionid=str(data.get("unionid", "")),
            invitor=str((data.get("invitor") or {}).get("userid", "")),
            group_nickname=str(data.get("group_nickname", "")),
            name=str(data.get("name", "")),
        )


@dataclass(frozen=True)
class GroupChatDetail:
    """groupchat/get `group_chat`."""

    chat_id: str
    name: str
    owner: str
    create_time: int
    notice: str
    members: tuple[GroupMemberInfo, ...]
    admins: tuple[str, ...]
    member_version: str

    @classmethod
    def from_wecom(cls, data: dict[str, Any]) -> GroupChatDetail:
        return cls(
            chat_id=str(data.get("chat_id", "")),
            name=str(data.get("name", "")),
            owner=str(data.get("owner", "")),
            create_time=int(data.get("create_time") or 0),
            notice=str(data.get("notice", "")),
            members=tuple(GroupMemberInfo.from_wecom(m) for m in data.get("member_list") or ()),
            admins=tuple(str(a.get("userid", "")) for a in data.get("admin_list") or ()),
            member_version=str(data.get("member_version", "")),
        )


@dataclass(frozen=True)
class JoinWayInfo:
    """groupchat/get_join_way `join_way`."""

    config_id: str
    scene: int
    remark: str
    auto_create_room: bool
    room_base_name: str
    room_base_id: int
    chat_ids: tuple[str, ...]
    qr_code: str
    state: str

    @classmethod
    def from_wecom(cls, data: dict[str, Any]) -> JoinWayInfo:
        return cls(
            config_id=str(data.get("config_id", "")),
            scene=int(data.get("scene") or 0),
            remark=str(data.get("remark", "")),
            auto_create_room=bool(data.get("auto_create_room", 1)),
            room_base_name=str(data.get("room_base_name", "")),
            room_base_id=int(data.get("room_base_id") or 0),
            chat_ids=tuple(str(c) for c in data.get("chat_id_list") or ()),
            qr_code=str(data.get("qr_code", "")),
            state=str(data.get("state", "")),
        )


@dataclass(frozen=True)
class JoinWay:
    """What a join way is asked to be; `chat_ids`: 1 to 5 groups."""

    chat_ids: Sequence[str]
    state: str = ""
    remark: str = ""
    auto_create_room: bool = True
    room_base_name: str = ""
    room_base_id: int | None = None

    def body(self) -> dict[str, Any]:
        if not 1 <= len(self.chat_ids) <= JOIN_WAY_MAX_CHATS:
            raise ValueError(f"chat_ids: 1 to {JOIN_WAY_MAX_CHATS} groups")
        body: dict[str, Any] = {
            "scene": QR_CODE_SCENE,
            "auto_create_room": int(self.auto_create_room),
            "chat_id_list": list(self.chat_ids),
            "state": self.state,
            "remark": self.remark,
        }
        if self.room_base_name:
            body["room_base_name"] = self.room_base_name
        if self.room_base_id is not None:
            body["room_base_id"] = self.room_base_id
        return body


class GroupChat(ApiArea):
    """客户群 APIs. Every method needs the customer-contact secret."""

    async def list(
        self, *, owners: Sequence[str] = (), cursor: str = "", limit: int = LIST_MAX_LIMIT,
        status_filter: int = 0,
    ) -> GroupChatPage:
        """One page of the groups owned by `owners` (≤ 100; none = every owner in the
        app's range, 81017 past 1,000 people). `status_filter`: 0 all, 1 owner left,
        2 inheriting, 3 inherited.

        WeCom doc: /document/path/92120 (获取客户群列表; wecom-protocol.md §3.8),
        `POST externalcontact/groupchat/list`. Secret: customer contact.
        """
        if len(owners) > LIST_MAX_OWNERS:
            raise ValueError(f"owners: at most {LIST_MAX_OWNERS}")
        body: dict[str, Any] = {"status_filter": status_filter, "cursor": cursor,
                                "limit": limit}
        if owners:
            body["owner_filter"] = {"userid_list": list(owners)}
        data = await self._post("externalcontact/groupchat/list", body)
        chats = tuple((str(c.get("chat_id", "")), int(c.get("status") or 0))
                      for c in data.get("group_chat_list") or ())
        return GroupChatPage(chats=chats, next_cursor=str(data.get("next_cursor") or ""))

    async def get(self, chat_id: str) -> GroupChatDetail:
        """A group with its members (names included) and admins.

        WeCom doc: /document/path/92122 (获取客户群详情; wecom-protocol.md §3.8),
        `POST externalcontact/groupchat/get`. Secret: customer contact. A group that is
        not (or no longer) a customer group raises `WeComError` 90501.
        """
        data = await self._post("externalcontact/groupchat/get",
                                {"chat_id": chat_id, "need_name": 1})
        return GroupChatDetail.from_wecom(data.get("group_chat") or {})

    async def add_join_way(self, way: JoinWay) -> str:
        """A group QR code for `way`; returns its config_id (keep it: only it can
        change or delete the way).

        WeCom doc: /document/path/92229 (配置客户群进群方式; wecom-protocol.md §3.9),
        `POST externalcontact/groupchat/add_join_way`. Secret: customer contact.
        """
        data = await self._post("externalcontact/groupchat/add_join_way", way.body())
        return str(data.get("config_id", ""))

    async def get_join_way(self, config_id: str) -> JoinWayInfo:
        """WeCom doc: /document/path/92229 (获取客户群进群方式配置),
        `POST externalcontact/groupchat/get_join_way`. Secret: customer contact."""
        data = await self._post("externalcontact/groupchat/get_join_way",
                                {"config_id": config_id})
        return JoinWayInfo.from_wecom(data.get("join_way") or {})

    async def update_join_way(self, config_id: str, way: JoinWay) -> None:
        """Overwrite the way with `way` (every field, as WeCom does).

        WeCom doc: /document/path/92229 (更新客户群进群方式配置),
        `POST externalcontact/groupchat/update_join_way`. Secret: customer contact.
        """
        await self._post("externalcontact/groupchat/update_join_way",
                         {"config_id": config_id, **way.body()})

    async def del_join_way(self, config_id: str) -> None:
        """WeCom doc: /document/path/92229 (删除客户群进群方式配置),
        `POST externalcontact/groupchat/del_join_way`. Secret: customer contact."""
        await self._post("externalcontact/groupchat/del_join_way", {"config_id": config_id})
