"""Points mall benchmark: a storm of concurrent redemptions of one item with little
stock, through the real HTTP API of `run.py serve` processes, and whether the mall's
invariants survive it.

    .venv/bin/python -m bench.mall_redeem [--members 500] [--requests 2000] [--stock 100]
        [--servers 1] [--pool-size 10]
        [--database-url postgres://…/bench_mall --redis-url redis://…/11]

Embedded default (no URLs; or SCRM_BENCH_DATABASE_URL / SCRM_BENCH_REDIS_URL unset):
SQLite in a temporary folder and an in-process Redis stand-in (one server only). With
the URLs (the issue's setting): that PostgreSQL database (created if missing, its
schema DROPPED and re-migrated) and that Redis db (FLUSHED). Every process started is
stopped on exit, error or Ctrl-C.

The run:
1. `run.py sandbox` (WeChat's mini-program APIs) and --servers `run.py serve`.
2. --members WeChat users log in through `POST /miniapp/api/login`; an operator gives
   each 1,000 points (`POST /admin/api/points/adjust`) and creates one physical item
   (`POST /admin/api/mall/items`, 100 points, stock --stock).
3. The storm: --requests `POST /miniapp/api/mall/redeem` sent all at once (one
   connection each), spread over the members and the servers. Each member sends its
   share in pairs under one Idempotency-Key (a double tap), so a quarter to a half of
   the requests are duplicates that must come back as the same order.
4. The figures: answers by status and error code, the seconds from the first request
   sent to the last answer, and the redemptions/s (requests settled per second).
5. The invariants, read from the database: exactly --stock orders, stock 0, the
   item's stock equal to the sum of its stock ledger, one `mall:<order>` debit per order
   of exactly its points, no key with two orders, and every member's points equal to
   the sum of their ledger entries, none negative.
Targets (the issue's): exactly --stock orders, stock 0, invariants hold, ≥ 300
redemptions/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.miniapp_members import log_in_members
from bench.processes import (
    PYTHON,
    SandboxBench,
    add_pool_size_argument,
    add_store_arguments,
    bench_env,
    bench_parser,
    check_store_arguments,
    cpu_model,
    db_counts,
    free_port,
    print_report,
    run_bench,
    say,
    wait_http,
)

REDEEM = "/miniapp/api/mall/redeem"
ADMIN_TOKEN = "bench-mall-admin-token-0123456789"
PRICE = 100
POINTS_EACH = 1000
TARGET_RATE = 300.0
ADDRESS = {"name": "张三", "phone": "13800138000", "province": "上海市", "city": "上海市",
           "district": "徐汇区", "detail": "漕溪北路 1 号"}


@dataclass
class Storm:
    """What the redemption storm answered."""

    seconds: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)
    new_orders: set[int] = field(default_factory=set)
    replayed: int = 0
    # Each key's order ids as answered: a key must always name one order.
    orders_by_key: dict[str, set[int]] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return sum(self.statuses.values()) / self.seconds if self.seconds else 0.0


class MallRedeemBench(SandboxBench):
    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args, "scrm-mall-redeem-")
        self.ports = [free_port() for _ in range(args.servers)]
        self.servers = [f"http://127.0.0.1:{port}" for port in self.ports]
        self.tokens: list[str] = []
        self.item_id = 0
        self.storm = Storm()
        self.checks: list[tuple[str, bool]] = []

    def env(self, port: int | None = None) -> dict[str, str]:
        return bench_env(self.log_dir, self.args.database_url, self.args.redis_url,
                         self.sandbox_port, self.args.pool_size,
                         SCRM__SERVER__PORT=str(port or self.ports[0]),
                         SCRM__ADMIN__TOKENS=ADMIN_TOKEN,
                         SCRM__MEMBERS__LOGIN_PER_MINUTE=str(10 * self.args.members + 100))

    def start(self) -> None:
        self.start_sandbox()
        for index, port in enumerate(self.ports):
            serve = self.procs.start(f"serve-{index}", [PYTHON, "run.py", "serve"],
                                     self.env(port))
            wait_http(serve, f"http://127.0.0.1:{port}/healthz", timeout=60)

    # ---- setup: members with points, the item
    async def prepare(self) -> None:
        serve = self.servers[0]
        self.tokens = await log_in_members(self.sandbox, serve, self.args.members, 16)
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with aiohttp.ClientSession(raise_for_status=True) as http:
            limit = asyncio.Semaphore(16)

            async def credit(token: str) -> None:
                async with limit:
                    async with http.get(f"{serve}/miniapp/api/me",
                                        headers={"Authorization": f"Bearer {token}"}) as me:
                        member_id = (await me.json())["id"]
                    body = {"member_id": member_id, "delta": POINTS_EACH,
                            "reason": "benchmark credit", "key": f"bench-{member_id}"}
                    async with http.post(f"{serve}/admin/api/points/adjust", json=body,
                                         headers=admin):
                        pass

            await asyncio.gather(*(credit(token) for token in self.tokens))
            item = {"title": "安心保温杯", "kind": "physical", "points_price": PRICE,
                    "stock": self.args.stock, "per_member_limit": None}
            async with http.post(f"{serve}/admin/api/mall/items", json=item,
                                 headers=admin) as made:
                self.item_id = int((await made.json())["id"])

    # ---- the storm
    def plan(self) -> list[tuple[str, str, str]]:
        """(server, token, key) per request: members in turn, keys in pairs."""
        sent: list[tuple[str, str, str]] = []
        for i in range(self.args.requests):
            member = i % len(self.tokens)
            round_ = i // len(self.tokens)
            key = f"m{member}-k{round_ // 2}"
            sent.append((self.servers[i % len(self.servers)], self.tokens[member], key))
        random.Random(7).shuffle(sent)
        return sent

    async def run_storm(self) -> None:
        plan = self.plan()
        body = {"item_id": self.item_id, "quantity": 1, "address": ADDRESS}
        storm = self.storm
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=300)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            gate = asyncio.Event()

            async def one(server: str, token: str, key: str) -> None:
                await gate.wait()
                headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
                async with http.post(server + REDEEM, json=body, headers=headers) as reply:
                    answer: dict[str, Any] = await reply.json()
                    replayed = reply.headers.get("Idempotent-Replayed") == "true"
                if reply.status == 201:
                    order_id = int(answer["order"]["id"])
                    storm.statuses["201"] += 1
                    storm.orders_by_key.setdefault(f"{token}:{key}", set()).add(order_id)
                    if replayed:
                        storm.replayed += 1
                    else:
                        storm.new_orders.add(order_id)
                else:
                    storm.statuses[f"{reply.status} {answer['error']['code']}"] += 1

            tasks = [asyncio.create_task(one(*sent)) for sent in plan]
            await asyncio.sleep(0)  # every task waits at the gate
            started = time.perf_counter()
            gate.set()
            await asyncio.gather(*tasks)
            storm.seconds = time.perf_counter() - started

    # ---- the invariants, from the database
    async def figures(self) -> dict[str, int]:
        queries = {
            "orders": "SELECT count(*) AS n FROM mall_order",
            "stock": "SELECT coalesce(sum(stock), 0) AS n FROM mall_item",
            "stock_ledger": "SELECT coalesce(sum(delta), 0) AS n FROM stock_movement",
            "order_moves": "SELECT count(*) AS n FROM stock_movement WHERE kind = 'order'",
            "debits_wrong": "SELECT count(*) AS n FROM mall_order o WHERE (SELECT count(*)"
                            " FROM points_entry e WHERE e.key = 'mall:' || o.id AND"
                            " e.delta = -o.points AND e.member_id = o.member_id) <> 1",
            "mall_entries": "SELECT count(*) AS n FROM points_entry WHERE key LIKE 'mall:%'",
            "points_mismatch": "SELECT count(*) AS n FROM member m WHERE m.points <>"
                               " (SELECT coalesce(sum(e.delta), 0) FROM points_entry e"
                               " WHERE e.member_id = m.id)",
            "negative": "SELECT count(*) AS n FROM member WHERE points < 0",
            "points_total": "SELECT coalesce(sum(points), 0) AS n FROM member",
        }
        return await db_counts(self.env()["SCRM__DATABASE__URL"], queries)

    def check(self) -> None:
        f = asyncio.run(self.figures())
        stock, storm = self.args.stock, self.storm
        spent = f["orders"] * PRICE
        one_order_per_key = all(len(ids) == 1 for ids in storm.orders_by_key.values())
        self.checks += [
            (f"orders in the database == stock ({f['orders']:,} == {stock:,}); answered as new "
             f"{len(storm.new_orders):,}", f["orders"] == stock == len(storm.new_orders)),
            (f"stock left 0 ({f['stock']}) and == the sum of its stock ledger "
             f"({f['stock_ledger']}); one `order` movement per order ({f['order_moves']:,})",
             f["stock"] == 0 == f["stock_ledger"] and f["order_moves"] == f["orders"]),
            (f"one debit of the order's points per order ({f['debits_wrong']} wrong, "
             f"{f['mall_entries']:,} mall entries)",
             f["debits_wrong"] == 0 and f["mall_entries"] == f["orders"]),
            (f"every replay answered its key's one order ({storm.replayed:,} replays)",
             one_order_per_key),
            (f"Member.points == sum of ledger for every member ({f['points_mismatch']} differ, "
             f"{f['negative']} negative); points left {f['points_total']:,} == "
             f"{len(self.tokens) * POINTS_EACH:,} − {spent:,}",
             f["points_mismatch"] == 0 and f["negative"] == 0
             and f["points_total"] == len(self.tokens) * POINTS_EACH - spent),
        ]

    def run(self) -> int:
        args = self.args
        say(f"logs: {self.log_dir}")
        say(f"backend: {self.backend}; {args.servers} server(s), {args.members:,} members, "
            f"{args.requests:,} requests for stock {args.stock:,}")
        self.start()
        started = time.perf_counter()
        asyncio.run(self.prepare())
        say(f"{len(self.tokens):,} members logged in and credited, item {self.item_id} "
            f"created in {time.perf_counter() - started:.1f} s")
        say(f"storm: {args.requests:,} redemptions at once ...")
        asyncio.run(self.run_storm())
        storm = self.storm
        say(f"  settled in {storm.seconds:.2f} s: {storm.rate:,.0f} redemptions/s; "
            f"answers {dict(sorted(storm.statuses.items()))}")
        for proc in self.procs.running:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} died:\n{proc.log_tail()}")
        self.check()
        return self.report()

    def report(self) -> int:
        args, storm = self.args, self.storm
        checks_ok = bool(self.checks) and all(ok for _, ok in self.checks)
        targets = [
            (f"exactly {args.stock} orders, stock 0",
             f"{len(storm.new_orders)} orders", len(storm.new_orders) == args.stock),
            ("invariants hold", "see the checks above", checks_ok),
            (f"≥ {TARGET_RATE:g} redemptions/s", f"{storm.rate:,.0f}/s "
             f"({sum(storm.statuses.values()):,} in {storm.seconds:.2f} s)",
             storm.rate >= TARGET_RATE),
        ]
        command = "python -m bench.mall_redeem" + (
            " --database-url … --redis-url …" if self.real else "")
        lines = ["", "Checks:"]
        lines += [f"  [{'ok' if ok else 'FAILED'}] {text}" for text, ok in self.checks]
        lines += [
            "",
            f"`{command}` on {os.cpu_count()} cores ({cpu_model()}), "
            f"{time.strftime('%Y-%m-%d')}: {self.backend}, {args.servers} `run.py serve` "
            f"process(es), {args.members:,} members, {args.requests:,} concurrent "
            f"`POST {REDEEM}` (one connection each, pairs under one Idempotency-Key) for "
            f"one item with stock {args.stock:,}.",
            "",
            "| answer | count |", "| --- | ---: |",
            f"| 201 new order | {len(storm.new_orders):,} |",
            f"| 201 replayed (same Idempotency-Key) | {storm.replayed:,} |",
        ]
        lines += [f"| {status} | {count:,} |" for status, count in sorted(
            storm.statuses.items()) if status != "201"]
        lines += ["", "| target | figure | verdict |", "| --- | --- | --- |"]
        lines += [f"| {t} | {fig} | {'PASS' if ok else 'MISS'} |" for t, fig, ok in targets]
        return print_report(lines, self.log_dir, all(ok for _, _, ok in targets))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = bench_parser(__doc__)
    p.add_argument("--members", type=int, default=500, help="members (default 500)")
    p.add_argument("--requests", type=int, default=2000,
                   help="redemption requests sent at once (default 2000)")
    p.add_argument("--stock", type=int, default=100, help="the item's stock (default 100)")
    p.add_argument("--servers", type=int, default=1,
                   help="`run.py serve` processes the requests are spread over (default 1; "
                        "PostgreSQL + Redis only beyond 1)")
    add_pool_size_argument(p, "server")
    add_store_arguments(p, "postgres://postgres@127.0.0.1:5432/bench_mall and "
                           "redis://127.0.0.1:6379/11")
    args = p.parse_args(argv)
    check_store_arguments(p, args)
    if min(args.members, args.requests, args.stock, args.servers) < 1:
        p.error("--members, --requests, --stock and --servers must be positive")
    if args.servers > 1 and not args.database_url:
        p.error("several servers share PostgreSQL + Redis: give --database-url/--redis-url")
    if args.stock * PRICE > args.members * POINTS_EACH:
        p.error("the members cannot afford the stock: more --members or less --stock")
    return args


def main(argv: list[str] | None = None) -> int:
    return run_bench(MallRedeemBench(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
