"""「联系我」 contact ways (wecom-protocol.md §3.5): QR codes or mini-program buttons that
add a customer to one member (type 1) or one of several (type 2), remembering a
`state` that comes back in the add event and in follow_user.state.

The API creates, reads, updates and deletes them (api_contact_way.py); the console's
QR page plays a customer scanning one (console_qr.py). Multi-member ways hand out
their members in turn. `Ways` (by config_id) also holds the 「加入群聊」 join ways.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from bot.sandbox.errors import lookup

SINGLE, MULTI = 1, 2
MINIPROGRAM, QR_CODE = 1, 2


def new_config_id() -> str:
    """32 hex characters, like WeCom's config_id."""
    return secrets.token_hex(16)


@dataclass
class ContactWay:
    config_id: str
    type: int
    scene: int
    create_time: int
    qr_code: str
    users: list[str]
    style: int = 0
    remark: str = ""
    skip_verify: bool = True
    state: str = ""
    party: list[int] = field(default_factory=list)
    # Fields kept and answered as given: is_temp, expires_in, chat_expires_in, unionid,
    # is_exclusive, mark_source, conclusions.
    extra: dict[str, Any] = field(default_factory=dict)
    scans: int = 0

    def next_guide(self) -> str:
        """The member the next scan adds: the one user, or the users in turn."""
        guide = self.users[self.scans % len(self.users)]
        self.scans += 1
        return guide


class WayConfig(Protocol):
    config_id: str


W = TypeVar("W", bound=WayConfig)


class Ways(Generic[W]):
    """Ways by config_id, in creation order; `what` names them in console errors."""

    what = "way"

    def __init__(self) -> None:
        self.ways: dict[str, W] = {}

    def add(self, way: W) -> W:
        self.ways[way.config_id] = way
        return way

    def get(self, config_id: str) -> W | None:
        return self.ways.get(config_id)

    def require(self, config_id: str) -> W:
        return lookup(self.ways, config_id, self.what)

    def delete(self, config_id: str) -> None:
        del self.ways[config_id]

    def __len__(self) -> int:
        return len(self.ways)


class ContactWays(Ways[ContactWay]):
    what = "contact way"
