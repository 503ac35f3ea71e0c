"""The error middleware over real HTTP: WeCom out of reach, and unexpected failures."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp import web

from admin_api.app import create_admin_app
from bot.keys import SETTINGS
from bot.settings import Settings
from tests.admin_api.conftest import TOKEN, AdminClient, admin_client, channel_body
from tests.apphost import free_port
from tests.sandbox_fixtures import SandboxConsole


async def test_wecom_out_of_reach_is_503(settings: Settings, corp: SandboxConsole) -> None:
    nowhere = dataclasses.replace(settings, wecom=dataclasses.replace(
        settings.wecom, api_base=f"http://127.0.0.1:{free_port()}"))
    async with admin_client(nowhere) as admin:
        reply = await admin.post("/channels", channel_body())
        assert reply.status == 503
        assert reply.error["code"] == "wecom_unavailable"
        assert (await admin.get("/channels")).json()["total"] == 0


@asynccontextmanager
async def app_with_failing_route(settings: Settings) -> AsyncIterator[AdminClient]:
    """The admin sub-app, mounted as the real app mounts it, plus one route that fails
    the way a bug would."""

    async def broken(request: web.Request) -> web.Response:
        secret = request.headers["Authorization"]
        raise RuntimeError("bug " + str(len(secret)))

    admin = create_admin_app()
    admin.router.add_get("/broken", broken)
    app = web.Application()
    app[SETTINGS] = settings
    app.add_subapp("/admin/api/", admin)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with aiohttp.ClientSession() as session:
            yield AdminClient(f"http://127.0.0.1:{port}", session, TOKEN)
    finally:
        await runner.cleanup()


async def test_unexpected_failure_is_a_generic_500(settings: Settings,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with app_with_failing_route(settings) as admin:
        assert (await admin.get("/broken", token=None)).status == 401
        reply = await admin.get("/broken")
    assert reply.status == 500
    assert reply.error == {"code": "internal_error",
                           "message": "internal error; see the server log"}
    [record] = [r for r in caplog.records if r.getMessage().startswith("admin.internal_error")]
    assert record.exc_info is not None and "RuntimeError" in caplog.text
    assert TOKEN not in caplog.text
