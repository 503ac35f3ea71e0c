"""Delivering callbacks to settings.callback_url the way WeCom does, and the delivery log.

Each message is sealed once (fresh timestamp and nonce, random prefix) and POSTed to
the callback URL. Without an HTTP 200 within settings.sandbox.delivery_timeout_seconds
(or on any other status) the SAME body and query are sent again, up to
settings.sandbox.delivery_retries re-deliveries (wecom-protocol.md §1.6, §6.2). Any 200
counts as an ack, whatever the body. The log keeps every attempt, so tests can see the
re-deliveries and a backend's dedupe can be exercised with `redeliver`.

`verify_url` plays WeCom's URL check (§1.5): a GET with an encrypted numeric echostr that
must come back as the bare plaintext within a second.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from yarl import URL

from bot.sandbox.clock import SandboxClock
from bot.sandbox.envelope import CallbackEvent, Sealed, seal
from bot.sandbox.errors import lookup
from bot.settings import Settings

VERIFY_TIMEOUT_SECONDS = 1.0
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


@dataclass(frozen=True)
class Answer:
    """One HTTP exchange with the callback URL: status (None when there was none), body,
    error ("timeout" or the connection error) and how long it took."""

    at: float
    status: int | None
    error: str | None
    latency_ms: float
    body: str = field(repr=False)


@dataclass
class Delivery:
    id: int
    summary: str
    xml: str
    url: str
    body: bytes
    attempts: list[Answer] = field(default_factory=list)
    outcome: str = PENDING

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "summary": self.summary,
            "xml": self.xml,
            "url": self.url,
            "body": self.body.decode("utf-8"),
            "attempts": [
                {k: v for k, v in asdict(a).items() if k != "body"} for a in self.attempts
            ],
            "outcome": self.outcome,
        }


class Deliverer:
    def __init__(self, settings: Settings, clock: SandboxClock,
                 session: aiohttp.ClientSession) -> None:
        self._wecom = settings.wecom
        self._url = settings.callback_url
        self._timeout = settings.sandbox.delivery_timeout_seconds
        self._retries = settings.sandbox.delivery_retries
        self._clock = clock
        self._session = session
        self._background: set[asyncio.Task[None]] = set()
        self.log: dict[int, Delivery] = {}

    async def send_event(self, event: CallbackEvent, *, wait: bool = True) -> Delivery:
        xml = event.to_xml(self._wecom.corp_id, int(self._clock.now()))
        return await self.send_xml(xml, event.summary(), wait=wait)

    async def send_xml(self, xml: str, summary: str, *, wait: bool = True) -> Delivery:
        sealed = self._seal(xml)
        delivery = Delivery(
            id=len(self.log) + 1, summary=summary, xml=xml,
            url=str(URL(self._url).update_query(sealed.query())),
            body=sealed.post_body(self._wecom.corp_id),
        )
        self.log[delivery.id] = delivery
        await self._dispatch(delivery, wait)
        return delivery

    async def redeliver(self, delivery_id: int, *, wait: bool = True) -> Delivery:
        """Send a logged delivery's exact body and query again (WeCom on a lost ack)."""
        delivery = lookup(self.log, delivery_id, "delivery")
        await self._dispatch(delivery, wait)
        return delivery

    async def verify_url(self) -> dict[str, Any]:
        echo = str(secrets.randbelow(10**19))
        sealed = self._seal(echo)
        url = URL(self._url).update_query({**sealed.query(), "echostr": sealed.encrypted})
        answer = await self._exchange("GET", url, None, VERIFY_TIMEOUT_SECONDS)
        return {
            "ok": answer.status == 200 and answer.body == echo,
            "expected": echo,
            "status": answer.status,
            "body": answer.body,
            "error": answer.error,
            "latency_ms": answer.latency_ms,
        }

    def clear(self) -> None:
        self.log.clear()

    async def close(self) -> None:
        for task in self._background:
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    def _seal(self, message: str) -> Sealed:
        return seal(message, token=self._wecom.token,
                    encoding_aes_key=self._wecom.encoding_aes_key,
                    receive_id=self._wecom.corp_id, timestamp=str(int(self._clock.now())))

    async def _dispatch(self, delivery: Delivery, wait: bool) -> None:
        delivery.outcome = PENDING
        if wait:
            await self._run(delivery)
            return
        task = asyncio.create_task(self._run(delivery))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _run(self, delivery: Delivery) -> None:
        for _ in range(1 + self._retries):
            answer = await self._exchange(
                "POST", URL(delivery.url, encoded=True), delivery.body, self._timeout
            )
            delivery.attempts.append(answer)
            if answer.status == 200:
                delivery.outcome = DELIVERED
                return
        delivery.outcome = FAILED

    async def _exchange(self, method: str, url: URL, body: bytes | None,
                        timeout: float) -> Answer:
        at, started = self._clock.now(), time.monotonic()
        status: int | None = None
        text, error = "", None
        try:
            async with self._session.request(
                method, url, data=body, timeout=aiohttp.ClientTimeout(total=timeout),
                headers={"Content-Type": "text/xml"} if body is not None else None,
            ) as response:
                status = response.status
                text = (await response.read()).decode("utf-8", "replace")
        except TimeoutError:
            status, error = None, "timeout"
        except aiohttp.ClientError as exc:
            status, error = None, f"{type(exc).__name__}: {exc}"
        latency_ms = round((time.monotonic() - started) * 1000, 1)
        return Answer(at, status, error, latency_ms, text)


DELIVERER = web.AppKey("sandbox_deliverer", Deliverer)
