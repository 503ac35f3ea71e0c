"""The reads and writes of a 安心码 scan, in plain SQL: a scan is the hottest path of the
traceability feature (bench/trace_scan.py), and tortoise's query building cost more
than the queries themselves (as for handlers/member_sessions.authenticate). Each
statement's text is built once per dialect; rows become models with the same
`_init_from_db` tortoise uses.

- `find_code`: the code with its batch, product and "add your guide" channel, in one
  joined read by serial (the batch's GTIN equal, its lot equal but for case);
- `batch_events`: the batch's trace events in time order;
- `cities_since`: the distinct cities the code was scanned in since a moment;
- `count_scan`, `insert_scan`: a scan's writes, in the caller's transaction;
- `count_pin_failure`: a wrong PIN, locking the code at the limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from handlers.ledger import utc
from models.channels import Channel
from models.trace import Batch, CodeScan, Product, TraceCode, TraceEvent
from models.upsert import placeholders

M = TypeVar("M", bound=Model)
_SQL: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Guide:
    """The product's "add your guide" channel: its contact QR and state."""

    qr_url: str
    channel_state: str


@dataclass(frozen=True)
class Found:
    code: TraceCode
    batch: Batch
    product: Product | None
    guide: Guide | None


def _table(model: type[Model]) -> str:
    return f'"{model._meta.db_table}"'


def _columns(model: type[Model], alias: str, prefix: str) -> str:
    return ", ".join(f'{alias}."{c}" AS "{prefix}.{c}"' for c in sorted(model._meta.db_fields))


def _model(model: type[M], row: dict[str, Any], prefix: str) -> M:
    return model._init_from_db(**{c: row[f"{prefix}.{c}"] for c in model._meta.db_fields})


def _sql(name: str, dialect: str, build: Callable[[list[str]], str], count: int) -> str:
    """Statement `name` for `dialect`, built once with its `count` placeholders."""
    key = (name, dialect)
    sql = _SQL.get(key)
    if sql is None:
        sql = _SQL[key] = build(placeholders(dialect, 0, count))
    return sql


def _db_value(model: type[Model], name: str, value: Any) -> Any:
    return model._meta.fields_map[name].to_db_value(value, model)


def _find_sql(m: list[str]) -> str:
    return (f"SELECT {_columns(TraceCode, 'c', 'code')}, {_columns(Batch, 'b', 'batch')}, "
            f"{_columns(Product, 'p', 'product')}, "
            'g."qr_code" AS "guide.qr_code", g."state" AS "guide.state" '
            f"FROM {_table(TraceCode)} c JOIN {_table(Batch)} b ON b.\"id\" = c.\"batch_id\" "
            f"LEFT JOIN {_table(Product)} p ON p.\"id\" = b.\"product_id\" "
            f"LEFT JOIN {_table(Channel)} g ON g.\"id\" = p.\"channel_id\" "
            'AND g."deleted_at" IS NULL '
            f'WHERE c."serial" = {m[0]} AND b."gtin" = {m[1]} AND UPPER(b."lot") = UPPER({m[2]})')


async def find_code(serial: str, gtin: str, lot: str) -> Found | None:
    """The code `serial` if its batch is (gtin, lot), with the batch's product and the
    product's live channel; None when there is no such code."""
    conn = connections.get("default")
    rows = await conn.execute_query_dict(
        _sql("find", conn.capabilities.dialect, _find_sql, 3), [serial, gtin, lot])
    if not rows:
        return None
    row = rows[0]
    product = _model(Product, row, "product") if row["product.id"] is not None else None
    guide = (Guide(str(row["guide.qr_code"]), str(row["guide.state"]))
             if row["guide.qr_code"] else None)
    return Found(_model(TraceCode, row, "code"), _model(Batch, row, "batch"), product, guide)


async def batch_events(batch_id: int) -> list[TraceEvent]:
    """The batch's events in time order (trace_catalog.timeline, without the ORM)."""
    conn = connections.get("default")
    rows = await conn.execute_query_dict(_sql(
        "events", conn.capabilities.dialect,
        lambda m: (f"SELECT * FROM {_table(TraceEvent)} WHERE \"batch_id\" = {m[0]} "
                   'ORDER BY "event_time", "id"'), 1), [batch_id])
    return [TraceEvent._init_from_db(**row) for row in rows]


async def cities_since(serial: str, since: datetime) -> list[str]:
    conn = connections.get("default")
    rows = await conn.execute_query_dict(_sql(
        "cities", conn.capabilities.dialect,
        lambda m: (f'SELECT DISTINCT "city" FROM {_table(CodeScan)} WHERE "serial" = {m[0]} '
                   f"AND \"at\" >= {m[1]} AND \"city\" <> ''"), 2),
        [serial, _db_value(CodeScan, "at", utc(since))])
    return [str(row["city"]) for row in rows]


def _first_sql(m: list[str]) -> str:
    return (f'UPDATE {_table(TraceCode)} SET "verified_at" = {m[0]}, "verified_city" = {m[1]}, '
            f'"verified_member_id" = {m[2]}, "verifications" = "verifications" + 1, '
            f'"scans" = "scans" + 1 WHERE "serial" = {m[3]} AND "verified_at" IS NULL '
            "RETURNING *")


def _count_sql(m: list[str]) -> str:
    return (f'UPDATE {_table(TraceCode)} SET "verifications" = "verifications" + {m[0]}, '
            f'"scans" = "scans" + 1 WHERE "serial" = {m[1]} RETURNING *')


async def count_scan(conn: BaseDBAsyncClient, code: TraceCode, *, verify: bool, city: str,
                     member_id: int | None, now: datetime) -> tuple[TraceCode, bool]:
    """In the caller's transaction: `scans` + 1, with `verify` also `verifications` + 1;
    the first verification is a conditional UPDATE (`verified_at IS NULL`) that also
    sets when, where and by whom, so of concurrent first scans exactly one is first.
    Returns the code as stored after it, and whether this scan was the first
    verification."""
    dialect = conn.capabilities.dialect
    rows: list[dict[str, Any]] = []
    if verify and code.verified_at is None:
        rows = await conn.execute_query_dict(_sql("first", dialect, _first_sql, 4), [
            _db_value(TraceCode, "verified_at", utc(now)), city or None, member_id,
            code.serial])
    first = bool(rows)
    if not first:
        rows = await conn.execute_query_dict(_sql("count", dialect, _count_sql, 2),
                                             [1 if verify else 0, code.serial])
    return TraceCode._init_from_db(**rows[0]), first


_SCAN_COLUMNS = ", ".join(f'"{c}"' for c in ("serial", "at", "city", "member_id", "verdict",
                                               "client"))


async def insert_scan(conn: BaseDBAsyncClient, serial: str, *, now: datetime, city: str,
                      member_id: int | None, verdict: str, client: str) -> None:
    await conn.execute_query(_sql(
        "insert", conn.capabilities.dialect,
        lambda m: f"INSERT INTO {_table(CodeScan)} ({_SCAN_COLUMNS}) VALUES ({', '.join(m)})",
        6),
        [serial, _db_value(CodeScan, "at", utc(now)), city, member_id, verdict, client])


async def count_pin_failure(serial: str, max_attempts: int, now: datetime) -> int:
    """Count a wrong PIN on a code not locked yet, locking it at `max_attempts`, in one
    statement; the code's wrong PINs now (`max_attempts` when it was locked already)."""
    conn = connections.get("default")
    # ELSE the column (NULL here), not a bare NULL: PostgreSQL types the CASE from it.
    rows = await conn.execute_query_dict(_sql(
        "pin", conn.capabilities.dialect,
        lambda m: (f'UPDATE {_table(TraceCode)} SET "pin_failures" = "pin_failures" + 1, '
                   f'"locked_at" = CASE WHEN "pin_failures" + 1 >= {m[0]} THEN {m[1]} '
                   f'ELSE "locked_at" END WHERE "serial" = {m[2]} AND "locked_at" IS NULL '
                   'RETURNING "pin_failures"'), 3),
        [max_attempts, _db_value(TraceCode, "locked_at", utc(now)), serial])
    return int(rows[0]["pin_failures"]) if rows else max_attempts
