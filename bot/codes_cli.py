"""`python run.py codes generate --batch LOT --count N --out FILE.csv [--gtin GTIN]
[--qr-zip FILE.zip]`: 安心码 for a batch, with a progress bar, then one summary line
with the rate (handlers/trace_codes.py does the work).

The CSV is written next to its final name and moved there only when every code is
stored, so a run stopped halfway leaves no file a printer could take for complete
(the codes it stored stay valid; run again for the rest).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

from bot.runtime import open_runtime
from bot.settings import Settings
from handlers.trace_catalog import find_batch
from handlers.trace_codes import generate_codes, open_csv


async def generate_codes_file(settings: Settings, *, lot: str, gtin: str | None, count: int,
                              out: Path, qr_zip: Path | None) -> None:
    """Raises LookupError / ValueError (run.py prints them, exit 1)."""
    partial = out.with_name(out.name + ".partial")
    async with open_runtime(settings):
        batch = await find_batch(lot, gtin)
        started = time.perf_counter()
        with open_csv(partial) as csv_file, tqdm(total=count, unit=" codes",
                                                 desc=f"codes {batch.lot}") as bar:
            if qr_zip is None:
                made = await generate_codes(batch, count, csv_file, trace=settings.trace,
                                            now=datetime.now(UTC), progress=bar.update)
            else:
                with qr_zip.open("wb") as images:
                    made = await generate_codes(batch, count, csv_file, trace=settings.trace,
                                                now=datetime.now(UTC), qr_zip=images,
                                                progress=bar.update)
        partial.replace(out)
    seconds = time.perf_counter() - started
    print(f"{made} codes of {batch.gtin} lot {batch.lot} stored and written to {out}"
          + (f" (QR images: {qr_zip})" if qr_zip else "")
          + f" in {seconds:.1f} s ({made / seconds:,.0f} codes/s)")
