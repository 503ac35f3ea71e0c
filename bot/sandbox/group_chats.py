"""Customer groups (客户群): owner, name, notice, members and the member-list version.

`member_version` changes on every join or leave; change_external_chat events carry the
versions before and after (LastMemVer/CurMemVer) so a backend can spot lost callbacks.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from bot.sandbox.errors import Conflict, lookup
from bot.sandbox.ids import GROUP_CHAT, new_id


def new_member_version() -> str:
    return secrets.token_hex(16)


@dataclass
class GroupChat:
    chat_id: str
    owner: str
    name: str
    create_time: int
    notice: str = ""
    members: list[str] = field(default_factory=list)
    member_version: str = field(default_factory=new_member_version)


@dataclass(frozen=True)
class MemberChange:
    """What a join or leave changed, as the event reports it."""

    changed: list[str]
    last_version: str
    current_version: str


class GroupChats:
    def __init__(self) -> None:
        self.chats: dict[str, GroupChat] = {}

    def create(self, owner: str, name: str, members: list[str], create_time: int) -> GroupChat:
        chat = GroupChat(new_id(GROUP_CHAT), owner, name, create_time,
                         members=list(dict.fromkeys([owner, *members])))
        self.chats[chat.chat_id] = chat
        return chat

    def require(self, chat_id: str) -> GroupChat:
        return lookup(self.chats, chat_id, "group chat")

    def add_members(self, chat_id: str, members: list[str]) -> MemberChange:
        chat = self.require(chat_id)
        joined = [m for m in dict.fromkeys(members) if m not in chat.members]
        if not joined:
            raise Conflict("every member named is already in the group")
        chat.members.extend(joined)
        return self._bump(chat, joined)

    def remove_members(self, chat_id: str, members: list[str]) -> MemberChange:
        chat = self.require(chat_id)
        left = [m for m in dict.fromkeys(members) if m in chat.members]
        if not left:
            raise Conflict("no member named is in the group")
        chat.members = [m for m in chat.members if m not in left]
        return self._bump(chat, left)

    def dismiss(self, chat_id: str) -> GroupChat:
        return self.chats.pop(self.require(chat_id).chat_id)

    @staticmethod
    def _bump(chat: GroupChat, changed: list[str]) -> MemberChange:
        last = chat.member_version
        chat.member_version = new_member_version()
        return MemberChange(changed, last, chat.member_version)
