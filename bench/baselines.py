"""Comparison servers for the benchmarks, each its own process on loopback.

    python -m bench.baselines bare PORT               (a) aiohttp, answers 200, nothing else
    python -m bench.baselines aiohttp-wechatpy PORT   (c) aiohttp, wechatpy decrypt + parse
    gunicorn -w 1 -b 127.0.0.1:PORT bench.flask_baseline:app
                                                      (b) Flask + wechatpy (bench/flask_baseline.py)
    python -m bench.baselines json PORT               the ceiling of bench/member_api.py and
                                                      bench/trace_scan.py: aiohttp answering
                                                      GET /miniapp/api/me with a fixed member
                                                      profile, and POST /miniapp/api/trace/scan
                                                      (its JSON body read) with a fixed scan
                                                      answer, as JSON

(b) and (c) run the same handler body, the one wechatpy's documentation gives for a
WeCom callback: `WeChatCrypto(token, key, corp_id).decrypt_message(body, signature,
timestamp, nonce)` and `wechatpy.enterprise.parse_message`, then an empty 200. Neither
stores anything. The corp credentials come from the project's settings (settings.toml
plus SCRM__ env overrides), the same ones the benchmark signs with.
"""

from __future__ import annotations

import sys
from typing import Any

from wechatpy.enterprise import parse_message
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException

from bot.settings import load_settings

_WECOM = load_settings().wecom
TOKEN, ENCODING_AES_KEY, CORP_ID = _WECOM.token, _WECOM.encoding_aes_key, _WECOM.corp_id
CALLBACK = "/wecom/callback"
ME = "/miniapp/api/me"
SCAN = "/miniapp/api/trace/scan"
# The bench batch's trace timeline (bench/trace_scan.py posts it), as the admin API
# takes it and as a scan answers it.
TIMELINE: list[dict[str, Any]] = [
    {"event_time": time, "biz_step": step, "disposition": disposition, "location": place,
     "party": party, "details": details}
    for time, step, disposition, place, party, details in [
        ("2025-03-01T08:00:00+08:00", "commissioning", "active", "上海一厂", "安心乳业",
         {"line": "A3"}),
        ("2025-03-01T15:00:00+08:00", "inspecting", "conformant", "上海一厂质检中心",
         "安心乳业", {"report": "QA-2025-0301"}),
        ("2025-03-02T09:00:00+08:00", "packing", "active", "上海一厂", "安心乳业", {}),
        ("2025-03-03T07:30:00+08:00", "shipping", "in_transit", "上海仓", "顺丰冷运",
         {"waybill": "SF1234567890"}),
        ("2025-03-04T18:00:00+08:00", "receiving", "sellable_accessible", "北京朝阳门店",
         "安心零售", {}),
    ]]
# A genuine code's answer as the scan route gives it: the same fields and about its size.
SCAN_ANSWER: dict[str, Any] = {
    "verdict": "genuine", "reasons": [], "warning": None, "pin_required": False,
    "points_awarded": 0,
    "code": {"gtin": "06901234567892", "lot": "BENCH-2025", "serial": "1ABCDEFGHJ0123456789",
             "uri": "http://127.0.0.1/01/06901234567892/10/BENCH-2025/21/1ABCDEFGHJ0123456789"},
    "product": {"gtin": "06901234567892", "name": "安心牛奶 250ml", "sku": "", "images": []},
    "batch": {"lot": "BENCH-2025", "production_date": "2025-03-01",
              "expiry_date": "2099-03-01", "factory": "上海一厂", "region": [],
              "status": "active", "qa_report": None},
    "trace": TIMELINE,
    "history": {"scans": 1, "verifications": 1, "first_verified_at": "2026-11-23T06:00:00+00:00",
                "first_verified_city": "上海市"},
    "guide": {"qr_url": "https://work.weixin.qq.com/ca/cawcde0123456789",
              "channel_state": "ax06901234567892"},
}
# The shape of a member's `GET /miniapp/api/me` answer (miniapp_api/serialize.py
# member_json), with typical values.
PROFILE: dict[str, Any] = {
    "id": 1234, "nickname": "会员1234", "avatar": "https://example.com/a/1234.png",
    "birthday": None, "consents": {}, "level": "V1", "level_number": 1, "growth": 0,
    "next_level": {"name": "V2", "growth": 500}, "points": 10, "points_expiring_soon": 0,
    "points_next_expiry": "2027-11-23T04:17:46.623562+00:00", "guide": None,
    "benefits": ["会员价"], "points_multiplier": 1.0, "phone_bound": False,
}


def decrypt_and_parse(body: bytes, signature: str, timestamp: str, nonce: str) -> object | None:
    """wechatpy's documented WeCom callback handling; None when the request is refused."""
    crypto = WeChatCrypto(TOKEN, ENCODING_AES_KEY, CORP_ID)
    try:
        decrypted = crypto.decrypt_message(body, signature, timestamp, nonce)
    except (InvalidSignatureException, InvalidCorpIdException):
        return None
    return parse_message(decrypted)


# (a) and (c) aiohttp -----------------------------------------------------------------

def run_aiohttp(kind: str, port: int) -> None:
    from aiohttp import web

    async def bare(request: web.Request) -> web.Response:
        return web.Response(status=200)

    async def wechatpy_handler(request: web.Request) -> web.Response:
        q = request.query
        message = decrypt_and_parse(await request.read(), q.get("msg_signature", ""),
                                    q.get("timestamp", ""), q.get("nonce", ""))
        if message is None:
            return web.Response(status=403)
        return web.Response(status=200)

    async def profile(request: web.Request) -> web.Response:
        return web.json_response(PROFILE)

    async def scan(request: web.Request) -> web.Response:
        await request.json()
        return web.json_response(SCAN_ANSWER)

    async def ping(request: web.Request) -> web.Response:
        return web.Response(text="pong")

    app = web.Application()
    if kind == "json":
        app.router.add_get(ME, profile)
        app.router.add_post(SCAN, scan)
    else:
        handlers = {"bare": bare, "aiohttp-wechatpy": wechatpy_handler}
        app.router.add_post(CALLBACK, handlers[kind])
    app.router.add_get("/ping", ping)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("bare", "aiohttp-wechatpy", "json"):
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    run_aiohttp(sys.argv[1], int(sys.argv[2]))
