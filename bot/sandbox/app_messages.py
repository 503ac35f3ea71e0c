"""What the self-built app told staff (message/send, 应用消息): e.g. an SOP step an
owner must send by hand. Kept with the sandbox time it was accepted, so tests read
exactly what each member received (console `GET /sandbox/app-messages`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class AppMessage:
    msgid: str
    agentid: int
    touser: list[str]  # the members reached
    invaliduser: list[str]
    msgtype: str
    content: str
    at: float


class AppMessages:
    def __init__(self) -> None:
        self.messages: list[AppMessage] = []

    def record(self, message: AppMessage) -> None:
        self.messages.append(message)

    def to_json(self, userid: str | None = None) -> list[dict[str, Any]]:
        """The messages, oldest first; only those that reached `userid` when named."""
        return [asdict(m) for m in self.messages if userid is None or userid in m.touser]

    def __len__(self) -> int:
        return len(self.messages)
