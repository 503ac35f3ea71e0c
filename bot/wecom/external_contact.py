"""客户管理 (customer contact) APIs: customer details, members with customer contact,
the batch list of a member's customers, the member's remark on a customer, and the
welcome message for a new contact (wecom-protocol.md §3.2-3.4, §3.7).

All of them need the customer-contact secret (`settings.wecom.contact_secret`, the app
listed in 「客户联系-可调用接口的应用」). Answers come back as frozen dataclasses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.wecom.transport import ApiArea

__all__ = [
    "ExternalContact",
    "ExternalContactInfo",
    "FollowTag",
    "FollowUser",
    "ContactDetail",
    "BatchPage",
    "BATCH_MAX_USERIDS",
    "BATCH_MAX_LIMIT",
]

BATCH_MAX_USERIDS = 100
BATCH_MAX_LIMIT = 100
# A welcome code lives 20 s: send_welcome_msg never waits (rate limit, backoff) longer.
WELCOME_CODE_SECONDS = 20.0


@dataclass(frozen=True)
class ExternalContactInfo:
    """The customer (`external_contact`). `type`: 1 WeChat user, 2 WeCom user;
    `unionid` only for WeChat users of a corp with a bound developer ID."""

    external_userid: str
    name: str
    avatar: str
    type: int
    gender: int
    unionid: str
    corp_name: str
    corp_full_name: str
    position: str

    @classmethod
    def from_wecom(cls, data: dict[str, Any]) -> ExternalContactInfo:
        return cls(
            external_userid=str(data.get("external_userid", "")),
            name=str(data.get("name", "")),
            avatar=str(data.get("avatar", "")),
            type=int(data.get("type") or 0),
            gender=int(data.get("gender") or 0),
            unionid=str(data.get("unionid", "")),
            corp_name=str(data.get("corp_name", "")),
            corp_full_name=str(data.get("corp_full_name", "")),
            position=str(data.get("position", "")),
        )


@dataclass(frozen=True)
class FollowTag:
    """A tag a member put on the customer. `type`: 1 corp tag, 2 personal tag (no
    tag_id), 3 rule-group tag."""

    group_name: str
    tag_name: str
    tag_id: str
    type: int


@dataclass(frozen=True)
class FollowUser:
    """One member's relationship with the customer (`follow_user` / `follow_info`).

    `tags` comes only from `get`; `batch_get_by_user` gives the flat `tag_ids` alone.
    """

    userid: str
    remark: str
    description: str
    createtime: int
    tag_ids: tuple[str, ...]
    tags: tuple[FollowTag, ...]
    state: str
    add_way: int
    oper_userid: str
    remark_mobiles: tuple[str, ...]

    @classmethod
    def from_wecom(cls, data: dict[str, Any]) -> FollowUser:
        tags = tuple(
            FollowTag(
                group_name=str(tag.get("group_name", "")),
                tag_name=str(tag.get("tag_name", "")),
                tag_id=str(tag.get("tag_id", "")),
                type=int(tag.get("type") or 0),
            )
            for tag in data.get("tags") or ()
        )
        if "tag_id" in data:
            tag_ids = tuple(str(t) for t in data.get("tag_id") or ())
        else:
            tag_ids = tuple(tag.tag_id for tag in tags if tag.tag_id)
        return cls(
            userid=str(data.get("userid", "")),
            remark=str(data.get("remark", "")),
            description=str(data.get("description", "")),
            createtime=int(data.get("createtime") or 0),
            tag_ids=tag_ids,
            tags=tags,
            state=str(data.get("state", "")),
            add_way=int(data.get("add_way") or 0),
            oper_userid=str(data.get("oper_userid", "")),
            remark_mobiles=tuple(str(m) for m in data.get("remark_mobiles") or ()),
        )


@dataclass(frozen=True)
class ContactDetail:
    contact: ExternalContactInfo
    follow_users: tuple[FollowUser, ...]


@dataclass(frozen=True)
class BatchPage:
    """One page of `batch/get_by_user`; `next_cursor` is "" on the last page."""

    items: list[tuple[ExternalContactInfo, FollowUser]]
    next_cursor: str


class ExternalContact(ApiArea):
    """客户管理 APIs. Every method needs the customer-contact secret."""

    async def get(self, external_userid: str) -> ContactDetail:
        """The customer and all members following them.

        WeCom doc: /document/path/92114 (获取客户详情), `GET externalcontact/get`.
        Secret: customer contact (settings.wecom.contact_secret). Pages through
        `cursor` when the customer has more than 500 followers.
        """
        params: dict[str, str | int] = {"external_userid": external_userid}
        data = await self._get("externalcontact/get", params)
        contact = ExternalContactInfo.from_wecom(data.get("external_contact") or {})
        follow_users = [FollowUser.from_wecom(f) for f in data.get("follow_user") or ()]
        while cursor := str(data.get("next_cursor") or ""):
            data = await self._get("externalcontact/get", {**params, "cursor": cursor})
            follow_users.extend(FollowUser.from_wecom(f) for f in data.get("follow_user") or ())
        return ContactDetail(contact=contact, follow_users=tuple(follow_users))

    async def get_follow_user_list(self) -> list[str]:
        """Userids of the members with customer contact enabled.

        WeCom doc: /document/path/92571 (获取配置了客户联系功能的成员列表),
        `GET externalcontact/get_follow_user_list`. Secret: customer contact.
        """
        data = await self._get("externalcontact/get_follow_user_list")
        return [str(u) for u in data.get("follow_user") or ()]

    async def batch_get_by_user(
        self, userids: Sequence[str], cursor: str = "", limit: int = BATCH_MAX_LIMIT
    ) -> BatchPage:
        """One page of the customers of up to 100 members, each with that member's
        relationship (`follow_info`, flat `tag_id` list).

        WeCom doc: /document/path/92994 (批量获取客户详情),
        `POST externalcontact/batch/get_by_user`. Secret: customer contact.
        `limit` is 1..100 (WeCom clamps larger values; we refuse them).
        """
        if not 1 <= len(userids) <= BATCH_MAX_USERIDS:
            raise ValueError(f"userids: 1..{BATCH_MAX_USERIDS} members, got {len(userids)}")
        if not 1 <= limit <= BATCH_MAX_LIMIT:
            raise ValueError(f"limit: 1..{BATCH_MAX_LIMIT}, got {limit}")
        body = {"userid_list": list(userids), "cursor": cursor, "limit": limit}
        data = await self._post("externalcontact/batch/get_by_user", body)
        items = [
            (
                ExternalContactInfo.from_wecom(entry.get("external_contact") or {}),
                FollowUser.from_wecom(entry.get("follow_info") or {}),
            )
            for entry in data.get("external_contact_list") or ()
        ]
        return BatchPage(items=items, next_cursor=str(data.get("next_cursor") or ""))

    async def send_welcome_msg(
        self,
        welcome_code: str,
        text: str | None = None,
        attachments: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Send the new contact's welcome message with the add event's WelcomeCode.

        WeCom doc: /document/path/92137 (发送新客户欢迎语; wecom-protocol.md §3.7),
        `POST externalcontact/send_welcome_msg`. Secret: customer contact.
        `attachments` are WeCom's own shape, at most 9: `{"msgtype": "image",
        "image": {"media_id" | "pic_url"}}`, `{"msgtype": "link", "link": {"title",
        "url", "picurl", "desc"}}`, `{"msgtype": "miniprogram", "miniprogram":
        {"title", "pic_media_id", "appid", "page"}}`, video and file with `media_id`.
        The code is valid 20 s and once: the call never waits longer than that for a
        rate-limit window or a busy backoff. Raises `WelcomeCodeInvalid` (41050,
        expired), `AlreadyChatted` (41051, used or already chatted; do not retry) and
        `WelcomeSending` (41096, another app is sending; delivery uncertain, may retry).
        """
        body: dict[str, Any] = {"welcome_code": welcome_code}
        if text is not None:
            body["text"] = {"content": text}
        if attachments:
            body["attachments"] = [dict(a) for a in attachments]
        await self._post("externalcontact/send_welcome_msg", body, budget=WELCOME_CODE_SECONDS)

    async def remark(
        self,
        userid: str,
        external_userid: str,
        *,
        remark: str | None = None,
        description: str | None = None,
    ) -> None:
        """Set the member's remark (≤ 20 chars) and/or description (≤ 150 chars) for the
        customer; fields left None are not changed. WeCom sends no callback for it.

        WeCom doc: /document/path/92115 (修改客户备注信息; wecom-protocol.md §3.4),
        `POST externalcontact/remark`. Secret: customer contact.
        Raises `NoRelationship` (84061) when they are not (or not yet) contacts.
        """
        body: dict[str, Any] = {"userid": userid, "external_userid": external_userid}
        if remark is not None:
            body["remark"] = remark
        if description is not None:
            body["description"] = description
        await self._post("externalcontact/remark", body)
