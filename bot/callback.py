"""`/wecom/callback`: WeCom's URL check (GET) and event delivery (POST).

Order of checks on POST, cheapest refusal first and nothing stored before the last:
body size (413) → query parameters (400) → timestamp window (403) → envelope XML (400)
→ signature, constant time (403) → decrypt and receive id (400) → message XML (400) →
durable inbox write → 200 with an empty body. No WeCom API call happens here.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot.crypto import CallbackRejected, parse_xml
from bot.events import event_key
from bot.inbox import IncomingEvent
from bot.keys import CALLBACK_CRYPTO, CLOCK, INBOX, SETTINGS
from handlers.dispatch import handler_for

log = logging.getLogger("scrm.callback")

MAX_BODY_BYTES = 64 * 1024


def _params(request: web.Request, *names: str) -> list[str]:
    values = [request.query.get(name, "") for name in names]
    missing = [name for name, value in zip(names, values) if not value]
    if missing:
        raise CallbackRejected(400, f"missing query parameter {missing[0]}")
    return values


def _check_timestamp(request: web.Request, timestamp: str) -> None:
    try:
        sent = int(timestamp)
    except ValueError:
        raise CallbackRejected(400, "timestamp is not an integer") from None
    window = request.config_dict[SETTINGS].wecom.callback_max_age_seconds
    if abs(request.config_dict[CLOCK]() - sent) > window:
        raise CallbackRejected(403, "timestamp outside the replay window")


async def verify_url(request: web.Request) -> web.Response:
    """GET: answer the decrypted echostr exactly (no quotes, no newline)."""
    signature, timestamp, nonce, echostr = _params(
        request, "msg_signature", "timestamp", "nonce", "echostr"
    )
    _check_timestamp(request, timestamp)
    crypto = request.config_dict[CALLBACK_CRYPTO]
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


async def receive_event(request: web.Request) -> web.Response:
    body = await _read_body(request)
    signature, timestamp, nonce = _params(request, "msg_signature", "timestamp", "nonce")
    _check_timestamp(request, timestamp)
    encrypted = parse_xml(body).findtext("Encrypt")
    if not encrypted:
        raise CallbackRejected(400, "envelope has no Encrypt")
    crypto = request.config_dict[CALLBACK_CRYPTO]
    crypto.verify(signature, timestamp, nonce, encrypted)
    message = crypto.decrypt(encrypted)
    root = parse_xml(message)
    event, change_type = event_key({child.tag: (child.text or "") for child in root})
    if not event:
        raise CallbackRejected(400, "message has no MsgType")
    item = IncomingEvent(message, event, change_type, handler_for(event, change_type) is not None)
    accepted = await request.config_dict[INBOX].submit(item)
    if accepted.duplicate:
        log.info("callback.duplicate event=%s/%s key=%s", event, change_type, item.dedupe_key[:16])
    elif not item.handled:
        log.info("callback.ignored id=%s event=%s/%s", accepted.inbox_id, event, change_type)
    return web.Response(status=200)


@web.middleware
async def rejections(request: web.Request, handler: web.Handler) -> web.StreamResponse:
    """Turn a CallbackRejected into its status with a short plain-text reason."""
    try:
        return await handler(request)
    except CallbackRejected as exc:
        log.warning("callback.rejected status=%d reason=%s remote=%s",
                    exc.status, exc.reason, request.remote)
        return web.Response(status=exc.status, text=exc.reason)


def create_callback_app() -> web.Application:
    app = web.Application(middlewares=[rejections])
    app.router.add_get("/callback", verify_url)
    app.router.add_post("/callback", receive_event)
    return app
