"""App messages (应用消息) to staff: what the system tells a guide or owner in WeCom,
e.g. an SOP step to send by hand. Sent by the self-built app `settings.wecom.agent_id`
with its own secret (`agent_secret`), not the customer-contact one.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.wecom.transport import ApiArea, Transport

__all__ = ["AppMessage", "MAX_TEXT_BYTES"]

MAX_TEXT_BYTES = 2048  # message/send text.content


class AppMessage(ApiArea):
    def __init__(self, transport: Transport, secret: str, agent_id: int) -> None:
        super().__init__(transport, secret)
        self.agent_id = agent_id

    @property
    def configured(self) -> bool:
        """False when settings name no app (agent_id 0): nothing can be sent."""
        return self.agent_id > 0 and bool(self._secret)

    async def send_text(self, users: Sequence[str], text: str) -> list[str]:
        """Send `text` (cut to 2,048 bytes) to `users`; returns the userids WeCom could
        not reach (`invaliduser`).

        WeCom doc: /document/path/90236 (发送应用消息), `POST message/send` with msgtype
        text. Secret: the app's (agent_secret).
        """
        content = text.encode()[:MAX_TEXT_BYTES].decode(errors="ignore")
        data = await self._post("message/send", {
            "touser": "|".join(users), "msgtype": "text", "agentid": self.agent_id,
            "text": {"content": content},
        })
        return [u for u in str(data.get("invaliduser") or "").split("|") if u]
