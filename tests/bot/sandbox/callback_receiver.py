"""A callback receiver for the sandbox tests: a small aiohttp server on a free port
standing in for our server's /wecom/callback.

It records every request and answers from a plan: a status per request (default 200),
or STALL to hold the answer until `stop()` (a lost ack). GET requests (URL verification)
are answered like our server must: verify, decrypt with bot.crypto.CallbackCrypto and
return the plaintext (through `answer_echo`, which a test can make wrong).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from bot.crypto import CallbackCrypto, parse_xml

STALL = "stall"


@dataclass(frozen=True)
class Received:
    method: str
    query: dict[str, str]
    body: bytes


class CallbackReceiver:
    def __init__(self, crypto: CallbackCrypto) -> None:
        self.crypto = crypto
        self.requests: list[Received] = []
        self.plan: list[int | str] = []
        self.answer_echo: Callable[[str], str] = lambda plain: plain
        self.url = ""
        self._release = asyncio.Event()
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/wecom/callback", self.handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}/wecom/callback"

    async def stop(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def handle(self, request: web.Request) -> web.Response:
        received = Received(request.method, dict(request.query), await request.read())
        async with self._arrived:
            self.requests.append(received)
            self._arrived.notify_all()
        action = self.plan.pop(0) if self.plan else 200
        if action == STALL:
            await self._release.wait()
            return web.Response(status=200)
        if request.method == "GET":
            query = request.query
            self.crypto.verify(query["msg_signature"], query["timestamp"], query["nonce"],
                               query["echostr"])
            return web.Response(text=self.answer_echo(self.crypto.decrypt(query["echostr"])))
        return web.Response(status=int(action))

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        """The requests, once at least `count` have arrived (TimeoutError otherwise)."""
        async with self._arrived:
            await asyncio.wait_for(
                self._arrived.wait_for(lambda: len(self.requests) >= count), timeout)
        return self.requests


def open_callback(receiver: CallbackReceiver, received: Received) -> str:
    """Check the request as our server must and return the decrypted XML."""
    envelope = parse_xml(received.body)
    encrypted = envelope.findtext("Encrypt") or ""
    query = received.query
    receiver.crypto.verify(query["msg_signature"], query["timestamp"], query["nonce"],
                           encrypted)
    assert envelope.findtext("ToUserName") == receiver.crypto.receive_id
    assert envelope.findtext("AgentID")
    return receiver.crypto.decrypt(encrypted)


def fields_of(xml: str) -> dict[str, str]:
    """The event's top-level elements and their text."""
    return {child.tag: (child.text or "") for child in parse_xml(xml)}
