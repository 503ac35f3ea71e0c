"""「加入群聊」 join ways (group QR codes, wecom-protocol.md §3.9): a QR code or
mini-program button that lets a customer join one of up to 5 customer groups, the
first with room; when all are full and `auto_create_room` is on, WeCom opens a new
group named `room_base_name` + `room_base_id` (then incremented). Its `state` comes
back as the member's `state` in groupchat/get.

The API creates, reads, overwrites and deletes them (api_join_way.py); the console
plays a customer scanning one (console_join.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.sandbox.contact_ways import Ways

MINIPROGRAM, QR_CODE = 1, 2


@dataclass
class JoinWay:
    config_id: str
    scene: int
    chat_ids: list[str]
    qr_code: str = ""
    remark: str = ""
    auto_create_room: int = 1
    room_base_name: str = ""
    room_base_id: int = 1
    state: str = ""
    mark_source: bool = True

    def to_json(self) -> dict[str, Any]:
        """`join_way` as get_join_way answers it (`qr_code` for QR-code ways only)."""
        out: dict[str, Any] = {
            "config_id": self.config_id, "scene": self.scene, "remark": self.remark,
            "auto_create_room": self.auto_create_room, "room_base_name": self.room_base_name,
            "room_base_id": self.room_base_id, "chat_id_list": list(self.chat_ids),
            "state": self.state, "mark_source": self.mark_source,
        }
        if self.scene == QR_CODE:
            out["qr_code"] = self.qr_code
        return out

    def next_room_name(self, fallback: str) -> str:
        """The name of the group auto-created next (`fallback` when no base name is
        set); moves `room_base_id` on."""
        name = f"{self.room_base_name or fallback}{self.room_base_id}"
        self.room_base_id += 1
        return name


class JoinWays(Ways[JoinWay]):
    what = "join way"
