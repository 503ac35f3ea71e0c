"""Customer groups (客户群): owner, name, notice, admins, members and the member-list
version, as groupchat/get answers them (wecom-protocol.md §3.8).

A member is staff (type 1) or a customer (type 2, decided by the id's `wm`/`wo`
prefix), with when and how it joined: `join_scene` 1 direct invite, 2 invite link,
3 group QR code, the join way's `state`, the inviting staff member, and for customers
the unionid the corp knows. `member_version` changes on every join or leave;
change_external_chat events carry the versions before and after (LastMemVer/CurMemVer)
so a backend can spot lost callbacks.

A dismissed group is kept (so its id stays known) but leaves every listing; the API
answers 90501 for it and the console refuses to change it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.sandbox.contacts import Contacts
from bot.sandbox.errors import Conflict, NotFound
from bot.sandbox.ids import GROUP_CHAT, is_external_userid, new_id

STAFF_MEMBER, CUSTOMER_MEMBER = 1, 2
JOIN_DIRECT_INVITE, JOIN_INVITE_LINK, JOIN_QR_CODE = 1, 2, 3
# change_external_chat's JoinScene says 0 for any invitation by a member; groupchat/get
# tells a direct invite (1) from an invite link (2) and reports the former.
EVENT_JOIN_INVITED = 0
STATUS_NORMAL = 0


def new_member_version() -> str:
    return secrets.token_hex(16)


def member_join_scene(event_join_scene: int) -> int:
    """The member's `join_scene` for a join the event reports with `event_join_scene`."""
    return JOIN_DIRECT_INVITE if event_join_scene == EVENT_JOIN_INVITED else event_join_scene


@dataclass
class GroupMember:
    userid: str
    type: int
    join_time: int
    join_scene: int = JOIN_DIRECT_INVITE
    state: str = ""
    unionid: str = ""
    invitor: str = ""
    group_nickname: str = ""
    name: str = ""


def new_member(contacts: Contacts, userid: str, join_time: int, *,
               join_scene: int = JOIN_DIRECT_INVITE, state: str = "",
               invitor: str = "") -> GroupMember:
    """A member joining now: staff or customer by the id, named (and, for a WeChat
    customer, with the unionid) as the corp knows them."""
    if is_external_userid(userid):
        customer = contacts.customers.get(userid)
        return GroupMember(userid, CUSTOMER_MEMBER, join_time, join_scene, state,
                           unionid=customer.unionid if customer else "", invitor=invitor,
                           name=customer.name if customer else "")
    staff = contacts.staff.get(userid)
    return GroupMember(userid, STAFF_MEMBER, join_time, join_scene, state, invitor=invitor,
                       name=staff.name if staff else "")


@dataclass
class GroupChat:
    chat_id: str
    owner: str
    name: str
    create_time: int
    notice: str = ""
    members: dict[str, GroupMember] = field(default_factory=dict)
    admins: list[str] = field(default_factory=list)
    member_version: str = field(default_factory=new_member_version)
    status: int = STATUS_NORMAL
    dismissed: bool = False

    def to_json(self) -> dict[str, Any]:
        """The console's view: `members` the userids in join order, `member_list` the
        full records."""
        return {
            "chat_id": self.chat_id, "owner": self.owner, "name": self.name,
            "create_time": self.create_time, "notice": self.notice,
            "members": list(self.members),
            "member_list": [asdict(m) for m in self.members.values()],
            "admins": list(self.admins), "member_version": self.member_version,
            "status": self.status, "dismissed": self.dismissed,
        }


@dataclass(frozen=True)
class MemberChange:
    """What a join or leave changed, as the event reports it."""

    changed: list[str]
    last_version: str
    current_version: str


class GroupChats:
    """Every group by chat_id, in creation order (listings and paging are stable)."""

    def __init__(self) -> None:
        self.chats: dict[str, GroupChat] = {}

    def create(self, owner: GroupMember, name: str, create_time: int,
               members: Iterable[GroupMember] = (), admins: Iterable[str] = ()) -> GroupChat:
        chat = GroupChat(new_id(GROUP_CHAT), owner.userid, name, create_time,
                         admins=list(dict.fromkeys(admins)))
        for member in (owner, *members):
            chat.members.setdefault(member.userid, member)
        self.chats[chat.chat_id] = chat
        return chat

    def active(self) -> Iterator[GroupChat]:
        return (chat for chat in self.chats.values() if not chat.dismissed)

    def get_active(self, chat_id: str) -> GroupChat | None:
        chat = self.chats.get(chat_id)
        return None if chat is None or chat.dismissed else chat

    def require(self, chat_id: str) -> GroupChat:
        """The group, which must not be dismissed (NotFound otherwise)."""
        chat = self.get_active(chat_id)
        if chat is None:
            gone = " (dismissed)" if chat_id in self.chats else ""
            raise NotFound(f"group chat {chat_id!r}{gone}")
        return chat

    def add_members(self, chat_id: str, members: Iterable[GroupMember]) -> MemberChange:
        chat = self.require(chat_id)
        joined = {m.userid: m for m in members if m.userid not in chat.members}
        if not joined:
            raise Conflict("every member named is already in the group")
        chat.members.update(joined)
        return self._bump(chat, list(joined))

    def remove_members(self, chat_id: str, userids: Iterable[str]) -> MemberChange:
        chat = self.require(chat_id)
        left = [u for u in dict.fromkeys(userids) if u in chat.members]
        if not left:
            raise Conflict("no member named is in the group")
        for userid in left:
            del chat.members[userid]
        return self._bump(chat, left)

    def dismiss(self, chat_id: str) -> GroupChat:
        chat = self.require(chat_id)
        chat.dismissed = True
        return chat

    def active_count(self) -> int:
        return sum(1 for _ in self.active())

    @staticmethod
    def _bump(chat: GroupChat, changed: list[str]) -> MemberChange:
        last = chat.member_version
        chat.member_version = new_member_version()
        return MemberChange(changed, last, chat.member_version)
