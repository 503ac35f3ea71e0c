"""`python run.py sync contacts`: the full contact sync with a progress bar."""

from __future__ import annotations

from tqdm import tqdm

from bot.runtime import open_runtime
from bot.settings import Settings
from handlers.contact_sync import sync_contacts


async def sync_contacts_with_progress(settings: Settings) -> None:
    async with open_runtime(settings) as runtime:
        with tqdm(unit=" relations", desc="sync contacts") as bar:
            total = await sync_contacts(runtime.wecom, on_page=bar.update)
        print(f"synced {total} customer relations")
