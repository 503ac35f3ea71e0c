"""Making 安心码 for a batch: signed serials stored in bulk, a CSV for the printer's
variable-data printing (a header row with a `url` column), and for small runs a ZIP
of QR images.

Serials are made in chunks; each chunk goes to the database in one statement (on
PostgreSQL a COPY into a temporary table, then one `INSERT … ON CONFLICT DO NOTHING
RETURNING serial`), and only the serials the database took are written to the CSV, so
the file never names a code the database does not hold. A serial drawn twice (45
random bits: about one in a hundred runs of a million codes draws one) is simply
drawn again. The scratch PIN is printed, never stored: it is derived from the serial
with trace.pin_key (`pin_of`).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import zipfile
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

from handlers.ledger import utc
from handlers.qr_render import qr_png
from handlers.trace_links import CodeRef, code_uri
from handlers.trace_serials import make_serial
from models.trace import Batch, TraceCode
from models.upsert import placeholders

if TYPE_CHECKING:
    from bot.settings import TraceSettings

MAX_COUNT = 10_000_000
MAX_QR_IMAGES = 10_000
CHUNK = 50_000
PIN_DIGITS = 8
QR_BOX_PIXELS = 8  # pixels per module of the ZIP's images
_COLUMNS = ("serial", "batch_id", "created_at", "verifications", "scans", "pin_failures")
_SQLITE_ROWS = 5_000  # rows per statement: 6 parameters each, under SQLite's limit


def pin_of(pin_key: str, serial: str) -> str:
    """The scratch PIN of a serial: HMAC(pin key, serial) as 8 digits."""
    digest = hmac.new(pin_key.encode(), serial.encode(), hashlib.sha256).digest()
    return str(int.from_bytes(digest[:8], "big") % 10**PIN_DIGITS).zfill(PIN_DIGITS)


def csv_header(batch: Batch) -> list[str]:
    return ["url", "serial", "gtin", "lot", *(["pin"] if batch.pin_required else [])]


async def generate_codes(batch: Batch, count: int, out: IO[str], *, trace: TraceSettings,
                         now: datetime, qr_zip: IO[bytes] | None = None,
                         progress: Callable[[int], Any] | None = None) -> int:
    """Make `count` codes of `batch`: stored, written to `out` as CSV (header first)
    and, with `qr_zip`, as QR PNGs named <serial>.png (error correction M,
    a 4-module quiet zone). Returns the count made."""
    if not 1 <= count <= MAX_COUNT:
        raise ValueError(f"count must be 1-{MAX_COUNT}")
    if qr_zip is not None and count > MAX_QR_IMAGES:
        raise ValueError(f"QR images for at most {MAX_QR_IMAGES} codes; print larger runs "
                         "from the CSV")
    writer = csv.writer(out)
    writer.writerow(csv_header(batch))
    images = zipfile.ZipFile(qr_zip, "w", zipfile.ZIP_STORED) if qr_zip is not None else None
    made = 0
    try:
        while made < count:
            wanted = min(CHUNK, count - made)
            serials = list({make_serial(trace.code_keys, trace.key_version, batch.gtin,
                                        batch.lot) for _ in range(wanted)})
            taken = await _store(batch.id, serials, utc(now))
            for serial in taken:
                url = code_uri(trace.base_url, CodeRef(batch.gtin, batch.lot, serial))
                row = [url, serial, batch.gtin, batch.lot]
                if batch.pin_required:
                    row.append(pin_of(trace.pin_key, serial))
                writer.writerow(row)
                if images is not None:
                    images.writestr(f"{serial}.png", qr_png(url, QR_BOX_PIXELS))
            made += len(taken)
            if progress is not None:
                progress(len(taken))
    finally:
        if images is not None:
            images.close()
    return made


async def _store(batch_id: int, serials: Sequence[str], at: datetime) -> list[str]:
    """Insert the codes; the serials the database took (not those it held already)."""
    conn = connections.get(TraceCode._meta.default_connection or "default")
    if conn.capabilities.dialect == "postgres":
        return await _copy(conn, batch_id, serials, at)
    taken: list[str] = []
    table = f'"{TraceCode._meta.db_table}"'
    for start in range(0, len(serials), _SQLITE_ROWS):
        chunk = serials[start:start + _SQLITE_ROWS]
        marks = iter(placeholders("sqlite", 0, len(chunk) * len(_COLUMNS)))
        values = ", ".join("(" + ", ".join(next(marks) for _ in _COLUMNS) + ")" for _ in chunk)
        stamp = TraceCode._meta.fields_map["created_at"].to_db_value(at, TraceCode)
        params = [p for serial in chunk for p in (serial, batch_id, stamp, 0, 0, 0)]
        rows = await conn.execute_query_dict(
            f"INSERT INTO {table} ({', '.join(_COLUMNS)}) VALUES {values} "
            "ON CONFLICT (serial) DO NOTHING RETURNING serial", params)
        taken.extend(str(row["serial"]) for row in rows)
    return taken


async def _copy(conn: BaseDBAsyncClient, batch_id: int, serials: Sequence[str],
                at: datetime) -> list[str]:
    """PostgreSQL: COPY into a temporary table, then one INSERT of what is new."""
    table = TraceCode._meta.db_table
    async with conn.acquire_connection() as raw, raw.transaction():
        await raw.execute(f'CREATE TEMP TABLE code_stage (LIKE "{table}") ON COMMIT DROP')
        await raw.copy_records_to_table(
            "code_stage", columns=list(_COLUMNS),
            records=[(serial, batch_id, at, 0, 0, 0) for serial in serials])
        rows = await raw.fetch(
            f'INSERT INTO "{table}" ({", ".join(_COLUMNS)}) SELECT {", ".join(_COLUMNS)} '
            "FROM code_stage ON CONFLICT (serial) DO NOTHING RETURNING serial")
    return [str(row["serial"]) for row in rows]


def open_csv(path: Path) -> IO[str]:
    """The printer's CSV: UTF-8 with a byte order mark (spreadsheets want it)."""
    return path.open("w", encoding="utf-8-sig", newline="")
