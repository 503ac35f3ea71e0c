"""Single-statement upserts: `INSERT … ON CONFLICT (keys) DO UPDATE … RETURNING id`.

tortoise's `update_or_create` takes a transaction, a locking SELECT and a write: four
round trips where this takes one, and it still races on the unique key. PostgreSQL and
SQLite (≥ 3.35) share this syntax; only the placeholders differ. Values go through each
field's `to_db_value`, so JSON, enums and datetimes are stored as tortoise stores them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from tortoise import connections
from tortoise.models import Model

M = TypeVar("M", bound=Model)


def placeholders(dialect: str, start: int, count: int) -> list[str]:
    if dialect == "postgres":
        return [f"${start + i + 1}" for i in range(count)]
    return ["?"] * count


def id_list(dialect: str, start: int, ids: Sequence[Any], column: str = "id",
            array_type: str = "bigint") -> tuple[str, list[Any]]:
    """`id = ANY($n)` with one array parameter on PostgreSQL (one statement text for any
    count), `id IN (?, …)` on SQLite; `start` parameters come before it."""
    if dialect == "postgres":
        return f"{column} = ANY(${start + 1}::{array_type}[])", [list(ids)]
    return f"{column} IN ({', '.join('?' for _ in ids)})", list(ids)


def _column(model: type[Model], name: str) -> str:
    field = model._meta.fields_map[name]
    return '"' + str(getattr(field, "source_field", None) or name) + '"'


def _defaults(model: type[Model], given: Mapping[str, Any]) -> dict[str, Any]:
    """Python-side defaults of the columns not given (tortoise keeps them out of the
    schema, so a raw INSERT must supply them)."""
    meta = model._meta
    out: dict[str, Any] = {}
    for name in meta.db_fields:
        field = meta.fields_map[name]
        if name in given or field.pk or name in meta.fk_fields:
            continue
        default = field.default
        if default is None:
            continue
        out[name] = default() if callable(default) else default
    return out


async def upsert(
    model: type[Model], keys: Mapping[str, Any], values: Mapping[str, Any]
) -> int:
    """Insert or update the row identified by `keys` (a unique constraint); set
    `values` either way (defaults only on insert); return the row's id."""
    result = await _upsert(model, keys, values, "id")
    return int(result[0]["id"])


async def upsert_row(
    model: type[M], keys: Mapping[str, Any], values: Mapping[str, Any]
) -> M:
    """`upsert`, returning the whole row as it now is (still one statement)."""
    result = await _upsert(model, keys, values, "*")
    return model._init_from_db(**result[0])


async def _upsert(
    model: type[Model], keys: Mapping[str, Any], values: Mapping[str, Any], returning: str
) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    fields = model._meta.fields_map
    updated_names = list(values)
    row: dict[str, Any] = {**keys, **values}
    if "updated_at" in fields:
        row["updated_at"] = now
        updated_names.append("updated_at")
    if "created_at" in fields:
        row.setdefault("created_at", now)
    row = {**_defaults(model, row), **row}
    names = list(row)
    conn = connections.get(model._meta.default_connection or "default")
    dialect = conn.capabilities.dialect
    params = [fields[name].to_db_value(row[name], model) for name in names]
    columns = [_column(model, name) for name in names]
    conflict = ", ".join(_column(model, name) for name in keys)
    updated = [_column(model, name) for name in updated_names] or [columns[0]]
    sql = (
        f'INSERT INTO "{model._meta.db_table}" ({", ".join(columns)}) '
        f"VALUES ({', '.join(placeholders(dialect, 0, len(params)))}) "
        f"ON CONFLICT ({conflict}) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in updated)
        + f" RETURNING {returning}"
    )
    return await conn.execute_query_dict(sql, params)


async def find_row(model: type[M], keys: Mapping[str, Any]) -> M | None:
    """The row with these column values (usually a unique key), in one plain SELECT:
    no query building on the hot path."""
    fields = model._meta.fields_map
    conn = connections.get(model._meta.default_connection or "default")
    names = list(keys)
    marks = placeholders(conn.capabilities.dialect, 0, len(names))
    where = " AND ".join(f"{_column(model, n)} = {m}" for n, m in zip(names, marks, strict=True))
    rows = await conn.execute_query_dict(
        f'SELECT * FROM "{model._meta.db_table}" WHERE {where} LIMIT 1',
        [fields[n].to_db_value(keys[n], model) for n in names],
    )
    return model._init_from_db(**rows[0]) if rows else None


async def insert_row(
    model: type[M], values: Mapping[str, Any], *, unless: Sequence[str]
) -> M | None:
    """Insert the row unless one with the same `unless` columns (a unique constraint)
    exists: one `INSERT … ON CONFLICT DO NOTHING RETURNING *`. Returns the new row, or
    None when it existed."""
    now = datetime.now(UTC)
    fields = model._meta.fields_map
    row: dict[str, Any] = dict(values)
    for stamp in ("created_at", "updated_at"):
        if stamp in fields:
            row.setdefault(stamp, now)
    row = {**_defaults(model, row), **row}
    names = list(row)
    conn = connections.get(model._meta.default_connection or "default")
    marks = placeholders(conn.capabilities.dialect, 0, len(names))
    rows = await conn.execute_query_dict(
        f'INSERT INTO "{model._meta.db_table}" ({", ".join(_column(model, n) for n in names)}) '
        f"VALUES ({', '.join(marks)}) "
        f"ON CONFLICT ({', '.join(_column(model, n) for n in unless)}) DO NOTHING RETURNING *",
        [fields[n].to_db_value(row[n], model) for n in names],
    )
    return model._init_from_db(**rows[0]) if rows else None


# Bound parameters per statement: under SQLite's 32,766 and asyncpg's 32,767.
MAX_PARAMS = 30_000


async def upsert_many(
    model: type[Model], keys: Sequence[str], rows: Sequence[Mapping[str, Any]], *,
    unless_newer: str | None = None, returning: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """`upsert` for many rows in as few statements as the parameter limit allows. Every
    row carries the same columns (`keys` among them) and no two share their keys; a
    stored row gets every given column (defaults only on insert). With `unless_newer`, a
    stored row whose `unless_newer` column is later than the new row's is left as it
    is. Returns the `returning` columns of the rows written."""
    if not rows:
        return []
    now = datetime.now(UTC)
    fields = model._meta.fields_map
    given = list(rows[0])
    stamps: dict[str, Any] = {"updated_at": now} if "updated_at" in fields else {}
    if "created_at" in fields and "created_at" not in given:
        stamps["created_at"] = now
    defaults = _defaults(model, {**rows[0], **stamps})
    names = [*given, *stamps, *defaults]
    updated = [n for n in (*given, *stamps) if n not in keys and n != "created_at"]
    table = f'"{model._meta.db_table}"'
    conn = connections.get(model._meta.default_connection or "default")
    dialect = conn.capabilities.dialect
    columns = [_column(model, name) for name in names]
    tail = (f" ON CONFLICT ({', '.join(_column(model, k) for k in keys)}) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in (_column(model, n) for n in updated)))
    if unless_newer:
        mark = _column(model, unless_newer)
        tail += f" WHERE {table}.{mark} IS NULL OR {table}.{mark} <= excluded.{mark}"
    if returning:
        tail += " RETURNING " + ", ".join(_column(model, n) for n in returning)
    per_statement = max(1, MAX_PARAMS // len(names))
    written: list[dict[str, Any]] = []
    for start in range(0, len(rows), per_statement):
        chunk = rows[start:start + per_statement]
        params = [fields[name].to_db_value({**defaults, **stamps, **row}[name], model)
                  for row in chunk for name in names]
        marks = placeholders(dialect, 0, len(params))
        values = ", ".join("(" + ", ".join(marks[i:i + len(names)]) + ")"
                           for i in range(0, len(marks), len(names)))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}{tail}"
        if returning:
            written.extend(await conn.execute_query_dict(sql, params))
        else:
            await conn.execute_query(sql, params)
    return written


async def insert_rows(
    model: type[Model], rows: Sequence[Mapping[str, Any]], *, unless: Sequence[str],
) -> int:
    """Insert the rows that no stored row matches on the `unless` columns (a unique
    constraint), in as few `INSERT … ON CONFLICT DO NOTHING RETURNING` statements as
    the parameter limit allows; returns how many were new. Every row carries the same
    columns (defaults and created_at/updated_at are filled in)."""
    if not rows:
        return 0
    now = datetime.now(UTC)
    fields = model._meta.fields_map
    extra: dict[str, Any] = {s: now for s in ("created_at", "updated_at")
                             if s in fields and s not in rows[0]}
    filled = [{**_defaults(model, {**row, **extra}), **row, **extra} for row in rows]
    names = list(filled[0])
    conn = connections.get(model._meta.default_connection or "default")
    dialect = conn.capabilities.dialect
    head = (f'INSERT INTO "{model._meta.db_table}" '
            f"({', '.join(_column(model, n) for n in names)}) VALUES ")
    tail = (f" ON CONFLICT ({', '.join(_column(model, n) for n in unless)}) DO NOTHING "
            f"RETURNING {_column(model, model._meta.pk_attr)}")
    per_statement = max(1, MAX_PARAMS // len(names))
    inserted = 0
    for start in range(0, len(filled), per_statement):
        chunk = filled[start:start + per_statement]
        marks = iter(placeholders(dialect, 0, len(chunk) * len(names)))
        tuples = ", ".join("(" + ", ".join(next(marks) for _ in names) + ")" for _ in chunk)
        params = [fields[n].to_db_value(row[n], model) for row in chunk for n in names]
        inserted += len(await conn.execute_query_dict(head + tuples + tail, params))
    return inserted
