"""`python run.py orders import FILE.csv`: order import from a file, with a progress bar.

The file is read twice, as the admin API reads an upload: every row is checked first
(bad rows are printed by line, and nothing is imported), then the rows are imported in
batches with the bar counting them, and one summary line is printed.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

from bot.runtime import open_runtime
from bot.settings import Settings
from handlers.order_csv import check, csv_rows, good_rows
from handlers.order_rows import OrderRow, RowError
from handlers.orders import import_orders


@contextmanager
def _rows(path: Path, settings: Settings) -> Iterator[Iterator[OrderRow | RowError]]:
    # utf-8-sig: spreadsheet programs write a byte order mark.
    with path.open(encoding="utf-8-sig", newline="") as text:
        yield csv_rows(text, settings)


async def import_orders_file(settings: Settings, path: Path) -> None:
    """Raises ValueError (run.py prints it, exit 1) when a row is bad."""
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    with _rows(path, settings) as rows:
        checked = check(rows)
    if checked.invalid:
        for error in checked.errors:
            print(f"line {error.position}: {error.field}: {error.reason}", file=sys.stderr)
        raise ValueError(f"{checked.invalid} of {checked.valid + checked.invalid} rows are "
                         "invalid; nothing was imported")
    async with open_runtime(settings) as runtime:
        with _rows(path, settings) as rows, tqdm(total=checked.valid, unit=" rows",
                                                  desc="import orders") as bar:
            summary = await import_orders(good_rows(rows), settings, datetime.now(UTC),
                                          wecom=runtime.wecom, on_rows=bar.update)
    print(summary.line())
