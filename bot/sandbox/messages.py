"""What the API sent to customers on a member's behalf: welcome messages
(send_welcome_msg), with the sandbox time they were accepted.

Tests and benchmarks read them from the console (`GET /sandbox/welcome_messages`) to
see exactly what a customer received.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class WelcomeMessage:
    userid: str
    external_userid: str
    welcome_code: str
    text: str | None
    attachments: list[dict[str, Any]]
    at: float


class SentMessages:
    def __init__(self) -> None:
        self.welcome: list[WelcomeMessage] = []

    def record_welcome(self, message: WelcomeMessage) -> None:
        self.welcome.append(message)

    def welcome_json(self, external_userid: str | None = None) -> list[dict[str, Any]]:
        """The welcome messages, oldest first; only one customer's when named."""
        return [asdict(m) for m in self.welcome
                if external_userid is None or m.external_userid == external_userid]

    def __len__(self) -> int:
        return len(self.welcome)
