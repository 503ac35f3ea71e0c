"""`python run.py sync groups`: the full customer-group sync with a progress bar."""

from __future__ import annotations

from tqdm import tqdm

from bot.runtime import open_runtime
from bot.settings import Settings
from handlers.group_sync import sync_groups


async def sync_groups_with_progress(settings: Settings) -> None:
    async with open_runtime(settings) as runtime:
        with tqdm(unit=" groups", desc="sync groups") as bar:
            def progress(total: int, done: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            result = await sync_groups(runtime.wecom, on_progress=progress)
        print(result.summary())
