"""Console: setting up the corp and looking at it.

- `POST /sandbox/staff` {userid, name?, customer_contact?=true, avatar?,
  console_welcome?=false} → {"staff": {...}}; `console_welcome`: the admin set a
  welcome message for the member in the WeCom console, so their adds carry no
  WelcomeCode.
- `POST /sandbox/customers` {name, external_userid?, type?=1, avatar?, gender?, unionid?,
  corp_name?, corp_full_name?, position?} → {"customer": {...}}; the id is generated
  (`wm…` for type 1 WeChat users, `wo…` for type 2 WeCom users) when not given.
- `POST /sandbox/seed` {staff, customers_per_staff} → {"follows": {userid: [external_userid]},
  "staff": N, "customers": N*M}: bulk data for full-sync tests and benchmarks.
- `GET /sandbox/state` → counts of everything, planned faults, the clock.
- `POST /sandbox/reset` → a fresh corp, no tokens, faults, calls or deliveries.

None of these fire callbacks: they set the scene (WeCom's own admin data).
"""

from __future__ import annotations

from dataclasses import asdict

from aiohttp import web

from bot.sandbox.console_http import Body, deliverer_of, read_body, state_of
from bot.sandbox.contacts import Customer, Staff
from bot.sandbox.errors import ConsoleError
from bot.sandbox.ids import CUSTOMER_PREFIXES, new_external_userid

MAX_SEEDED_RELATIONS = 1_000_000


async def add_staff(request: web.Request) -> web.Response:
    body = await read_body(request)
    userid = body.text("userid")
    staff = state_of(request).contacts.add_staff(Staff(
        userid=userid, name=body.text("name", userid),
        customer_contact=body.flag("customer_contact", True),
        avatar=body.text("avatar", ""),
        console_welcome=body.flag("console_welcome", False),
    ))
    return web.json_response({"staff": asdict(staff)})


def customer_from(body: Body) -> Customer:
    """A new customer as a console body describes it (also a QR scan's new customer)."""
    customer_type = body.integer("type", 1)
    if customer_type not in (1, 2):
        raise ConsoleError("type must be 1 (WeChat user) or 2 (WeCom user)")
    external_userid = body.text("external_userid", "") or new_external_userid(customer_type)
    if not external_userid.startswith(CUSTOMER_PREFIXES):
        raise ConsoleError("external_userid must start with wm or wo")
    return Customer(
        external_userid=external_userid,
        name=body.text("name"),
        type=customer_type,
        avatar=body.text("avatar", ""),
        gender=body.integer("gender", 0),
        unionid=body.text("unionid", ""),
        corp_name=body.text("corp_name", ""),
        corp_full_name=body.text("corp_full_name", ""),
        position=body.text("position", ""),
    )


async def add_customer(request: web.Request) -> web.Response:
    body = await read_body(request)
    customer = state_of(request).contacts.add_customer(customer_from(body))
    return web.json_response({"customer": asdict(customer)})


async def seed(request: web.Request) -> web.Response:
    body = await read_body(request)
    staff, per_staff = body.integer("staff"), body.integer("customers_per_staff")
    if staff < 0 or per_staff < 0 or staff * per_staff > MAX_SEEDED_RELATIONS:
        raise ConsoleError(f"staff and customers_per_staff must be >= 0, "
                           f"at most {MAX_SEEDED_RELATIONS} relations")
    state = state_of(request)
    follows = state.contacts.seed(staff, per_staff, createtime=int(state.now()))
    return web.json_response(
        {"follows": follows, "staff": len(follows), "customers": staff * per_staff}
    )


async def show_state(request: web.Request) -> web.Response:
    summary = state_of(request).summary()
    return web.json_response({**summary, "deliveries": len(deliverer_of(request).log)})


async def reset(request: web.Request) -> web.Response:
    state_of(request).reset()
    deliverer_of(request).clear()
    return web.json_response({"reset": True})


def routes() -> list[web.RouteDef]:
    return [
        web.post("/staff", add_staff),
        web.post("/customers", add_customer),
        web.post("/seed", seed),
        web.get("/state", show_state),
        web.post("/reset", reset),
    ]
