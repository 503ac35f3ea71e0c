"""Anxin SCRM command line.

    python run.py [serve]            HTTP server (+ worker and sandbox on the embedded default)
    python run.py migrate            apply database migrations
    python run.py makemigrations     write a migration for model changes (developers)
    python run.py worker             a job worker process (production, needs [redis] url)
    python run.py sandbox            the WeCom sandbox alone
    python run.py sync contacts      full contact sync from WeCom (resumable, progress bar)
    python run.py sync tags          replace the corp tag mirror with WeCom's tag list
    python run.py sync groups        full customer-group sync from WeCom (progress bar)
    python run.py events failed      list events that failed processing
    python run.py events replay ID   put a failed event back in the queue
    python run.py sop tick [--now T] one group SOP tick (due steps, pushes, results)
    python run.py orders import FILE import orders from other channels (CSV, progress bar)
    python run.py codes generate --batch LOT --count N --out FILE.csv
                                     安心码 for a batch: stored, CSV for the printer
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from bot.settings import Settings, SettingsError, load_settings


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    # tortoise logs SQL values at DEBUG; never let those (payloads) into logs by default.
    logging.getLogger("tortoise").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("taskiq").setLevel(logging.WARNING)


def _serve(settings: Settings) -> None:
    from aiohttp import web

    from bot.app import create_app
    from bot.startup_heap import freeze_startup_heap

    logging.getLogger("scrm").info(
        "serve host=%s port=%s database=%s redis=%s sandbox=%s",
        settings.server.host, settings.server.port,
        "sqlite" if settings.database.is_sqlite else "postgres",
        "redis" if settings.redis.url else "in-process",
        "on" if settings.sandbox.enabled else "off",
    )
    app = create_app(settings)
    app.on_startup.append(freeze_startup_heap)
    web.run_app(app, host=settings.server.host, port=settings.server.port, print=None,
                access_log=None)


def _sandbox(settings: Settings) -> None:
    from bot.sandbox import run_sandbox

    run_sandbox(settings)


async def _migrate(settings: Settings) -> None:
    from bot import db

    await db.migrate(settings.database.url)
    print("migrations applied")


def _makemigrations(_: Settings) -> None:
    from tortoise.cli.cli import run_cli_async

    sys.exit(asyncio.run(run_cli_async(["-c", "bot.db.MAKEMIGRATIONS_CONFIG", "makemigrations"])))


async def _worker(settings: Settings) -> None:
    from bot.worker import run_worker

    await run_worker(settings)


async def _sync_contacts(settings: Settings) -> None:
    from bot.contact_sync_cli import sync_contacts_with_progress

    await sync_contacts_with_progress(settings)


async def _sync_groups(settings: Settings) -> None:
    from bot.group_sync_cli import sync_groups_with_progress

    await sync_groups_with_progress(settings)


async def _sync_tags(settings: Settings) -> None:
    from bot.runtime import open_runtime
    from handlers.tags import sync_corp_tags

    async with open_runtime(settings) as runtime:
        print(f"synced {await sync_corp_tags(runtime.wecom)} corp tags")


async def _events_failed(settings: Settings) -> None:
    from bot.events_cli import print_failed

    await print_failed(settings)


def _events_replay(event_id: int) -> Callable[[Settings], Coroutine[Any, Any, None]]:
    async def run(settings: Settings) -> None:
        from bot.events_cli import replay_event

        await replay_event(settings, event_id)

    return run


def _sop_tick(now: str | None) -> Callable[[Settings], Coroutine[Any, Any, None]]:
    async def run(settings: Settings) -> None:
        from bot.sop_cli import parse_now, sop_tick

        await sop_tick(settings, parse_now(now))

    return run


def _orders_import(path: str) -> Callable[[Settings], Coroutine[Any, Any, None]]:
    async def run(settings: Settings) -> None:
        from pathlib import Path

        from bot.orders_cli import import_orders_file

        await import_orders_file(settings, Path(path))

    return run


def _codes_generate(args: argparse.Namespace) -> Callable[[Settings], Coroutine[Any, Any, None]]:
    async def run(settings: Settings) -> None:
        from pathlib import Path

        from bot.codes_cli import generate_codes_file

        await generate_codes_file(settings, lot=args.batch, gtin=args.gtin, count=args.count,
                                  out=Path(args.out),
                                  qr_zip=Path(args.qr_zip) if args.qr_zip else None)

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run.py", description="Anxin SCRM")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="HTTP server")
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("makemigrations", help="write a migration for model changes")
    sub.add_parser("worker", help="job worker (needs [redis] url)")
    sub.add_parser("sandbox", help="the WeCom sandbox alone")
    sync = sub.add_parser("sync", help="sync data from WeCom")
    sync.add_argument("what", choices=["contacts", "tags", "groups"])
    events = sub.add_parser("events", help="inspect and replay callback events")
    events_sub = events.add_subparsers(dest="events_command", required=True)
    events_sub.add_parser("failed", help="list failed events")
    replay = events_sub.add_parser("replay", help="replay a failed event")
    replay.add_argument("id", type=int)
    sop = sub.add_parser("sop", help="group SOP delivery")
    sop_sub = sop.add_subparsers(dest="sop_command", required=True)
    tick = sop_sub.add_parser("tick", help="run one SOP tick and print its counts")
    tick.add_argument("--now", help="the tick's time, ISO 8601 (default: now; no offset: UTC)")
    orders = sub.add_parser("orders", help="orders from other sales channels")
    orders_sub = orders.add_subparsers(dest="orders_command", required=True)
    orders_import = orders_sub.add_parser("import", help="import a CSV of orders")
    orders_import.add_argument("file", help="CSV with a header row (see README)")
    codes = sub.add_parser("codes", help="安心码 product codes")
    codes_sub = codes.add_subparsers(dest="codes_command", required=True)
    generate = codes_sub.add_parser("generate", help="make codes for a batch (CSV, QR images)")
    generate.add_argument("--batch", required=True, help="the batch's lot number")
    generate.add_argument("--gtin", help="the product, when several have this lot")
    generate.add_argument("--count", required=True, type=int, help="how many codes")
    generate.add_argument("--out", required=True, help="the CSV for the printer")
    generate.add_argument("--qr-zip", help="also a ZIP of QR images (at most 10,000 codes)")
    args = parser.parse_args(argv)

    _configure_logging(args.verbose)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"settings error: {exc}", file=sys.stderr)
        return 2

    command = args.command or "serve"
    sync_commands: dict[str, Callable[[Settings], None]] = {
        "serve": _serve,
        "sandbox": _sandbox,
        "makemigrations": _makemigrations,
    }
    async_commands: dict[str, Callable[[Settings], Coroutine[Any, Any, None]]] = {
        "migrate": _migrate,
        "worker": _worker,
        "sync": _sync_contacts,
    }
    if command in sync_commands:
        sync_commands[command](settings)
        return 0
    if command == "events":
        runner = _events_failed if args.events_command == "failed" else _events_replay(args.id)
    elif command == "sync" and args.what == "tags":
        runner = _sync_tags
    elif command == "sync" and args.what == "groups":
        runner = _sync_groups
    elif command == "sop":
        runner = _sop_tick(args.now)
    elif command == "orders":
        runner = _orders_import(args.file)
    elif command == "codes":
        runner = _codes_generate(args)
    else:
        runner = async_commands[command]
    try:
        asyncio.run(runner(settings))
    except (LookupError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
