"""The reads and writes of a 安心码 scan, in plain SQL: a scan is the hottest path of the
traceability feature (bench/trace_scan.py), and tortoise's query building cost more
than the queries themselves (as for handlers/member_sessions.authenticate). Each
statement's text is built once per dialect; rows become models with the same
`_init_from_db` tortoise uses, except a code's row: it becomes a `CodeState`, a plain
value several times cheaper to build, as every scan reads one and writes one.

- `found_codes`: codes by their serials, in one read;
- `batch_facts`: a batch with its product, "add your guide" channel and trace events in
  time order (cached a few seconds);
- `cities_since`: the distinct cities the code was scanned in since a moment;
- `count_scan`, `insert_scan`: a scan's writes, in the caller's transaction;
- `record_scans`: both for many scans of distinct codes in one statement on PostgreSQL,
  for scans that earn no points (handlers/trace_groups.py groups them);
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
from handlers.local_cache import LocalCache
from models.channels import Channel
from models.trace import Batch, CodeScan, Product, TraceCode, TraceEvent
from models.upsert import id_list

M = TypeVar("M", bound=Model)
_SQL: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Guide:
    """The product's "add your guide" channel: its contact QR and state."""

    qr_url: str
    channel_state: str


@dataclass(frozen=True, slots=True)
class CodeState:
    """A code's row as a scan judges and answers it."""

    serial: str
    batch_id: int
    verified_at: datetime | None
    verified_city: str | None
    verifications: int
    scans: int
    locked_at: datetime | None


_STATE_COLUMNS = ", ".join(f'"{name}"' for name in CodeState.__slots__)
_INSTANT = TraceCode._meta.fields_map["verified_at"]


def _instant(value: Any) -> datetime | None:
    """A timestamp as the driver gave it (asyncpg: a datetime; SQLite: text)."""
    if value is None or isinstance(value, datetime):
        return value
    return _INSTANT.to_python_value(value)  # type: ignore[no-any-return]


def code_state(row: dict[str, Any]) -> CodeState:
    return CodeState(str(row["serial"]), int(row["batch_id"]), _instant(row["verified_at"]),
                     row["verified_city"], int(row["verifications"]), int(row["scans"]),
                     _instant(row["locked_at"]))


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
        # Numbered on both (`$n`, `?n`): a statement may use a parameter twice.
        sign = "$" if dialect == "postgres" else "?"
        sql = _SQL[key] = build([f"{sign}{i + 1}" for i in range(count)])
    return sql


def _db_value(model: type[Model], name: str, value: Any) -> Any:
    return model._meta.fields_map[name].to_db_value(value, model)


# What every scan of a batch's codes reads and what changes seldom (the batch, its
# product and guide channel, its timeline) is kept per process this long. A recall or
# new events through this process are seen at once (`forget_batch`); other processes
# see them within this time.
BATCH_CACHE_SECONDS = 10.0


@dataclass(frozen=True, eq=False)
class BatchFacts:
    batch: Batch
    product: Product | None
    guide: Guide | None
    events: list[TraceEvent]


_facts: LocalCache[BatchFacts] = LocalCache(BATCH_CACHE_SECONDS)

def _batch_sql(m: list[str]) -> str:
    return (f"SELECT {_columns(Batch, 'b', 'batch')}, {_columns(Product, 'p', 'product')}, "
            'g."qr_code" AS "guide.qr_code", g."state" AS "guide.state" '
            f'FROM {_table(Batch)} b LEFT JOIN {_table(Product)} p ON p."id" = b."product_id" '
            f'LEFT JOIN {_table(Channel)} g ON g."id" = p."channel_id" '
            f'AND g."deleted_at" IS NULL WHERE b."id" = {m[0]}')


def _events_sql(m: list[str]) -> str:
    return (f'SELECT * FROM {_table(TraceEvent)} WHERE "batch_id" = {m[0]} '
            'ORDER BY "event_time", "id"')


async def batch_facts(batch_id: int) -> BatchFacts:
    """The batch with its product, live guide channel and events in time order
    (cached for BATCH_CACHE_SECONDS; read-only for the caller)."""
    cached = _facts.get(batch_id)
    if cached is not None:
        return cached
    conn = connections.get("default")
    dialect = conn.capabilities.dialect
    row = (await conn.execute_query_dict(_sql("batch", dialect, _batch_sql, 1), [batch_id]))[0]
    events = await conn.execute_query_dict(_sql("events", dialect, _events_sql, 1), [batch_id])
    return _facts.put(batch_id, BatchFacts(
        _model(Batch, row, "batch"),
        _model(Product, row, "product") if row["product.id"] is not None else None,
        Guide(str(row["guide.qr_code"]), str(row["guide.state"]))
        if row["guide.qr_code"] else None,
        [TraceEvent._init_from_db(**event) for event in events]))


def forget_batch(batch_id: int) -> None:
    """The batch (its status, events) changed: the next scan reads it again."""
    _facts.forget(batch_id)


async def found_codes(serials: list[str]) -> dict[str, CodeState]:
    """The stored codes among `serials`, in one read."""
    conn = connections.get("default")
    where, params = id_list(conn.capabilities.dialect, 0, serials, column='"serial"',
                            array_type="text")
    rows = await conn.execute_query_dict(
        f"SELECT {_STATE_COLUMNS} FROM {_table(TraceCode)} WHERE {where}", params)
    return {str(row["serial"]): code_state(row) for row in rows}


async def cities_since(serial: str, since: datetime) -> list[str]:
    conn = connections.get("default")
    rows = await conn.execute_query_dict(_sql(
        "cities", conn.capabilities.dialect,
        lambda m: (f'SELECT DISTINCT "city" FROM {_table(CodeScan)} WHERE "serial" = {m[0]} '
                   f"AND \"at\" >= {m[1]} AND \"city\" <> ''"), 2),
        [serial, _db_value(CodeScan, "at", utc(since))])
    return [str(row["city"]) for row in rows]


def _update_sql(m: list[str]) -> str:
    """One UPDATE for every scan: `scans` + 1 and, when verifying ({m[0]} = 1),
    `verifications` + 1 with the first verification's when, where and who set only
    while `verified_at` is NULL. The row lock orders concurrent scans of a code, so the
    scan that leaves `verifications` at 1 is the first verification, exactly once."""
    first = f'{m[0]} = 1 AND "verified_at" IS NULL'
    return (f'UPDATE {_table(TraceCode)} SET "scans" = "scans" + 1, '
            f'"verifications" = "verifications" + {m[0]}, '
            f'"verified_at" = CASE WHEN {first} THEN {m[1]} ELSE "verified_at" END, '
            f'"verified_city" = CASE WHEN {first} THEN {m[2]} ELSE "verified_city" END, '
            f'"verified_member_id" = CASE WHEN {first} THEN {m[3]} '
            f'ELSE "verified_member_id" END WHERE "serial" = {m[4]}')


_SCAN_COLUMNS = ", ".join(f'"{c}"' for c in ("serial", "at", "city", "member_id", "verdict",
                                               "client"))


def _insert_sql(m: list[str]) -> str:
    return f"INSERT INTO {_table(CodeScan)} ({_SCAN_COLUMNS}) VALUES ({', '.join(m)})"


def verified_first(stored: CodeState, verify: bool) -> bool:
    """Whether a scan that left the code as `stored` was its first verification (see
    `_update_sql`)."""
    return verify and stored.verifications == 1


async def count_scan(conn: BaseDBAsyncClient, code: CodeState, *, verify: bool, city: str,
                     member_id: int | None, now: datetime) -> tuple[CodeState, bool]:
    """In the caller's transaction: count the scan (see `_update_sql`). Returns the code
    as stored after it, and whether this scan was the first verification."""
    rows = await conn.execute_query_dict(
        _sql("count", conn.capabilities.dialect,
             lambda m: f"{_update_sql(m)} RETURNING {_STATE_COLUMNS}", 5),
        [1 if verify else 0, _db_value(TraceCode, "verified_at", utc(now)), city or None,
         member_id, code.serial])
    stored = code_state(rows[0])
    return stored, verified_first(stored, verify)


async def insert_scan(conn: BaseDBAsyncClient, serial: str, *, now: datetime, city: str,
                      member_id: int | None, verdict: str, client: str) -> None:
    await conn.execute_query(
        _sql("insert", conn.capabilities.dialect, _insert_sql, 6),
        [serial, _db_value(CodeScan, "at", utc(now)), city, member_id, verdict, client])


def _record_many_sql() -> str:
    """PostgreSQL: scans of distinct codes counted (as `_update_sql`) and stored in one
    statement, atomic by itself; each row's verdict is the caller's, or genuine /
    already_verified when verifying, by whether it left `verifications` at 1."""
    first = 'v."verify" = 1 AND c."verified_at" IS NULL'
    return (
        'WITH v AS (SELECT * FROM unnest($1::text[], $2::int[], $3::timestamptz[], '
        '$4::text[], $5::text[], $6::text[]) AS t("serial", "verify", "at", "city", '
        '"verdict", "client")), '
        f'u AS (UPDATE {_table(TraceCode)} c SET "scans" = c."scans" + 1, '
        '"verifications" = c."verifications" + v."verify", '
        f'"verified_at" = CASE WHEN {first} THEN v."at" ELSE c."verified_at" END, '
        f'"verified_city" = CASE WHEN {first} THEN NULLIF(v."city", \'\') '
        'ELSE c."verified_city" END, '
        f'"verified_member_id" = CASE WHEN {first} THEN NULL ELSE c."verified_member_id" END '
        'FROM v WHERE c."serial" = v."serial" RETURNING c.*, v."verify" AS "v.verify", '
        'v."at" AS "v.at", v."city" AS "v.city", v."verdict" AS "v.verdict", '
        'v."client" AS "v.client"), '
        f'i AS (INSERT INTO {_table(CodeScan)} ({_SCAN_COLUMNS}) SELECT "serial", "v.at", '
        '"v.city", NULL, CASE WHEN "v.verify" <> 1 THEN "v.verdict" WHEN "verifications" = 1 '
        'THEN \'genuine\' ELSE \'already_verified\' END, "v.client" FROM u) '
        f"SELECT {_STATE_COLUMNS} FROM u")


_RECORD_MANY = _record_many_sql()


async def record_scans(rows: list[list[Any]]) -> dict[str, CodeState]:
    """PostgreSQL: record scans of distinct codes that earn no points, each row
    [serial, verify (0/1), at, city, verdict, client], in one statement; the codes as
    stored after it, by serial."""
    conn = connections.get("default")
    columns = list(zip(*rows, strict=True))
    stored = await conn.execute_query_dict(_RECORD_MANY, [list(c) for c in columns])
    return {str(row["serial"]): code_state(row) for row in stored}


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
