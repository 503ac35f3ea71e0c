"""通讯录 member API: reading a member (staff), e.g. a guide's name for a welcome text."""

from __future__ import annotations

from dataclasses import dataclass

from bot.wecom.transport import ApiArea

__all__ = ["User", "StaffInfo"]


@dataclass(frozen=True)
class StaffInfo:
    userid: str
    name: str
    avatar: str


class User(ApiArea):
    """Members of the corp."""

    async def get(self, userid: str) -> StaffInfo:
        """The member's name and avatar.

        WeCom doc: /document/path/90196 (读取成员), `GET user/get?userid=`. Secret:
        customer contact (the member must be in the app's visible range). An unknown
        userid raises `WeComError` 60111.
        """
        data = await self._get("user/get", {"userid": userid})
        return StaffInfo(userid=str(data.get("userid", userid)), name=str(data.get("name", "")),
                         avatar=str(data.get("avatar", "")))
