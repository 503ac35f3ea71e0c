"""Callback ingest benchmark: how fast one `run.py serve` process acknowledges signed,
encrypted WeCom callbacks with a durable write, how fast workers finish them, and how
that compares with what people run today.

    .venv/bin/pip install -e '.[bench]'        # Flask + gunicorn for baseline (b)
    apt-get install wrk                        # optional; else a Python load generator
    .venv/bin/python -m bench.callback_ingest [--quick] [--events N] [--duration S]
                                              [--skip-baselines] [--workers W]

Needs PostgreSQL (default postgres://postgres@127.0.0.1:5432/bench; the database is
created if missing and its schema is DROPPED and re-migrated at start) and Redis
(default redis://127.0.0.1:6379/14, FLUSHED at start and between phases). Only loopback
traffic; every loop is bounded; every process it starts is stopped on exit, error or
Ctrl-C.

What it measures, each server its own process on 127.0.0.1, same request set:
  (a) bare aiohttp handler answering 200                        - the ceiling
  (b) Flask + wechatpy decrypt/parse, gunicorn, 1 sync worker   - what users write today
  (c) aiohttp + wechatpy decrypt/parse                          - same work, async
  ours `run.py serve` (PostgreSQL + Redis, sandbox off): verify, decrypt, parse, dedupe,
       group-commit INSERT, enqueue ids to the Redis stream, then 200
1. acks/s: closed loop, --connections connections, --duration seconds, distinct events.
2. ack latency p50/p99 at a fixed --rate (1,000/s) open loop, measured from each
   request's scheduled send time.
3. burst: --events distinct add_external_contact events for customers seeded in a
   separately started `run.py sandbox`, plus 10 % re-deliveries (the same request sent
   again), with --workers `run.py worker` processes running: checks nothing is lost and
   nothing is processed twice, and times end-to-end processing (status `done`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import loadgen
from bench.cpuload import CpuShare, CpuWatch
from bench.events import CallbackSigner, synthetic_pairs
from bench.loadgen import Request, fmt_ms, fmt_rate, write_request_file
from bench.open_loop import open_loop
from bench.processes import (
    PYTHON,
    Proc,
    Processes,
    Stores,
    bench_parser,
    cpu_model,
    free_port,
    http_json,
    migrate,
    print_report,
    run_bench,
    say,
    wait_http,
)
from bot.settings import load_settings

REFERENCE = {"a": 17_000.0, "c": 5_800.0, "b": 3_200.0}  # 2 cores, generator on the box
SERVER_LABELS = {
    "a": "(a) aiohttp, bare 200",
    "b": "(b) Flask + wechatpy",
    "c": "(c) aiohttp + wechatpy",
    "ours": "**Anxin SCRM** `run.py serve`",
}


# --- the run ---------------------------------------------------------------------------

@dataclass
class ServerResult:
    acks: loadgen.LoadResult | None = None
    latency: loadgen.LoadResult | None = None
    cpu: list[CpuShare] = field(default_factory=list)


@dataclass
class BurstResult:
    distinct: int = 0
    redeliveries: int = 0
    sent: loadgen.LoadResult | None = None
    processed_seconds: float | None = None
    counts: dict[str, int] = field(default_factory=dict)
    get_calls: int | None = None
    get_errors: int | None = None
    checks: list[tuple[str, bool]] = field(default_factory=list)
    cpu: CpuShare | None = None

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(passed for _, passed in self.checks)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.log_dir = Path(tempfile.mkdtemp(prefix="scrm-bench-"))
        self.procs = Processes(self.log_dir)
        self.stores = Stores(args.database_url, args.redis_url)
        self.sandbox_port = free_port()
        self.results: dict[str, ServerResult] = {}
        self.burst = BurstResult()
        self.use_wrk = args.load_generator == "wrk" or (
            args.load_generator == "auto" and loadgen.wrk_available())
        self.flask_server = ""
        # The same credentials the server reads (settings.toml + SCRM__ env).
        self.settings = load_settings(environ=self.env())
        self.signer = CallbackSigner.from_settings(self.settings)

    # environment for our processes
    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "SCRM__DATABASE__URL": self.args.database_url,
            "SCRM__REDIS__URL": self.args.redis_url,
            "SCRM__SANDBOX__ENABLED": "false",
            "SCRM__SANDBOX__PORT": str(self.sandbox_port),
            "SCRM__WECOM__API_BASE": f"http://127.0.0.1:{self.sandbox_port}",
            "PYTHONUNBUFFERED": "1",
        })
        env.update(extra)
        return env

    # ---- servers
    def start_ours(self, port: int) -> Proc:
        proc = self.procs.start("serve", [PYTHON, "run.py", "serve"],
                                self.env(SCRM__SERVER__PORT=str(port)))
        wait_http(proc, f"http://127.0.0.1:{port}/healthz", timeout=60)
        return proc

    def start_baseline(self, kind: str, port: int) -> Proc:
        env = self.env()
        if kind == "a":
            proc = self.procs.start("baseline-a", [PYTHON, "-m", "bench.baselines", "bare",
                                                   str(port)], env)
        elif kind == "c":
            proc = self.procs.start("baseline-c", [PYTHON, "-m", "bench.baselines",
                                                   "aiohttp-wechatpy", str(port)], env)
        else:
            gunicorn = Path(PYTHON).with_name("gunicorn")
            if gunicorn.exists():
                self.flask_server = "gunicorn 1 sync worker"
                cmd = [str(gunicorn), "-w", "1", "-k", "sync", "-b", f"127.0.0.1:{port}",
                       "--log-level", "warning", "bench.flask_baseline:app"]
            else:
                self.flask_server = "werkzeug dev server, 1 thread (gunicorn not installed)"
                cmd = [PYTHON, "-c",
                       "from werkzeug.serving import run_simple;"
                       "from bench.flask_baseline import app;"
                       f"run_simple('127.0.0.1', {port}, app, threaded=False)"]
            proc = self.procs.start("baseline-b", cmd, env)
        wait_http(proc, f"http://127.0.0.1:{port}/ping", timeout=30)
        return proc

    # ---- load
    def closed_loop(self, port: int, request_file: str,
                    requests: list[Request]) -> loadgen.LoadResult:
        base = f"http://127.0.0.1:{port}"
        if self.use_wrk:
            return loadgen.run_wrk(base, request_file, connections=self.args.connections,
                                   duration=self.args.duration)
        return asyncio.run(loadgen.closed_loop(base, requests, connections=self.args.connections,
                                               duration=self.args.duration))

    def open_loop(self, port: int, requests: list[Request]) -> loadgen.LoadResult:
        warmup = int(self.args.rate)  # the first second opens connections
        return asyncio.run(open_loop(f"http://127.0.0.1:{port}", requests,
                                             rate=self.args.rate, warmup=warmup))

    def throughput_set(self) -> list[Request]:
        """Distinct add_external_contact events, the same ones for every server (signed
        with the current time, which the server's replay window checks)."""
        return self.signer.add_contact_requests(synthetic_pairs(self.tput_size, "tput"))

    def latency_set(self) -> list[Request]:
        count = int(self.args.rate * (self.args.duration + 1))  # +1 s of warm-up
        return self.signer.add_contact_requests(synthetic_pairs(count, "lat"))

    @property
    def tput_size(self) -> int:
        # Enough distinct events that our server never runs out in --duration seconds.
        return max(5_000, int(self.args.duration * self.args.max_expected_rate))

    def measure(self, key: str, port: int, start: Any) -> None:
        """Throughput then latency for one server process, started by `start(port)`."""
        tput = self.throughput_set()
        request_file = str(self.log_dir / "requests.txt")
        write_request_file(request_file, tput)
        proc = start(port)
        result = ServerResult()
        try:
            say(f"  acks/s, closed loop, {self.args.connections} connections, "
                f"{self.args.duration:g}s ...")
            watch = CpuWatch()
            result.acks = self.closed_loop(port, request_file, tput)
            result.cpu.append(watch.stop())
            say(f"    {result.acks.rate:,.0f} acks/s (p50 {fmt_ms(result.acks.p50_ms)} ms, "
                f"p99 {fmt_ms(result.acks.p99_ms)} ms, errors {result.acks.errors}"
                + (f", wrapped around the set {result.acks.wraps}x" if result.acks.wraps else "")
                + ")")
            say(f"    {result.cpu[-1].describe()}")
            say(f"  latency at {self.args.rate:,.0f}/s open loop, {self.args.duration:g}s ...")
            lat = self.latency_set()
            watch = CpuWatch()
            result.latency = self.open_loop(port, lat)
            result.cpu.append(watch.stop())
            say(f"    p50 {result.latency.p50_ms:.1f} ms  p99 {result.latency.p99_ms:.1f} ms  "
                f"({result.latency.ok}/{result.latency.requests} answered 200)")
            say(f"    {result.cpu[-1].describe()}")
            if not proc.alive():
                raise RuntimeError(f"{proc.name} died:\n{proc.log_tail()}")
        finally:
            self.procs.stop(proc)
            Path(request_file).unlink(missing_ok=True)
        self.results[key] = result

    # ---- burst
    def run_burst(self) -> None:
        args, burst = self.args, self.burst
        asyncio.run(self.stores.reset())
        sandbox = f"http://127.0.0.1:{self.sandbox_port}"
        http_json("POST", f"{sandbox}/sandbox/reset", {})
        per_staff = 200
        staff = -(-args.events // per_staff)
        seeded = http_json("POST", f"{sandbox}/sandbox/seed",
                           {"staff": staff, "customers_per_staff": per_staff}, timeout=120)
        pairs = [(userid, ext) for userid, exts in seeded["follows"].items() for ext in exts]
        pairs = pairs[: args.events]
        originals = self.signer.add_contact_requests(pairs)
        rng = random.Random(20240601)
        redelivered = rng.sample(range(len(originals)), len(originals) // 10)
        # A re-delivery is the identical request sent again, a little later (some while
        # the original is still in flight, most after it was acknowledged).
        keyed = [(float(i), r) for i, r in enumerate(originals)]
        keyed += [(i + rng.uniform(0.5, 2_000), originals[i]) for i in redelivered]
        keyed.sort(key=lambda pair: pair[0])
        requests = [r for _, r in keyed]
        burst.distinct, burst.redeliveries = len(originals), len(redelivered)

        port = free_port()
        limits = {"SCRM__WECOM__RATE_LIMIT_PER_MINUTE": str(args.rate_limit)}
        workers = [self.procs.start(f"worker{n}", [PYTHON, "run.py", "worker"], self.env(**limits))
                   for n in range(args.workers)]
        server = self.start_ours(port)
        time.sleep(1.0)  # workers: consumer group joined, first XREADGROUP blocking
        for worker in workers:
            if not worker.alive():
                raise RuntimeError(f"{worker.name} exited:\n{worker.log_tail()}")
        try:
            say(f"  {len(requests):,} requests ({burst.distinct:,} events + "
                f"{burst.redeliveries:,} re-deliveries), {args.connections} connections, "
                f"{args.workers} worker process(es) ...")
            watch = CpuWatch()
            start = time.perf_counter()
            burst.sent = asyncio.run(loadgen.send_all(f"http://127.0.0.1:{port}", requests,
                                                      connections=args.connections))
            say(f"    acknowledged in {burst.sent.seconds:.1f}s "
                f"({burst.sent.rate:,.0f} acks/s while workers run); statuses "
                f"{dict(burst.sent.statuses)}")
            deadline = time.perf_counter() + args.process_timeout
            done = failed = 0
            last_print = 0.0
            while time.perf_counter() < deadline:
                done, failed = asyncio.run(self.stores.done_count())
                if done + failed >= burst.distinct:
                    break
                now = time.perf_counter()
                if now - last_print > 5:
                    say(f"    {done:,}/{burst.distinct:,} done after {now - start:.0f}s")
                    last_print = now
                time.sleep(0.1)
            if done + failed >= burst.distinct:
                burst.processed_seconds = time.perf_counter() - start
            burst.cpu = watch.stop()
            say(f"    processed in {burst.processed_seconds or float('nan'):.1f}s; "
                f"{burst.cpu.describe()}")
            # Anything processed twice would show up a little late: give it a moment.
            time.sleep(1.0)
        finally:
            self.procs.stop(server)
            for worker in workers:
                self.procs.stop(worker)
        burst.counts = asyncio.run(self.stores.inbox_counts())
        calls = http_json("GET", f"{sandbox}/sandbox/calls?api=externalcontact/get", timeout=60)
        get_calls = [c for c in calls.get("calls", []) if c.get("api") == "externalcontact/get"]
        burst.get_calls = len(get_calls)
        burst.get_errors = sum(1 for c in get_calls if c.get("errcode") != 0)
        c, n = burst.counts, burst.distinct
        burst.checks = [
            ("every request answered 200",
             burst.sent is not None and burst.sent.ok == len(requests)),
            (f"inbox rows == distinct events ({c['rows']:,} == {n:,})", c["rows"] == n),
            (f"all done ({c['done']:,}; failed {c['failed']}, pending {c['pending']}, "
             f"processing {c['processing']})", c["done"] == n),
            (f"attempts == 1 each (max {c['max_attempts']}, {c['attempts_not_1']} rows != 1)",
             c["attempts_not_1"] == 0),
            (f"externalcontact/get calls == distinct events ({burst.get_calls:,}, "
             f"{burst.get_errors} errors)", burst.get_calls == n and burst.get_errors == 0),
            (f"customers == follow relations == distinct events ({c['customers']:,}, "
             f"{c['follow_relations']:,})", c["customers"] == n and c["follow_relations"] == n),
        ]

    # ---- the whole run
    def run(self) -> int:
        args = self.args
        say(f"logs: {self.log_dir}")
        if self.use_wrk:
            say("load generator: wrk (closed loop) + Python (open loop, burst)")
        else:
            say("load generator: Python only" + ("" if loadgen.wrk_available() else
                " (wrk not found; `apt-get install wrk` for closed-loop figures that are not "
                "capped by the generator)"))
        asyncio.run(self.stores.recreate())
        asyncio.run(self.stores.flush_redis())
        migrate(self.env())
        sandbox = self.procs.start("sandbox", [PYTHON, "run.py", "sandbox"], self.env())
        wait_http(sandbox, f"http://127.0.0.1:{self.sandbox_port}/sandbox/state", timeout=30)

        if not args.skip_baselines:
            for key in ("a", "b", "c"):
                say(f"{SERVER_LABELS[key]}")
                self.measure(key, free_port(), lambda port, k=key: self.start_baseline(k, port))
        say(SERVER_LABELS["ours"].replace("**", "") + " (PostgreSQL + Redis, no workers)")
        asyncio.run(self.stores.reset())
        self.measure("ours", free_port(), self.start_ours)
        say(f"burst: {args.events:,} events + 10 % re-deliveries, {args.workers} worker(s)")
        self.run_burst()
        self.procs.stop(sandbox)
        return self.report()

    # ---- report
    def report(self) -> int:
        args, burst = self.args, self.burst
        ours = self.results["ours"]
        rates = {k: r.acks.rate for k, r in self.results.items() if r.acks is not None}
        vs = "reference" if args.skip_baselines else "measured"
        ref = {k: rates.get(k, REFERENCE[k]) for k in ("a", "b", "c")}
        ours_rate = rates["ours"]
        p99 = float("inf")
        if ours.latency is not None and ours.latency.p99_ms is not None:
            p99 = ours.latency.p99_ms
        e2e = burst.distinct / burst.processed_seconds if burst.processed_seconds else None
        targets = [
            (f"durable ingest ≥ 1.2× (b) ({vs} {ref['b']:,.0f}/s)",
             f"{ours_rate:,.0f}/s = {ours_rate / ref['b']:.2f}× (b)",
             ours_rate >= 1.2 * ref["b"]),
            (f"goal: within 15 % of (c) ({vs} {ref['c']:,.0f}/s)",
             f"{ours_rate / ref['c']:.0%} of (c)", ours_rate >= 0.85 * ref["c"]),
            (f"ack p99 ≤ 20 ms at {args.rate:,.0f} events/s",
             f"{p99:.1f} ms (p50 {fmt_ms(ours.latency.p50_ms if ours.latency else None)} ms)",
             p99 <= 20.0),
            ("burst: nothing lost, nothing processed twice",
             "all checks pass" if burst.ok else "checks failed", burst.ok),
        ]
        say("")
        say("burst checks:")
        for text, passed in burst.checks:
            say(f"  [{'ok' if passed else 'FAIL'}] {text}")
        if burst.processed_seconds is None:
            say(f"  processing did not finish within {args.process_timeout:.0f}s")
        say("")
        say("targets:")
        for text, figure, passed in targets:
            say(f"  {'PASS' if passed else 'MISS'}  {text}: {figure}")
        busiest = max((c for r in self.results.values() for c in r.cpu),
                      key=lambda c: c.others, default=None)
        if burst.cpu is not None and (busiest is None or burst.cpu.others > busiest.others):
            busiest = burst.cpu
        noisy = busiest if busiest is not None and busiest.others >= 0.15 else None
        if noisy is not None:
            say(f"  WARNING: other processes used up to {noisy.others:.2f} cores during a "
                f"phase ({noisy.top_other or 'several'}): figures are lower and noisier "
                "than on a quiet machine")

        generator = ("wrk -t2" if self.use_wrk else "a Python aiohttp client") + \
            f", {args.connections} connections, {args.duration:g} s"
        flask = self.flask_server or "gunicorn, 1 sync worker"
        work = {
            "a": "nothing (answers 200)",
            "b": f"wechatpy decrypt + parse; {flask}",
            "c": "wechatpy decrypt + parse",
            "ours": "verify, decrypt, parse, dedupe, durable INSERT (PostgreSQL), "
                    "enqueue (Redis stream)",
        }
        command = "python -m bench.callback_ingest" + (" --quick" if args.quick else "") + (
            " --skip-baselines" if args.skip_baselines else "")
        lines = [
            "",
            f"`{command}` on {os.cpu_count()} cores ({cpu_model()}), {time.strftime('%Y-%m-%d')}:"
            f" each server one process on 127.0.0.1, load generator on the same machine "
            f"({generator}); every request a distinct signed, encrypted "
            "`add_external_contact` callback.",
            "",
            f"| server | work per callback | acks/s | vs (c) | ack p50 / p99 ms at "
            f"{args.rate:,.0f}/s |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        for key in ("a", "b", "c", "ours"):
            r = self.results.get(key)
            if r is None or r.acks is None:
                lines.append(f"| {SERVER_LABELS[key]} | {work[key]} | "
                             f"≈{REFERENCE[key]:,.0f} (reference) | "
                             f"{REFERENCE[key] / ref['c']:.0%} | — |")
                continue
            lat = f"{fmt_ms(r.latency.p50_ms)} / {fmt_ms(r.latency.p99_ms)}" if r.latency else "—"
            lines.append(f"| {SERVER_LABELS[key]} | {work[key]} | {fmt_rate(r.acks.rate)} | "
                         f"{r.acks.rate / ref['c']:.0%} | {lat} |")
        sent = burst.sent
        lines += [
            "",
            f"Burst: {burst.distinct:,} events + {burst.redeliveries:,} re-deliveries (the same "
            f"request again) at {args.connections} connections, {args.workers} `run.py worker` "
            "process(es), the WeCom sandbox in its own process (workers' "
            f"`wecom.rate_limit_per_minute` raised to {args.rate_limit:,}: WeCom's own quota, "
            "10,000 externalcontact/get calls a minute, would cap processing at ≈167/s).",
            "",
            "| target | figure | verdict |",
            "| --- | --- | --- |",
        ]
        for text, figure, passed in targets:
            lines.append(f"| {text} | {figure} | {'PASS' if passed else 'MISS'} |")
        if sent is not None:
            lines.append(f"| burst acknowledged (workers running) | {sent.seconds:.1f} s, "
                         f"{sent.rate:,.0f} acks/s | — |")
        lines.append(
            f"| end-to-end processed/s (to `done`, each with an externalcontact/get) | "
            f"{fmt_rate(e2e)}/s: {burst.distinct:,} in {burst.processed_seconds:.1f} s | — |"
            if e2e else "| end-to-end processing | did not finish | MISS |")
        if noisy is not None:
            lines += ["", f"Other processes used up to {noisy.others:.2f} cores during the "
                          "run: the figures are lower than on a quiet machine."]
        return print_report(lines, self.log_dir, all(passed for _, _, passed in targets))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = bench_parser(__doc__)
    p.add_argument("--events", type=int, default=20_000,
                   help="distinct events in the burst (default 20000; +10%% re-deliveries)")
    p.add_argument("--duration", type=float, default=10.0,
                   help="seconds of each closed-loop and open-loop phase (default 10)")
    p.add_argument("--skip-baselines", action="store_true",
                   help="measure only our server; compare with the reference figures")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: --events 2000 --duration 3")
    p.add_argument("--workers", type=int, default=2, help="run.py worker processes (default 2)")
    p.add_argument("--connections", type=int, default=64,
                   help="closed-loop and burst connections (default 64)")
    p.add_argument("--rate", type=float, default=1000.0,
                   help="open-loop arrival rate for the latency phase (default 1000/s)")
    p.add_argument("--load-generator", choices=["auto", "wrk", "python"], default="auto",
                   help="closed-loop generator: wrk if installed (auto), or Python")
    p.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/bench",
                   help="PostgreSQL database of the benchmark (its schema is dropped!)")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/14",
                   help="Redis db of the benchmark (flushed!)")
    p.add_argument("--rate-limit", type=int, default=1_000_000,
                   help="workers' wecom.rate_limit_per_minute (WeCom's real quota, 10000/min "
                        "per API, would make the burst wait for the next minute)")
    p.add_argument("--process-timeout", type=float, default=300.0,
                   help="give up waiting for the burst to be processed after this (s)")
    p.add_argument("--max-expected-rate", type=float, default=12_000.0,
                   help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.events = min(args.events, 2_000)
        args.duration = min(args.duration, 3.0)
    if args.events < 10 or args.duration <= 0 or args.workers < 1 or args.connections < 1:
        p.error("--events >= 10, --duration > 0, --workers >= 1, --connections >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    return run_bench(Bench(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
