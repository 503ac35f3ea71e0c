"""Group SOP fan-out benchmark: one step falls due for 10,000 groups under 500 owners;
how long until every push is dispatched, how many add_msg_template calls that took,
how that compares with the least the configured pace allows, and whether any group
got the step twice.

    .venv/bin/python -m bench.sop_fanout [--quick] [--groups 10000] [--owners 500]
        [--rate 20] [--schedulers 1] [--processes 0] [--per-group-text]
        [--database-url postgres://…/bench_sop --redis-url redis://…/13]

Embedded default (no URLs; or SCRM_BENCH_DATABASE_URL / SCRM_BENCH_REDIS_URL unset):
SQLite in a temporary folder and an in-process Redis stand-in. With the URLs: that
PostgreSQL database (created if missing, its schema DROPPED and re-migrated) and that
Redis db (FLUSHED). The WeCom sandbox runs as its own `run.py sandbox` process on
127.0.0.1; every process started is stopped on exit, error or Ctrl-C.

The run:
1. The sandbox gets --owners staff and --groups groups spread evenly among them (bulk
   console, no callbacks), every owner set to confirm pushes at once.
2. The full group sync (handlers.group_sync) brings them into the database; a plan
   targets every group with one step at a fixed time `due`; a tick just before `due`
   enrols the groups (not timed).
3. Timed: from the start of the tick(s) at `due` to their end: 10,000 tasks made and
   dispatched, grouped per owner (one call per owner, or one per group with
   --per-group-text, whose {group_name} differs per group), paced at --rate
   add_msg_template calls per second across schedulers. --schedulers N runs N ticks at
   once in this process (own WeCom clients, shared Redis); --processes N runs N
   `run.py sop tick --now due` processes at once instead (needs Redis: the pace is
   shared through it), their start-up included in the time.
Figures: the time, the add_msg_template calls the sandbox logged, the minimum the pace
allows (calls / rate), the ratio (target ≤ 2×), and duplicates (groups pushed more than
once: must be 0) and groups never pushed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.processes import (
    PYTHON,
    ROOT,
    SandboxBench,
    add_store_arguments,
    bench_env,
    bench_parser,
    check_store_arguments,
    cpu_model,
    http_json,
    run_bench,
    say,
)
from bot.settings import Settings, load_settings

ADD = "externalcontact/add_msg_template"
TARGET_RATIO = 2.0


class SopFanoutBench(SandboxBench):
    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args, "scrm-sop-fanout-")
        self.figures: dict[str, Any] = {}

    def env(self) -> dict[str, str]:
        return bench_env(self.log_dir, self.args.database_url, self.args.redis_url,
                         self.sandbox_port,
                         SCRM__SOP__PUSH_CALLS_PER_SECOND=str(self.args.rate))

    def settings(self) -> Settings:
        return load_settings(environ=self.env())

    def run(self) -> int:
        args = self.args
        if args.processes and not self.real:
            raise SystemExit("--processes needs --database-url and --redis-url: on the "
                             "embedded default each process would pace on its own")
        self.start_sandbox()
        owners = self.seed_sandbox()
        due = asyncio.run(self.prepare())
        if args.processes:
            asyncio.run(self.tick_processes(due))
        else:
            asyncio.run(self.tick_in_process(due))
        self.collect(owners)
        return self.report()

    # ---- setup
    def seed_sandbox(self) -> list[str]:
        args = self.args
        seeded = http_json("POST", f"{self.sandbox}/sandbox/seed",
                           {"staff": args.owners, "customers_per_staff": 0})
        owners = sorted(seeded["follows"])
        chat_ids = http_json("POST", f"{self.sandbox}/sandbox/groups/bulk",
                             {"owners": owners, "groups_per_owner": args.groups // args.owners},
                             timeout=120)["chat_ids"]
        http_json("POST", f"{self.sandbox}/sandbox/groupmsg/policy", {"auto": "confirm"})
        say(f"sandbox: {len(owners)} owners, {len(chat_ids):,} groups, owners auto-confirm")
        self.figures["groups"] = len(chat_ids)
        return owners

    async def prepare(self) -> datetime:
        """Sync the groups, store the plan, enrol; returns the step's due time."""
        from bot.runtime import open_runtime
        from handlers.group_sync import sync_groups
        from handlers.sop_plans import PlanSpec, StepSpec, create_plan
        from handlers.sop_tick import run_sop_tick

        settings = self.settings()
        async with open_runtime(settings) as runtime:
            started = time.perf_counter()
            synced = await sync_groups(runtime.wecom)
            say(f"group sync: {synced.summary()} in {time.perf_counter() - started:.1f} s")
            now = datetime.now(UTC).replace(microsecond=0)
            due = now + timedelta(hours=1)
            text = ("{group_name}的朋友们，本周新品到店，欢迎来看看！" if self.args.per_group_text
                    else "本周新品到店，欢迎来看看！")
            await create_plan(PlanSpec(name="新品通知", steps=[StepSpec(at=due, text=text)]),
                              now)
            enrol = await run_sop_tick(runtime.wecom, runtime.redis, settings,
                                       due - timedelta(seconds=1))
            say(f"plan enrolled {enrol.enrolled:,} groups; step due at {due.isoformat()}")
        return due

    # ---- the timed part
    async def tick_in_process(self, due: datetime) -> None:
        import aiohttp

        from bot.runtime import open_runtime
        from bot.wecom import WeComClient
        from handlers.sop_tick import run_sop_tick

        settings = self.settings()
        async with open_runtime(settings) as runtime:
            sessions = [aiohttp.ClientSession() for _ in range(self.args.schedulers)]
            try:
                clients = [WeComClient(s, runtime.redis, settings) for s in sessions]
                started = time.perf_counter()
                results = await asyncio.gather(*(run_sop_tick(c, runtime.redis, settings, due)
                                                 for c in clients))
                self.figures["seconds"] = time.perf_counter() - started
            finally:
                for session in sessions:
                    await session.close()
        self.figures["schedulers"] = f"{self.args.schedulers} in-process"
        self.figures["tasks_created"] = sum(r.created for r in results)
        self.figures["pushed"] = sum(r.dispatch.pushed for r in results)
        self.figures["requeued"] = sum(r.dispatch.requeued for r in results)

    async def tick_processes(self, due: datetime) -> None:
        started = time.perf_counter()
        procs = [await asyncio.create_subprocess_exec(
            PYTHON, str(ROOT / "run.py"), "sop", "tick", "--now", due.isoformat(), cwd=ROOT,
            env=self.env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
            for _ in range(self.args.processes)]
        outputs = [(await p.communicate())[0].decode() for p in procs]
        self.figures["seconds"] = time.perf_counter() - started
        for n, (proc, out) in enumerate(zip(procs, outputs, strict=True)):
            (self.log_dir / f"tick{n}.log").write_text(out)
            if proc.returncode != 0:
                raise RuntimeError(f"tick process {n} exited {proc.returncode}:\n{out[-2000:]}")
        self.figures["schedulers"] = f"{self.args.processes} processes"
        fields = [dict(f.split("=", 1) for f in out.strip().splitlines()[-1].split(": ", 1)[1]
                       .split()) for out in outputs]
        self.figures["tasks_created"] = sum(int(f["created"]) for f in fields)
        self.figures["pushed"] = sum(int(f["dispatch.pushed"]) for f in fields)
        self.figures["requeued"] = sum(int(f["dispatch.requeued"]) for f in fields)

    # ---- figures
    def collect(self, owners: list[str]) -> None:
        calls = http_json("GET", f"{self.sandbox}/sandbox/calls?api={ADD}", timeout=60)
        self.figures["calls"] = int(calls["counts"].get(ADD, 0))
        self.figures["call_errors"] = sum(1 for c in calls["calls"] if c["errcode"])
        tasks = http_json("GET", f"{self.sandbox}/sandbox/groupmsg", timeout=60)["tasks"]
        per_chat = Counter(chat["chat_id"] for t in tasks for chat in t["chats"])
        self.figures["duplicates"] = sum(1 for n in per_chat.values() if n > 1)
        self.figures["never_pushed"] = self.figures["groups"] - len(per_chat)
        self.figures["delivered"] = sum(1 for t in tasks for chat in t["chats"]
                                        if chat["status"] == 1)
        self.figures["owners"] = len(owners)

    def report(self) -> int:
        f, args = self.figures, self.args
        minimum = f["calls"] / args.rate
        ratio = f["seconds"] / minimum if minimum else float("inf")
        ok = ratio <= TARGET_RATIO and f["duplicates"] == 0 and f["never_pushed"] == 0
        rows = [
            ("backend", self.backend),
            ("cpu", f"{cpu_model()} ({os.cpu_count()} cpus)"),
            ("groups / owners", f"{f['groups']:,} / {f['owners']}"),
            ("text", "per group ({group_name})" if args.per_group_text else "same for all"),
            ("schedulers", f["schedulers"]),
            ("tasks created / pushed", f"{f['tasks_created']:,} / {f['pushed']:,}"),
            ("add_msg_template calls", f"{f['calls']:,} ({f['call_errors']} errors)"),
            ("pace (sop.push_calls_per_second)", f"{args.rate}/s"),
            ("time, tick start → all dispatched", f"{f['seconds']:.2f} s"),
            ("minimum at that pace (calls / rate)", f"{minimum:.2f} s"),
            ("ratio (target ≤ 2×)", f"{ratio:.2f}×"),
            ("groups pushed more than once", f"{f['duplicates']}"),
            ("groups never pushed", f"{f['never_pushed']}"),
            ("groups delivered (auto-confirm)", f"{f['delivered']:,}"),
            ("requeued (rate limited)", f"{f['requeued']}"),
        ]
        width = max(len(name) for name, _ in rows)
        say("")
        say(f"| {'figure'.ljust(width)} | value")
        say(f"|{'-' * (width + 2)}|{'-' * 30}")
        for name, value in rows:
            say(f"| {name.ljust(width)} | {value}")
        say("")
        say(f"{'PASS' if ok else 'FAIL'}: ratio {ratio:.2f}× (≤ {TARGET_RATIO:g}×), "
            f"{f['duplicates']} duplicates, {f['never_pushed']} groups never pushed")
        say(f"logs: {self.log_dir}")
        return 0 if ok else 1


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    defaults = load_settings(environ={})
    p = bench_parser(__doc__)
    p.add_argument("--groups", type=int, default=10_000, help="groups (default 10000)")
    p.add_argument("--owners", type=int, default=500, help="owners (default 500)")
    p.add_argument("--rate", type=int, default=defaults.sop.push_calls_per_second,
                   help="sop.push_calls_per_second (default: settings.toml's)")
    p.add_argument("--schedulers", type=int, default=1,
                   help="ticks at once in this process (default 1)")
    p.add_argument("--processes", type=int, default=0,
                   help="run.py sop tick processes at once instead (needs the URLs)")
    p.add_argument("--per-group-text", action="store_true",
                   help="a {group_name} text: one call per group")
    p.add_argument("--quick", action="store_true", help="smoke run: 1,000 groups, 50 owners")
    add_store_arguments(p, "postgres://postgres@127.0.0.1:5432/bench_sop and "
                           "redis://127.0.0.1:6379/13")
    args = p.parse_args(argv)
    if args.quick:
        args.groups, args.owners = 1000, 50
    check_store_arguments(p, args)
    if args.owners < 1 or args.groups < args.owners:
        p.error("need at least one group per owner")
    return args


def main(argv: list[str] | None = None) -> int:
    return run_bench(SopFanoutBench(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())

