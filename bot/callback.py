"""`/wecom/callback`: WeCom's URL check (GET) and event delivery (POST).

Order of checks on POST, cheapest refusal first and nothing stored before the last:
body size (413) → query parameters (400) → timestamp window (403) → envelope XML (400)
→ signature, constant time (403) → decrypt and receive id (400) → message XML (400) →
durable inbox write → 200 with an empty body. No WeCom API call happens here.

The handlers take what they need from the app (crypto, inbox, clock, replay window) once,
on the first request, rather than through `request.config_dict` on every request.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.crypto import CallbackCrypto, CallbackRejected, envelope_ciphertext, parse_xml
from bot.events import event_key
from bot.inbox import InboxWriter, IncomingEvent
from bot.keys import CALLBACK_CRYPTO, CLOCK, INBOX, SETTINGS
from handlers.dispatch import handler_for, is_urgent

log = logging.getLogger("scrm.callback")

MAX_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class Endpoint:
    """What the callback handlers use of the app."""

    crypto: CallbackCrypto
    inbox: InboxWriter
    clock: Callable[[], float]
    max_age_seconds: int

    @classmethod
    def of(cls, request: web.Request) -> Endpoint:
        config = request.config_dict
        return cls(config[CALLBACK_CRYPTO], config[INBOX], config[CLOCK],
                   config[SETTINGS].wecom.callback_max_age_seconds)


def _params(request: web.Request, *names: str) -> list[str]:
    values = [request.query.get(name, "") for name in names]
    missing = [name for name, value in zip(names, values, strict=True) if not value]
    if missing:
        raise CallbackRejected(400, f"missing query parameter {missing[0]}")
    return values


def _check_timestamp(endpoint: Endpoint, timestamp: str) -> None:
    try:
        sent = int(timestamp)
    except ValueError:
        raise CallbackRejected(400, "timestamp is not an integer") from None
    if abs(endpoint.clock() - sent) > endpoint.max_age_seconds:
        raise CallbackRejected(403, "timestamp outside the replay window")


async def verify_url(request: web.Request, endpoint: Endpoint) -> web.Response:
    """GET: answer the decrypted echostr exactly (no quotes, no newline)."""
    signature, timestamp, nonce, echostr = _params(
        request, "msg_signature", "timestamp", "nonce", "echostr"
    )
    _check_timestamp(endpoint, timestamp)
    crypto = endpoint.crypto
    crypto.verify(signature, timestamp, nonce, echostr)
    return web.Response(body=crypto.decrypt(echostr).encode("utf-8"),
                        content_type="text/plain")


async def _read_body(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise CallbackRejected(413, "body over 64 KiB")
    body = await request.content.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise CallbackRejected(413, "body over 64 KiB")
    return body


async def receive_event(request: web.Request, endpoint: Endpoint) -> web.Response:
    body = await _read_body(request)
    signature, timestamp, nonce = _params(request, "msg_signature", "timestamp", "nonce")
    _check_timestamp(endpoint, timestamp)
    encrypted = envelope_ciphertext(body)
    if not encrypted:
        raise CallbackRejected(400, "envelope has no Encrypt")
    crypto = endpoint.crypto
    crypto.verify(signature, timestamp, nonce, encrypted)
    message = crypto.decrypt(encrypted)
    root = parse_xml(message)
    event, change_type = event_key({child.tag: (child.text or "") for child in root})
    if not event:
        raise CallbackRejected(400, "message has no MsgType")
    item = IncomingEvent(message, event, change_type,
                         handled=handler_for(event, change_type) is not None,
                         urgent=is_urgent(event, change_type))
    accepted = await endpoint.inbox.submit(item)
    if accepted.duplicate:
        log.info("callback.duplicate event=%s/%s key=%s", event, change_type, item.dedupe_key[:16])
    elif not item.handled:
        log.info("callback.ignored id=%s event=%s/%s", accepted.inbox_id, event, change_type)
    return web.Response(status=200)


@web.middleware
async def rejections(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn a CallbackRejected into its status with a short plain-text reason."""
    try:
        return await handler(request)
    except CallbackRejected as exc:
        log.warning("callback.rejected status=%d reason=%s remote=%s",
                    exc.status, exc.reason, request.remote)
        return web.Response(status=exc.status, text=exc.reason)


def create_callback_app() -> web.Application:
    """The `/wecom/` sub-app; mounted by `create_app`, whose keys it reads."""
    resolved: list[Endpoint] = []  # filled by the first request, once the app runs

    def endpoint_of(request: web.Request) -> Endpoint:
        if not resolved:
            resolved.append(Endpoint.of(request))
        return resolved[0]

    async def get(request: web.Request) -> web.Response:
        return await verify_url(request, endpoint_of(request))

    async def post(request: web.Request) -> web.Response:
        return await receive_event(request, endpoint_of(request))

    app = web.Application(middlewares=[rejections])
    app.router.add_get("/callback", get)
    app.router.add_post("/callback", post)
    return app
