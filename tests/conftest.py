"""Shared fixtures: the backend matrix and settings.

Every test that asks for `backend` (directly or through `settings`/`redis`) runs on the
embedded default (SQLite file + fakeredis) and, when SCRM_TEST_DATABASE_URL and
SCRM_TEST_REDIS_URL are set, again on PostgreSQL + Redis over real connections.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot import db
from bot.redis_conn import open_redis
from bot.settings import Settings, load_settings
from tests.apphost import free_port

pytest_plugins = ["tests.sandbox_fixtures"]

REAL_DB = os.environ.get("SCRM_TEST_DATABASE_URL", "")
REAL_REDIS = os.environ.get("SCRM_TEST_REDIS_URL", "")


@dataclass(frozen=True)
class Backend:
    name: str
    database_url: str
    redis_url: str

    @property
    def real(self) -> bool:
        return self.name == "real"


def _backend_params() -> list[str]:
    return ["embedded", "real"] if REAL_DB and REAL_REDIS else ["embedded"]


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An embedded database with every migration applied, made once per run: each test
    starts from a copy of it (applying the migrations takes most of a second, a copy a
    millisecond). tests/models/test_migrations.py migrates from nothing on its own."""
    path = tmp_path_factory.mktemp("migrated") / "scrm.sqlite3"
    asyncio.run(db.migrate(f"sqlite://{path}"))
    return path


@pytest.fixture(params=_backend_params())
def backend(request: pytest.FixtureRequest, tmp_path: Path, migrated_sqlite: Path) -> Backend:
    if request.param == "real":
        return Backend("real", REAL_DB, REAL_REDIS)
    shutil.copyfile(migrated_sqlite, tmp_path / "scrm.sqlite3")
    return Backend("embedded", f"sqlite://{tmp_path / 'scrm.sqlite3'}", "")


def make_settings(backend: Backend | None = None, **overrides: str) -> Settings:
    """Settings from the repo's settings.toml with env-style overrides
    (`make_settings(b, wecom__api_base="http://...")`)."""
    env = {f"SCRM__{k.upper()}": v for k, v in overrides.items()}
    env.setdefault("SCRM__SANDBOX__ENABLED", "false")
    if backend is not None:
        env["SCRM__DATABASE__URL"] = backend.database_url
        env["SCRM__REDIS__URL"] = backend.redis_url
    return load_settings(environ=env)



async def _reset_real_services(backend: Backend) -> None:
    """Bring PostgreSQL to the latest migration with empty tables, and Redis to empty."""
    from tortoise import connections

    await db.migrate(backend.database_url)
    await db.open_db(backend.database_url)
    try:
        conn = connections.get("default")
        _, rows = await conn.execute_query(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename <> 'tortoise_migrations'"
        )
        tables = ", ".join(f'"{row["tablename"]}"' for row in rows)
        if tables:
            await conn.execute_script(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        await db.close_db()
    client = open_redis(backend.redis_url)
    await client.flushdb()
    # .ci/run checks this marker to prove the suite really used Redis.
    await client.set("scrm:ci:real-backend", "1")
    await client.aclose()


@pytest.fixture
async def settings(backend: Backend) -> Settings:
    """Settings for one test: the app and the sandbox on free ports, WeCom and
    mini-program API calls pointed at the sandbox, callbacks pointed at the app,
    and retry backoffs shrunk so failure paths finish quickly."""
    if backend.real:
        await _reset_real_services(backend)
    app_port, sandbox_port = free_port(), free_port()
    sandbox_url = f"http://127.0.0.1:{sandbox_port}"
    return make_settings(
        backend,
        server__port=str(app_port),
        sandbox__port=str(sandbox_port),
        wecom__api_base=sandbox_url,
        miniapp__api_base=sandbox_url,
        queue__retry_base_seconds="0.01",
        queue__retry_max_seconds="0.05",
        wecom__busy_backoff_seconds="0.01",
        sandbox__delivery_timeout_seconds="2",
        queue__sweep_interval_seconds="0.2",
    )


@pytest.fixture
async def app_server(settings: Settings) -> AsyncIterator[str]:
    """The real app from the factory, listening on settings.server.port; yields its URL."""
    from aiohttp import web

    from bot.app import create_app

    runner = web.AppRunner(create_app(settings))
    try:  # a failed start still closes what started (see tests.apphost.serve_app)
        await runner.setup()
        await web.TCPSite(runner, settings.server.host, settings.server.port).start()
        yield settings.server.base_url
    finally:
        await runner.cleanup()


@pytest.fixture
async def redis(backend: Backend) -> AsyncIterator[Redis]:
    client = open_redis(backend.redis_url)
    await client.flushdb()
    if backend.real:
        await client.set("scrm:ci:real-backend", "1")
    yield client
    await client.aclose()


@pytest.fixture(autouse=True)
def _fresh_tortoise_statement_cache() -> None:
    """tortoise caches INSERT statements per connection name and table, not per dialect;
    a process that switches between SQLite and PostgreSQL (only this test suite does)
    must drop them, or PostgreSQL is sent SQLite's `?` placeholders."""
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    EXECUTOR_CACHE.clear()
