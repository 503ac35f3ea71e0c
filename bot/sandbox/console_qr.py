"""Console: a 「联系我」 QR code as a phone would open it, and a customer scanning it.

The `qr_code` URL that add_contact_way answers points here, so a browser (or a test)
can play the customer:

- `GET /sandbox/qr/{config_id}` → a small HTML page (UTF-8, no external assets): the
  contact way's state, remark and guides, and a form (customer name, optional
  external_userid) posting to the scan below.
- `POST /sandbox/qr/{config_id}/scan`, a form or JSON {name?, external_userid?,
  wait?, and any `POST /sandbox/customers` field}: the customer (the one
  `external_userid` names, else a new one, for which `name` is required) adds the next
  guide: type 1 the one user, type 2 the users in turn. That is `contacts/add` with the
  way's `state` and add_way 1 (QR scan): add_external_contact fires with State and a
  WelcomeCode (none when the guide has a console welcome). With skip_verify false the
  sandbox plays the guide accepting at once. JSON answers {"relation", "welcome_code",
  "delivery"}; the form answers an HTML page saying the same.
"""

from __future__ import annotations

from html import escape
from typing import Any

from aiohttp import web

from bot.sandbox.console_contacts import customer_adds
from bot.sandbox.console_http import Body, read_body, state_of
from bot.sandbox.console_setup import customer_from
from bot.sandbox.contact_ways import ContactWay
from bot.sandbox.contacts import ADD_WAY_QR_CODE
from bot.sandbox.state import SandboxState

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
STYLE = ("body{font-family:sans-serif;max-width:34em;margin:2em auto;padding:0 1em}"
         "dt{font-weight:bold}label{display:block;margin:.5em 0}")


def page(title: str, body: str) -> web.Response:
    html = (f'<!doctype html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
            f"<body>{body}</body></html>\n")
    return web.Response(text=html, content_type="text/html", charset="utf-8")


def facts(pairs: list[tuple[str, str]]) -> str:
    return "<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>"
                            for k, v in pairs) + "</dl>"


def way_named(request: web.Request) -> ContactWay:
    return state_of(request).contact_ways.require(request.match_info["config_id"])


async def show_qr(request: web.Request) -> web.Response:
    state, way = state_of(request), way_named(request)
    guides = ", ".join(f"{state.contacts.staff[u].name} ({u})" for u in way.users)
    action = escape(f"/sandbox/qr/{way.config_id}/scan")
    form = (f'<form method="post" action="{action}">'
            '<label>客户名称 <input name="name" required></label>'
            "<label>external_userid（可选，已有客户）<input name=\"external_userid\"></label>"
            "<button>扫码添加</button></form>")
    return page(f"联系我 {way.remark or way.config_id}", "<h1>「联系我」</h1>" + facts([
        ("config_id", way.config_id), ("state", way.state), ("remark", way.remark),
        ("type", "单人" if way.type == 1 else "多人"), ("guides", guides),
        ("skip_verify", str(way.skip_verify).lower()),
    ]) + form)


async def form_or_json(request: web.Request) -> tuple[Body, bool]:
    """A console POST's fields, from a page's form or a JSON body; True for a form."""
    if request.content_type in FORM_TYPES:
        form = await request.post()
        return Body({k: v for k, v in form.items() if isinstance(v, str) and v}), True
    return await read_body(request), False


async def scan(request: web.Request) -> web.StreamResponse:
    body, from_form = await form_or_json(request)
    state, way = state_of(request), way_named(request)
    answer = await customer_adds(
        request, way.next_guide(), scanning_customer(state, body), state=way.state,
        add_way=ADD_WAY_QR_CODE, wait=body.wait,
    )
    return scanned_page(way, answer) if from_form else web.json_response(answer)


def scanning_customer(state: SandboxState, body: Body) -> str:
    external_userid = body.text("external_userid", "")
    if external_userid in state.contacts.customers:
        return external_userid
    return state.contacts.add_customer(customer_from(body)).external_userid


def scanned_page(way: ContactWay, answer: dict[str, Any]) -> web.Response:
    relation = answer["relation"]
    back = escape(f"/sandbox/qr/{way.config_id}")
    return page("已添加", "<h1>已添加</h1>" + facts([
        ("external_userid", relation["external_userid"]), ("guide", relation["userid"]),
        ("state", relation["state"]),
        ("WelcomeCode", answer["welcome_code"] or "（无：成员已配置欢迎语或已聊天）"),
        ("callback", answer["delivery"]["outcome"]),
    ]) + f'<p><a href="{back}">再扫一次</a></p>')


def routes() -> list[web.RouteDef]:
    return [
        web.get("/qr/{config_id}", show_qr),
        web.post("/qr/{config_id}/scan", scan),
    ]
