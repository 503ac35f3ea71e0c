"""Console: raw callbacks, the delivery log, re-delivery and the URL check.

- `POST /sandbox/callbacks/raw` {xml, wait?} → sends any plaintext XML (e.g. an event
  the backend does not know) encrypted and signed like every callback → {"delivery"}.
- `GET /sandbox/deliveries` → {"deliveries": [...]}, oldest first.
- `POST /sandbox/deliveries/{id}/redeliver` {wait?} → the same body and query again
  (WeCom after a lost ack) → {"delivery"}.
- `POST /sandbox/verify_url` → {"ok", "expected", "status", "body", "error", "latency_ms"}:
  a GET with an encrypted echostr; ok when the answer is exactly the plaintext.
"""

from __future__ import annotations

from aiohttp import web

from bot.sandbox.console_http import deliverer_of, read_body
from bot.sandbox.errors import ConsoleError

RAW_SUMMARY = "raw"


async def raw_callback(request: web.Request) -> web.Response:
    body = await read_body(request)
    delivery = await deliverer_of(request).send_xml(body.text("xml"), RAW_SUMMARY,
                                                    wait=body.wait)
    return web.json_response({"delivery": delivery.to_json()})


async def list_deliveries(request: web.Request) -> web.Response:
    log = deliverer_of(request).log.values()
    return web.json_response({"deliveries": [d.to_json() for d in log]})


async def redeliver(request: web.Request) -> web.Response:
    body = await read_body(request)
    raw_id = request.match_info["id"]
    if not raw_id.isdigit():
        raise ConsoleError("the delivery id is a number")
    delivery = await deliverer_of(request).redeliver(int(raw_id), wait=body.wait)
    return web.json_response({"delivery": delivery.to_json()})


async def verify_url(request: web.Request) -> web.Response:
    return web.json_response(await deliverer_of(request).verify_url())


def routes() -> list[web.RouteDef]:
    return [
        web.post("/callbacks/raw", raw_callback),
        web.get("/deliveries", list_deliveries),
        web.post("/deliveries/{id}/redeliver", redeliver),
        web.post("/verify_url", verify_url),
    ]
