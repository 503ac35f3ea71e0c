"""Database connection and migrations through tortoise-orm's built-in migration engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate as tortoise_migrate

from bot.settings import ROOT
from models import MODEL_MODULES


def tortoise_config(database_url: str) -> dict[str, Any]:
    url = database_url
    if url.startswith("sqlite://") and not url.startswith("sqlite:///") and url != "sqlite://:memory:":
        path = Path(url[len("sqlite://") :])
        if not path.is_absolute():
            path = ROOT / path
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite://{path}"
    elif url.startswith("sqlite:///"):
        Path(url[len("sqlite://") :]).parent.mkdir(parents=True, exist_ok=True)
    return {
        "connections": {"default": url},
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
    await Tortoise.init(config=tortoise_config(database_url))


async def close_db() -> None:
    await Tortoise.close_connections()


async def migrate(database_url: str) -> None:
    """Apply every migration not yet applied (idempotent)."""
    await tortoise_migrate(config=tortoise_config(database_url))
    await Tortoise.close_connections()


# For `python run.py makemigrations`: the model state is compared with the migration
# files, so an in-memory database is enough.
MAKEMIGRATIONS_CONFIG = tortoise_config("sqlite://:memory:")
