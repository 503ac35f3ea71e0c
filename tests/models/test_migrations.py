"""The migrations build the whole schema from nothing (the suite's tests start from a
copy of a database migrated once), and applying them again changes nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tortoise import Tortoise

from bot import db


async def test_an_empty_database_gets_a_table_for_every_model(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    await db.migrate(f"sqlite://{path}")
    await db.migrate(f"sqlite://{path}")  # again: nothing left to apply
    with sqlite3.connect(path) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master "
                                                     "WHERE type = 'table'")}
        applied = conn.execute("SELECT count(*), count(DISTINCT name) "
                               "FROM tortoise_migrations").fetchone()
    await db.open_db(f"sqlite://{path}")
    try:
        expected = {model._meta.db_table for app in Tortoise.apps.values()
                    for model in app.values()}
    finally:
        await db.close_db()
    assert len(expected) > 30
    assert expected <= tables, sorted(expected - tables)
    migrations = len(list((Path(db.__file__).parents[1] / "models" / "migrations")
                          .glob("0*.py")))
    assert applied == (migrations, migrations)
