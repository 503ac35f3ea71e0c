"""Bearer-token authentication of every admin route, over real HTTP."""

from __future__ import annotations

import dataclasses

from bot.settings import AdminSettings, Settings
from tests.admin_api.conftest import OTHER_TOKEN, TOKEN, AdminClient, admin_client

ROUTES = [("GET", "/channels"), ("POST", "/channels"), ("GET", "/channels/1"),
          ("PATCH", "/channels/1"), ("DELETE", "/channels/1"), ("GET", "/channels/1/qr.png"),
          ("GET", "/tags"), ("POST", "/tags/sync"), ("GET", "/events/failed"),
          ("POST", "/events/1/replay"), ("GET", "/openapi.json")]


async def test_no_token_and_unknown_tokens_are_refused_everywhere(admin: AdminClient) -> None:
    wrong = [None, "", TOKEN[:-1], TOKEN + "x", TOKEN.upper(), f"{TOKEN} {OTHER_TOKEN}",
             "短的令牌-not-ascii"]
    for method, path in ROUTES:
        for token in wrong:
            reply = await admin.request(method, path, token=token, json={})
            assert reply.status == 401, (method, path, token, reply.body)
            assert reply.error["code"] == "unauthorized"
            assert reply.headers["WWW-Authenticate"].startswith("Bearer")


async def test_scheme_must_be_bearer(admin: AdminClient) -> None:
    for header in (f"Basic {TOKEN}", TOKEN, f"Bearer{TOKEN}"):
        reply = await admin.get("/channels", token=None, headers={"Authorization": header})
        assert reply.status == 401, header
    reply = await admin.get("/channels", token=None, headers={"Authorization": f"bearer {TOKEN}"})
    assert reply.status == 200


async def test_each_configured_token_is_accepted(admin: AdminClient) -> None:
    for token in (TOKEN, OTHER_TOKEN):
        reply = await admin.get("/channels", token=token)
        assert reply.status == 200, reply.body
        assert reply.json()["items"] == []


async def test_an_empty_token_list_refuses_everyone(settings: Settings, corp: object) -> None:
    closed = dataclasses.replace(settings, admin=AdminSettings(tokens=()))
    async with admin_client(closed) as client:
        for token in (TOKEN, "", None):
            reply = await client.get("/channels", token=token)
            assert reply.status == 401
            assert reply.error["code"] == "unauthorized"


async def test_auth_comes_before_routing(admin: AdminClient) -> None:
    """An unknown path tells an unauthenticated caller nothing; with a token it is a
    JSON 404, and a wrong method a JSON 405."""
    assert (await admin.get("/nowhere", token=None)).status == 401
    missing = await admin.get("/nowhere")
    assert missing.status == 404
    assert missing.error["code"] == "not_found"
    wrong_method = await admin.request("PUT", "/channels")
    assert wrong_method.status == 405
    assert wrong_method.error["code"] == "method_not_allowed"
    assert "POST" in wrong_method.headers["Allow"]
