"""The public 安心码 page: what a phone's camera opens at the code's own URL,
`GET /01/{gtin}/10/{lot}/21/{serial}` on the main app (also under the path prefix of
trace.base_url when it has one, matched in any case: a scanner may uppercase the URL).

It scans like the mini-program (handlers/trace_scan.py), without a member: the city is
the request header trace.city_header (a CDN or gateway sets it; percent-encoded is
fine), the client is `request.remote`, and crawlers and link previews are answered
without being recorded. A batch that wants a scratch PIN gets a form that POSTs it to
the same URL. The page renders the JSON answer of handlers/trace_view.py, so the page
and the API never disagree.

The page is one self-contained HTML document: inline CSS, the "add your guide" QR as
inline SVG, no scripts, no external assets (product images are left to the
mini-program), every value escaped, and a Content-Security-Policy that would block
anything else. `Cache-Control: no-store` and `Referrer-Policy: no-referrer`: every scan
is judged afresh, and the code's URL does not leak through the QA report link.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from aiohttp import web

from bot.keys import REDIS, SETTINGS
from bot.request_clock import app_now
from bot.settings import Settings
from handlers.points_rules import ZONE
from handlers.qr_render import qr_path
from handlers.trace_scan import RateLimited, WrongPin, scan
from handlers.trace_verdicts import (
    LOCKED,
    MANY_CITIES,
    NOT_A_CODE,
    NOT_SHIPPED,
    OUTSIDE_REGION,
    UNKNOWN_CODE,
    Verdict,
)
from handlers.trace_view import scan_json
from models.trace import BizStep

CODE_PATH = "/01/{gtin}/10/{lot}/21/{serial}"
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
}
# The verdict in big words, its colour and what it means.
VERDICTS: dict[Verdict, tuple[str, str, str]] = {
    Verdict.GENUINE: ("正品", "#15803d", "这是品牌正品，此码为首次验证。"),
    Verdict.ALREADY_VERIFIED: ("已验证过", "#b45309", "这是品牌发行的安心码，它此前已被验证过。"),
    Verdict.SUSPICIOUS: ("可疑", "#c2410c", "此码的扫描记录存在异常，请谨慎购买。"),
    Verdict.RECALLED: ("已召回", "#b91c1c", "该批次已召回，请停止使用，并联系品牌客服。"),
    Verdict.EXPIRED: ("已过期", "#6b7280", "该商品已过有效期，请勿使用。"),
    Verdict.NOT_GENUINE: ("非正品", "#b91c1c", "无法验证此码：它不是品牌发行的安心码。"),
}
REASONS = {
    MANY_CITIES: "短时间内在多个城市被扫描",
    NOT_SHIPPED: "该批次尚未发货即被扫描",
    OUTSIDE_REGION: "扫码地不在该批次的销售区域内",
    LOCKED: "验证码输错次数过多，此码已锁定",
    NOT_A_CODE: "扫描内容不是安心码",
    UNKNOWN_CODE: "此码未经品牌签发，或已被篡改",
}
STEPS = {BizStep.COMMISSIONING: "生产", BizStep.INSPECTING: "质检", BizStep.PACKING: "包装",
         BizStep.SHIPPING: "发货", BizStep.RECEIVING: "到货", BizStep.RETAIL_SELLING: "零售"}
GUIDE_TEXT = "长按识别二维码，添加您的专属导购，获取售后与防伪服务"
STYLE = """
body{margin:0;background:#f5f5f4;color:#1c1917;font:16px/1.6 -apple-system,"PingFang SC",
"Microsoft YaHei","Noto Sans CJK SC",sans-serif}
main{max-width:480px;margin:0 auto;padding:16px}
section{background:#fff;border-radius:12px;padding:16px;margin-bottom:12px}
.verdict{color:#fff;text-align:center}
.verdict .word{font-size:48px;font-weight:700;letter-spacing:4px;line-height:1.3}
.verdict ol{list-style:none;padding:0}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:0 0 8px}
dl{margin:0;display:grid;grid-template-columns:auto 1fr;gap:4px 12px}dt{color:#78716c}
dd{margin:0;word-break:break-all}ol{margin:0;padding-left:20px}li{margin-bottom:6px}
.muted{color:#78716c;font-size:14px}.warning{background:#fef3c7;color:#92400e}
.guide{text-align:center}.guide svg{width:180px;height:180px}
input{font-size:18px;padding:8px;width:60%}button{font-size:18px;padding:8px 16px}
a{color:#1d4ed8}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _shanghai(instant: str | None) -> str:
    """An ISO instant as a time in Asia/Shanghai."""
    if instant is None:
        return ""
    return datetime.fromisoformat(instant).astimezone(ZONE).strftime("%Y-%m-%d %H:%M")


def _rows(pairs: list[tuple[str, str]]) -> str:
    return "<dl>" + "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in pairs if v) + "</dl>"


def qr_svg(text: str, label: str) -> str:
    """`text` as an inline SVG QR code (handlers/qr_render.py's path)."""
    path = qr_path(text)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {path.side} {path.side}" '
            f'shape-rendering="crispEdges" role="img" aria-label="{_e(label)}">'
            f'<rect width="100%" height="100%" fill="#fff"/>'
            f'<path d="{_e(path.d)}" fill="#000"/></svg>')


def _verdict(answer: Mapping[str, Any]) -> str:
    verdict = Verdict(answer["verdict"])
    word, colour, meaning = VERDICTS[verdict]
    history = answer["history"]
    if verdict == Verdict.ALREADY_VERIFIED and history and history["first_verified_at"]:
        place = f"在{history['first_verified_city']}" if history["first_verified_city"] else ""
        meaning = (f"此码已于 {_shanghai(history['first_verified_at'])} {place}首次验证，"
                   f"共验证 {history['verifications']} 次。")
    reasons = "".join(f"<li>{_e(REASONS.get(r, r))}</li>" for r in answer["reasons"])
    points = (f"<p>首次验证奖励 {_e(answer['points_awarded'])} 积分</p>"
              if answer["points_awarded"] else "")
    return (f'<section class="verdict" style="background:{colour}">'
            f'<div class="word">{_e(word)}</div><p>{_e(meaning)}</p>'
            f"{f'<ol>{reasons}</ol>' if reasons else ''}{points}</section>")


def _pin_form(notice: str = "") -> str:
    told = f'<p class="warning">{_e(notice)}</p>' if notice else ""
    return ('<section><h2>输入验证码</h2>'
            f'{told}<p class="muted">请刮开包装上的涂层，输入其中的验证码完成验证。</p>'
            '<form method="post"><input name="pin" inputmode="numeric" maxlength="16" '
            'autocomplete="one-time-code" required aria-label="验证码"> '
            "<button>验证</button></form></section>")


def _product_batch(product: Mapping[str, Any] | None, batch: Mapping[str, Any]) -> str:
    report = batch["qa_report"]
    link = ""
    if report and urlsplit(report["url"]).scheme in {"http", "https"}:
        link = f'<a href="{_e(report["url"])}" rel="noopener noreferrer">查看质检报告</a>'
        if report["hash"]:
            link += f'<br><span class="muted">校验值 {_e(report["hash"])}</span>'
    head = ""
    if product is not None:
        sku = f" · {_e(product['sku'])}" if product["sku"] else ""
        head = (f"<section><h1>{_e(product['name'])}</h1>"
                f'<p class="muted">GTIN {_e(product["gtin"])}{sku}</p></section>')
    return head + "<section><h2>批次信息</h2>" + _rows([
        ("批号", _e(batch["lot"])), ("生产日期", _e(batch["production_date"])),
        ("有效期至", _e(batch["expiry_date"] or "")), ("生产工厂", _e(batch["factory"])),
        ("销售区域", _e("、".join(batch["region"]))), ("质检报告", link),
    ]) + "</section>"


def _trace(events: list[Mapping[str, Any]]) -> str:
    if not events:
        return ""
    items = []
    for event in events:
        when = datetime.fromisoformat(event["event_time"]).strftime("%Y-%m-%d %H:%M")
        step = STEPS.get(BizStep(event["biz_step"]), event["biz_step"])
        where = " · ".join(_e(v) for v in (event["location"], event["party"]) if v)
        items.append(f"<li><strong>{_e(step)}</strong> {_e(when)} "
                     f'<span class="muted">({_e(event["time_zone_offset"])})</span>'
                     f"{f'<br>{where}' if where else ''}</li>")
    return f"<section><h2>溯源信息</h2><ol>{''.join(items)}</ol></section>"


def _history(history: Mapping[str, Any]) -> str:
    first = ""
    if history["first_verified_at"]:
        first = _e(_shanghai(history["first_verified_at"]))
        if history["first_verified_city"]:
            first += f" · {_e(history['first_verified_city'])}"
    return "<section><h2>验证记录</h2>" + _rows([
        ("扫描次数", _e(history["scans"])), ("验证次数", _e(history["verifications"])),
        ("首次验证", first or "尚未验证"),
    ]) + "</section>"


def _guide(guide: Mapping[str, Any] | None) -> str:
    if guide is None:
        return ""
    return (f'<section class="guide"><h2>添加专属导购</h2>{qr_svg(guide["qr_url"], "导购二维码")}'
            f"<p>{_e(GUIDE_TEXT)}</p></section>")


def _document(title: str, body: str) -> str:
    return ('<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="robots" content="noindex">'
            f"<title>{_e(title)}</title><style>{STYLE}</style></head>"
            f"<body><main>{body}</main></body></html>")


def render_page(answer: Mapping[str, Any], notice: str = "") -> str:
    """The page of a scan answer (handlers/trace_view.py's JSON)."""
    word = VERDICTS[Verdict(answer["verdict"])][0]
    parts = [_verdict(answer)]
    if answer["warning"]:
        parts.append(f'<section class="warning">{_e(answer["warning"])}</section>')
    if answer["pin_required"]:
        parts.append(_pin_form(notice))
    if answer["batch"] is not None:
        parts.append(_product_batch(answer["product"], answer["batch"]))
        parts += [_trace(answer["trace"]), _history(answer["history"]), _guide(answer["guide"])]
        parts.append(f'<p class="muted">安心码 {_e(answer["code"]["serial"])}</p>')
    return _document(f"安心码 · {word}", "".join(parts))


def _page(text: str, status: int = 200, headers: Mapping[str, str] | None = None
          ) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8",
                        headers={**HEADERS, **(headers or {})})


async def scan_page(request: web.Request) -> web.Response:
    settings: Settings = request.config_dict[SETTINGS]
    trace = settings.trace
    pin = None
    if request.method == "POST":
        pin = str((await request.post()).get("pin") or "") or None
    base = urlsplit(trace.base_url)
    text = f"{base.scheme}://{base.netloc}{request.raw_path.partition('?')[0]}"
    try:
        result = await scan(
            text, member_id=None, city=unquote(request.headers.get(trace.city_header, "")),
            client=request.remote or "", user_agent=request.headers.get("User-Agent", ""),
            pin=pin, settings=settings, redis=request.config_dict[REDIS], now=app_now(request))
    except RateLimited as exc:
        return _page(_document("安心码 · 请稍后再试", (
            "<section><h1>请稍后再试</h1><p>验证失败次数过多，请 "
            f"{_e(exc.retry_after)} 秒后再试。</p></section>")), 429,
            {"Retry-After": str(exc.retry_after)})
    except WrongPin as exc:
        notice = (f"验证码不正确，还可尝试 {exc.attempts_left} 次。" if exc.attempts_left
                  else "验证码输错次数过多，此码已锁定。")
        return _page(_document("安心码 · 验证码不正确", _pin_form(notice)), 400)
    return _page(render_page(scan_json(result, trace)))


def scan_page_routes(settings: Settings) -> list[web.RouteDef]:
    """The page's routes: at the root, and under trace.base_url's path prefix if any."""
    paths = [CODE_PATH]
    prefix = urlsplit(settings.trace.base_url).path.strip("/")
    if prefix:
        paths.append(f"/{{prefix:(?i:{re.escape(prefix)})}}{CODE_PATH}")
    # No HEAD: link checkers and preview fetchers send it, and a scan is not theirs to make.
    return [route for path in paths
            for route in (web.get(path, scan_page, allow_head=False), web.post(path, scan_page))]
