"""Order files as rows: a CSV with a header row (read as a stream, line by line) or a
JSON list of objects, each row an `OrderRow` or a `RowError` saying where and why.

The importers read a file twice: `check` first counts the good rows and collects the
bad ones (nothing is imported if there is one), then the good rows are imported. CSV
columns: channel, order_id, member (kind:value) or identity_kind and identity_value,
amount (yuan), paid_at, status; other columns are ignored, header names are matched
case-insensitively, a UTF-8 byte order mark is skipped. Positions are CSV line numbers
(the header is line 1) or JSON array indexes (from 0).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from handlers.order_rows import FIELDS, OrderRow, RowError, RowInvalid, parse_order

if TYPE_CHECKING:
    from bot.settings import Settings

REQUIRED_COLUMNS = ("channel", "order_id", "amount", "paid_at", "status")
MAX_REPORTED = 100  # bad rows listed in a refusal (all are counted)


@dataclass
class Checked:
    valid: int = 0
    invalid: int = 0
    errors: list[RowError] = field(default_factory=list)


def check(rows: Iterable[OrderRow | RowError]) -> Checked:
    checked = Checked()
    for row in rows:
        if isinstance(row, OrderRow):
            checked.valid += 1
            continue
        checked.invalid += 1
        if len(checked.errors) < MAX_REPORTED:
            checked.errors.append(row)
    return checked


def good_rows(rows: Iterable[OrderRow | RowError]) -> Iterator[OrderRow]:
    return (row for row in rows if isinstance(row, OrderRow))


def csv_rows(text: TextIO, settings: Settings) -> Iterator[OrderRow | RowError]:
    reader = csv.DictReader(text)
    try:
        header = reader.fieldnames
    except (csv.Error, UnicodeDecodeError) as exc:
        yield RowError(1, "header", _unreadable(exc))
        return
    if not header:
        yield RowError(1, "header", "the file is empty: a header row is required")
        return
    columns = [name.strip().lower().lstrip("\ufeff") for name in header]
    reader.fieldnames = columns
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if "member" not in columns and not {"identity_kind", "identity_value"} <= set(columns):
        missing.append("member (or identity_kind and identity_value)")
    if missing:
        yield RowError(1, "header", f"missing column(s): {', '.join(missing)}")
        return
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            return
        except (csv.Error, UnicodeDecodeError) as exc:
            yield RowError(reader.line_num + 1, "row", _unreadable(exc))
            return
        if raw.get(None):  # type: ignore[call-overload]
            yield RowError(reader.line_num, "row", "more fields than the header has")
            continue
        yield _parsed(raw, reader.line_num, settings)


def json_rows(items: list[Any], settings: Settings) -> Iterator[OrderRow | RowError]:
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            yield RowError(index, "row", "must be an object")
            continue
        unknown = sorted(set(item) - set(FIELDS))
        if unknown:
            yield RowError(index, unknown[0], "unknown field")
            continue
        yield _parsed(item, index, settings)


def _parsed(raw: dict[str, Any], position: int, settings: Settings) -> OrderRow | RowError:
    try:
        return parse_order(raw, settings)
    except RowInvalid as exc:
        return RowError(position, exc.field, exc.reason)


def _unreadable(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text (save the file as CSV UTF-8)"
    return f"not a readable CSV row: {exc}"
