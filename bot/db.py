"""Database connection and migrations through tortoise-orm's built-in migration engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api.migrate import migrate as tortoise_migrate

from bot.settings import ROOT
from models import MODEL_MODULES


async def _keep_session(connection: Any) -> None:
    """asyncpg's pool resets every connection it takes back (RESET ALL, UNLISTEN *,
    CLOSE ALL, advisory unlocks): one more round trip per use, about 12 % of a worker's
    CPU under load. We set no session state, listen to nothing and keep no cursors or
    advisory locks, so only what asyncpg always does on release stays (a transaction
    left open is rolled back)."""


def tortoise_config(database_url: str) -> dict[str, Any]:
    url = database_url
    connection: str | dict[str, Any]
    if url.startswith("sqlite://") and not url.startswith("sqlite:///") and url != "sqlite://:memory:":
        path = Path(url[len("sqlite://") :])
        if not path.is_absolute():
            path = ROOT / path
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite://{path}"
    elif url.startswith("sqlite:///"):
        Path(url[len("sqlite://") :]).parent.mkdir(parents=True, exist_ok=True)
    if url.startswith(("postgres://", "postgresql://")):
        connection = expand_db_url(url)
        connection["credentials"]["reset"] = _keep_session
    else:
        connection = url
    return {
        "connections": {"default": connection},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "models.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


async def open_db(database_url: str) -> None:
    """Connect now rather than on the first query: a bad URL fails at start, and no
    query is ever the one opening the connection. tortoise takes its connection lock
    before opening a missing connection and does not release it if that is cancelled
    (a process stopping right after it started), which left every later query waiting
    on the lock forever."""
    await Tortoise.init(config=tortoise_config(database_url))
    await connections.get("default").create_connection(with_db=True)


async def close_db() -> None:
    await Tortoise.close_connections()


async def migrate(database_url: str) -> None:
    """Apply every migration not yet applied (idempotent)."""
    await tortoise_migrate(config=tortoise_config(database_url))
    await Tortoise.close_connections()


# For `python run.py makemigrations`: the model state is compared with the migration
# files, so an in-memory database is enough.
MAKEMIGRATIONS_CONFIG = tortoise_config("sqlite://:memory:")
