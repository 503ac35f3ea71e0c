"""The sandbox server: the app factory, and starting it in-process or standalone.

One aiohttp app serves the WeCom API under /cgi-bin/ (one route module per API area,
plus a fallback answering 48001), the mini-program's WeChat APIs (/sns/, /wxa/ and
/cgi-bin/token, api_miniapp.py) and the console under /sandbox/ (a sub-app with its
own error middleware). Real WeCom and WeChat differ only by the API base URLs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import aiohttp
from aiohttp import web

from bot.sandbox import (
    api,
    api_contact_way,
    api_corp_tag,
    api_external_contact,
    api_group_chat,
    api_join_way,
    api_message,
    api_miniapp,
    api_msg_template,
    api_token,
    api_user,
    api_welcome,
    console_app_messages,
    console_callbacks,
    console_contacts,
    console_faults,
    console_groupmsg,
    console_groups,
    console_join,
    console_messages,
    console_miniapp,
    console_qr,
    console_setup,
    console_tags,
)
from bot.sandbox.clock import SandboxClock
from bot.sandbox.console_http import error_middleware
from bot.sandbox.delivery import DELIVERER, Deliverer
from bot.sandbox.state import STATE, SandboxState
from bot.settings import Settings


def create_sandbox_app(settings: Settings,
                       clock: Callable[[], float] | None = None) -> web.Application:
    """The sandbox app; `clock` is the base clock (default time.time) that
    `POST /sandbox/clock/advance` offsets."""
    app = web.Application()
    app[api.SETTINGS] = settings
    app[STATE] = SandboxState(SandboxClock(clock))
    for area in (api_token, api_external_contact, api_corp_tag, api_contact_way, api_welcome,
                 api_user, api_group_chat, api_join_way, api_msg_template, api_message,
                 api_miniapp):
        app.add_routes(area.routes())
    app.add_routes([api.fallback_route()])
    console = web.Application(middlewares=[error_middleware])
    for module in (console_setup, console_contacts, console_groups, console_tags,
                   console_callbacks, console_faults, console_qr, console_messages,
                   console_join, console_groupmsg, console_app_messages, console_miniapp):
        console.add_routes(module.routes())
    app.add_subapp("/sandbox", console)
    app.cleanup_ctx.append(deliverer_context)
    return app


async def deliverer_context(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession() as session:
        deliverer = Deliverer(app[api.SETTINGS], app[STATE].clock, session)
        app[DELIVERER] = deliverer
        yield
        await deliverer.close()


async def start_sandbox(settings: Settings,
                        clock: Callable[[], float] | None = None) -> web.AppRunner:
    """Serve the sandbox on settings.sandbox.host:port; the caller awaits
    `runner.cleanup()`."""
    # No access log: request URLs carry corpsecret and access_token. A caller that hangs
    # up (a killed worker) cancels its request, injected latency included.
    runner = web.AppRunner(create_sandbox_app(settings, clock), access_log=None,
                           handler_cancellation=True)
    await runner.setup()
    await web.TCPSite(runner, settings.sandbox.host, settings.sandbox.port).start()
    return runner


def run_sandbox(settings: Settings) -> None:
    """Serve the sandbox until interrupted (`python run.py sandbox`)."""
    web.run_app(create_sandbox_app(settings), host=settings.sandbox.host,
                port=settings.sandbox.port, access_log=None, handler_cancellation=True)
