"""「联系我」 contact way APIs: the channel QR codes that add a customer to a member
and tag the add with a `state` (wecom-protocol.md §3.5).

All of them need the customer-contact secret. Ways created here are QR codes (scene 2);
a way with one member is type 1 (单人) and keeps exactly one member, one with several
is type 2 (多人, members taken in turn). Keep the config_id: without it a way can be
neither changed nor deleted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.wecom.transport import ApiArea

__all__ = ["ContactWay", "ContactWayCreated", "ContactWayInfo", "SINGLE", "MULTI", "QR_CODE"]

SINGLE, MULTI = 1, 2
QR_CODE = 2


@dataclass(frozen=True)
class ContactWayCreated:
    config_id: str
    qr_code: str


@dataclass(frozen=True)
class ContactWayInfo:
    """A way as WeCom describes it. `type`: 1 one member, 2 several; `scene`: 1 mini
    program, 2 QR code (`qr_code` only then)."""

    config_id: str
    type: int
    scene: int
    state: str
    qr_code: str
    users: tuple[str, ...]
    skip_verify: bool
    remark: str

    @classmethod
    def from_wecom(cls, data: dict[str, Any]) -> ContactWayInfo:
        return cls(
            config_id=str(data.get("config_id", "")),
            type=int(data.get("type") or 0),
            scene=int(data.get("scene") or 0),
            state=str(data.get("state", "")),
            qr_code=str(data.get("qr_code", "")),
            users=tuple(str(u) for u in data.get("user") or ()),
            skip_verify=bool(data.get("skip_verify", True)),
            remark=str(data.get("remark", "")),
        )


class ContactWay(ApiArea):
    """「联系我」 APIs. Every method needs the customer-contact secret."""

    async def add(
        self, *, state: str, users: Sequence[str], skip_verify: bool = True, remark: str = "",
        multi: bool | None = None,
    ) -> ContactWayCreated:
        """A QR code adding customers to `users` (1 to 100 members with customer
        contact): type 1 for one member, else type 2; `multi=True` makes it type 2 even
        for one member, so its member list can grow later (a type never changes).
        `state` (≤ 30 chars) comes back in the add event and in follow_user.state;
        `remark` ≤ 30 chars.

        WeCom doc: /document/path/92228 (配置客户联系「联系我」方式; wecom-protocol.md
        §3.5), `POST externalcontact/add_contact_way`. Secret: customer contact.
        """
        if not users:
            raise ValueError("users: at least one member")
        body: dict[str, Any] = {
            "type": MULTI if multi or (multi is None and len(users) > 1) else SINGLE,
            "scene": QR_CODE,
            "skip_verify": skip_verify, "state": state, "user": list(users),
        }
        if remark:
            body["remark"] = remark
        data = await self._post("externalcontact/add_contact_way", body)
        return ContactWayCreated(config_id=str(data.get("config_id", "")),
                                 qr_code=str(data.get("qr_code", "")))

    async def get(self, config_id: str) -> ContactWayInfo:
        """WeCom doc: /document/path/92228 (获取企业已配置的「联系我」方式),
        `POST externalcontact/get_contact_way`. Secret: customer contact.
        An unknown config_id raises `WeComError` 41044."""
        data = await self._post("externalcontact/get_contact_way", {"config_id": config_id})
        return ContactWayInfo.from_wecom(data.get("contact_way") or {})

    async def update(
        self,
        config_id: str,
        *,
        users: Sequence[str] | None = None,
        skip_verify: bool | None = None,
        state: str | None = None,
        remark: str | None = None,
    ) -> None:
        """Change the fields given; `users` replaces the member list (a type 1 way keeps
        exactly one member; type and scene never change).

        WeCom doc: /document/path/92228 (更新企业已配置的「联系我」方式),
        `POST externalcontact/update_contact_way`. Secret: customer contact.
        """
        body: dict[str, Any] = {"config_id": config_id}
        if users is not None:
            body["user"] = list(users)
        if skip_verify is not None:
            body["skip_verify"] = skip_verify
        if state is not None:
            body["state"] = state
        if remark is not None:
            body["remark"] = remark
        await self._post("externalcontact/update_contact_way", body)

    async def delete(self, config_id: str) -> None:
        """WeCom doc: /document/path/92228 (删除企业已配置的「联系我」方式),
        `POST externalcontact/del_contact_way`. Secret: customer contact."""
        await self._post("externalcontact/del_contact_way", {"config_id": config_id})
