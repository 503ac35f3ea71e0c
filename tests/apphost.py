"""Test helpers: run the real app on its configured port, sign and encrypt callbacks,
and wait for a condition with a timeout (never a fixed sleep)."""

from __future__ import annotations

import asyncio
import base64
import os
import random
import socket
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar
from urllib.parse import urlencode

from aiohttp import web
from wechatpy.crypto.cryptography import WeChatCipher
from wechatpy.crypto.pkcs7 import PKCS7Encoder

from bot.app import create_app
from bot.crypto import aes_key, signature
from bot.settings import ROOT, Settings

T = TypeVar("T")


@asynccontextmanager
async def serve_app(
    settings: Settings, clock: Callable[[], float] = time.time
) -> AsyncIterator[str]:
    runner = web.AppRunner(create_app(settings, clock=clock))
    try:  # a failed start (a port taken) still closes what started: an open database
        await runner.setup()  # thread would keep the test process from exiting
        await web.TCPSite(runner, settings.server.host, settings.server.port).start()
        yield settings.server.base_url
    finally:
        await runner.cleanup()


# Ports tests bind: below Linux's ephemeral range (32768-60999), which the kernel hands
# out as the source port of every outgoing connection, so no client of this or another
# process can take a port between the test choosing it and its server binding it.
_TEST_PORTS = (20000, 32000)


def free_port() -> int:
    """A local port nothing listens on now: for a server to bind, or, left unused, for
    a client whose connections must be refused."""
    for _ in range(200):
        port = random.randint(*_TEST_PORTS)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {_TEST_PORTS}")


async def wait_for(
    probe: Callable[[], Awaitable[T]], timeout: float = 10.0, what: str = "condition"
) -> T:
    """Await `probe()` until it returns something truthy, or fail after `timeout`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


def encrypt(settings: Settings, message: str, receive_id: str | None = None) -> str:
    """Encrypt like WeCom does, with wechatpy's cipher (independent of the sandbox)."""
    text = message.encode("utf-8")
    corp = (receive_id if receive_id is not None else settings.wecom.corp_id).encode()
    plain = os.urandom(16) + struct.pack(">I", len(text)) + text + corp
    cipher = WeChatCipher(aes_key(settings.wecom.encoding_aes_key))
    return base64.b64encode(cipher.encrypt(PKCS7Encoder.encode(plain))).decode()


def signed_post(
    settings: Settings, encrypted: str, *, timestamp: int | None = None, nonce: str = "1372623149"
) -> tuple[str, bytes]:
    """Query string and body of a callback POST carrying `encrypted`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    query = urlencode({
        "msg_signature": signature(settings.wecom.token, ts, nonce, encrypted),
        "timestamp": ts,
        "nonce": nonce,
    })
    body = (
        f"<xml><ToUserName><![CDATA[{settings.wecom.corp_id}]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID><![CDATA[1]]></AgentID></xml>"
    )
    return query, body.encode()


def contact_event(change_type: str, external_userid: str, user_id: str = "zhangsan",
                  create_time: int | None = None, extra: str = "") -> str:
    ts = int(time.time()) if create_time is None else create_time
    return (
        "<xml><ToUserName><![CDATA[corp]]></ToUserName><FromUserName><![CDATA[sys]]>"
        f"</FromUserName><CreateTime>{ts}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[change_external_contact]]></Event>"
        f"<ChangeType><![CDATA[{change_type}]]></ChangeType><UserID><![CDATA[{user_id}]]>"
        f"</UserID><ExternalUserID><![CDATA[{external_userid}]]></ExternalUserID>{extra}</xml>"
    )


def settings_env(settings: Settings) -> dict[str, str]:
    """Env overrides that give a subprocess (run.py) the same settings as `settings`."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRM")}
    values = {
        "DATABASE__URL": settings.database.url,
        "REDIS__URL": settings.redis.url,
        "SERVER__PORT": str(settings.server.port),
        "SANDBOX__PORT": str(settings.sandbox.port),
        "SANDBOX__ENABLED": "true" if settings.sandbox.enabled else "false",
        "WECOM__API_BASE": settings.wecom.api_base,
        "MINIAPP__API_BASE": settings.miniapp.api_base,
        "QUEUE__RETRY_BASE_SECONDS": str(settings.queue.retry_base_seconds),
        "QUEUE__RETRY_MAX_SECONDS": str(settings.queue.retry_max_seconds),
        "QUEUE__SWEEP_INTERVAL_SECONDS": str(settings.queue.sweep_interval_seconds),
        "QUEUE__LEASE_SECONDS": str(settings.queue.lease_seconds),
        "QUEUE__MAX_ATTEMPTS": str(settings.queue.max_attempts),
        "WECOM__BUSY_BACKOFF_SECONDS": str(settings.wecom.busy_backoff_seconds),
        "SOP__TICK_SECONDS": str(settings.sop.tick_seconds),
    }
    env.update({f"SCRM__{key}": value for key, value in values.items()})
    return env


async def start_cli(settings: Settings, *args: str) -> asyncio.subprocess.Process:
    """Start `python run.py ARGS` with `settings`, output piped."""
    import sys

    return await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "run.py"), *args, cwd=ROOT, env=settings_env(settings),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )


async def run_cli(settings: Settings, *args: str, timeout: float = 60) -> tuple[int, str]:
    """Run `python run.py ARGS` with `settings`; return (exit code, stdout+stderr)."""
    proc = await start_cli(settings, *args)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode or 0, out.decode()


@asynccontextmanager
async def cli_process(settings: Settings, *args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """`run.py ARGS` running for the duration of the block, killed at its end."""
    proc = await start_cli(settings, *args)
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.communicate()


@asynccontextmanager
async def worker_process(settings: Settings) -> AsyncIterator[asyncio.subprocess.Process | None]:
    """A `run.py worker` subprocess when the settings use Redis (production layout);
    on the embedded default the app's in-process worker does the work."""
    if not settings.redis.url:
        yield None
        return
    async with cli_process(settings, "worker") as proc:
        yield proc
