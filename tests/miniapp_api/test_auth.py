"""Every member route refuses a request without a live session — no token, a forged
one, an expired one, a revoked one, another scheme — with a 401 in the JSON error shape,
before doing anything; login and the 安心码 scan alone are open."""

from __future__ import annotations

import re

from aiohttp import web

from bot.app import create_app
from bot.settings import Settings
from models.members import Member, MemberStatus
from tests.miniapp_api.conftest import MemberClient, MiniApp

PUBLIC_ROUTES = {("POST", "/login"), ("POST", "/trace/scan")}


def member_routes(settings: Settings) -> list[tuple[str, str]]:
    """(method, path) of every route under /miniapp/api/ but the public ones (checked
    to be exactly PUBLIC_ROUTES), path parameters filled with 1."""
    app = create_app(settings)
    [miniapp] = [r.get_info()["app"] for r in app.router.resources()
                 if isinstance(r, web.PrefixedSubAppResource)
                 and r.get_info()["prefix"] == "/miniapp/api"]
    prefix = len("/miniapp/api")
    routes = {(route.method, re.sub(r"\{[^}]+\}", "1", route.resource.canonical[prefix:])):
              bool(getattr(route.handler, "public", False))
              for route in miniapp.router.routes()
              if route.resource is not None and route.method != "HEAD"}
    assert {route for route, public in routes.items() if public} == PUBLIC_ROUTES
    return sorted(route for route, public in routes.items() if not public)


async def refused(client: MemberClient, method: str, path: str, **kwargs: object) -> str:
    """The error message of a 401 (after checking its shape)."""
    reply = await client.request(method, path, json={"code": "x"}, **kwargs)  # type: ignore[arg-type]
    assert reply.status == 401, (method, path, reply.status, reply.body)
    assert reply.error["code"] == "unauthorized"
    assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    return str(reply.error["message"])


async def test_every_member_route_needs_a_live_session(
    miniapp: MiniApp, settings: Settings
) -> None:
    routes = member_routes(settings)
    assert {("GET", "/me"), ("PATCH", "/me"), ("DELETE", "/me"), ("POST", "/me/phone"),
            ("GET", "/me/export"), ("POST", "/logout")} <= set(routes)
    user = await miniapp.sandbox.miniapp_user()
    member_client, member = await miniapp.log_in(user)
    token = member_client.token
    assert token is not None
    api = miniapp.api
    for method, path in routes:
        assert "required" in await refused(api, method, path, token=None)
        for forged in (token[:-1] + ("A" if token[-1] != "A" else "B"), "x" * 43, "y" * 500):
            await refused(api, method, path, token=forged)
        await refused(api, method, path, headers={"Authorization": f"Basic {token}"})
    # None of that touched the member.
    assert (await Member.get(id=member["id"])).status == MemberStatus.ACTIVE
    assert (await member_client.get("/me")).status == 200


async def test_an_expired_session_is_refused_everywhere(
    miniapp: MiniApp, settings: Settings
) -> None:
    member_client, _ = await miniapp.log_in(await miniapp.sandbox.miniapp_user())
    miniapp.clock.advance(settings.members.session_days * 86400 - 60)
    assert (await member_client.get("/me")).status == 200
    miniapp.clock.advance(120)
    for method, path in member_routes(settings):
        assert "expired" in await refused(member_client, method, path)


async def test_a_revoked_session_is_refused_everywhere(
    miniapp: MiniApp, settings: Settings
) -> None:
    member_client, _ = await miniapp.log_in(await miniapp.sandbox.miniapp_user())
    assert (await member_client.post("/logout")).status == 204
    for method, path in member_routes(settings):
        await refused(member_client, method, path)


async def test_unknown_paths_are_refused_before_routing(miniapp: MiniApp) -> None:
    await refused(miniapp.api, "GET", "/no-such-thing", token=None)
    member_client, _ = await miniapp.log_in(await miniapp.sandbox.miniapp_user())
    reply = await member_client.get("/no-such-thing")
    assert (reply.status, reply.error["code"]) == (404, "not_found")
    reply = await member_client.request("PUT", "/me", json={})
    assert (reply.status, reply.error["code"]) == (405, "method_not_allowed")
    await refused(miniapp.api, "GET", "/login", token=None)  # only POST /login is open
