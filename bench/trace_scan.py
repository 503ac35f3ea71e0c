"""安心码 benchmark: how fast codes are made, and how fast one `run.py serve` answers
scans of genuine and of forged codes, against a bare aiohttp JSON endpoint in the same
run as the ceiling.

    apt-get install wrk                      # required: the closed-loop phases use it
    .venv/bin/python -m bench.trace_scan [--generate 1000000] [--codes 100000]
        [--duration 10] [--connections 64] [--rate 2000] [--profile]
        [--database-url postgres://…/bench_trace --redis-url redis://…/10]

Embedded default (no URLs; or SCRM_BENCH_DATABASE_URL / SCRM_BENCH_REDIS_URL unset):
SQLite in a temporary folder and an in-process Redis stand-in, for a smoke run. With
the URLs (the issue's setting): that PostgreSQL database (created if missing, its
schema DROPPED and re-migrated) and that Redis db (FLUSHED). Every process started is
stopped on exit, error or Ctrl-C.

The run:
1. `run.py sandbox`, one `run.py serve`, the ceiling (`python -m bench.baselines json`).
   An operator makes a guide in the sandbox, a product (`POST /admin/api/trace/products`),
   a batch (`POST /admin/api/trace/batches`) and its five-event trace timeline
   (`POST /admin/api/trace/batches/{lot}/events`; the ceiling answers the same timeline).
2. Generation: `run.py codes generate --count --generate` for the batch, timed as a
   user runs it (process start, database, CSV for the printer).
3. Scans: `POST /miniapp/api/trace/scan {"code", "city"}` without a member, each request
   with the next of the first --codes codes (the first scan of a code verifies it,
   later ones answer already_verified), closed loop (wrk) and at a fixed --rate;
   then the same with forged codes (one serial character changed): refused by the
   signature check before any database read. The failed-scan limit per client is
   raised for the run: every request comes from 127.0.0.1.
4. Checks: a genuine code answers genuine then already_verified, a forged one
   not_genuine; every recorded scan is one `code_scan` row and counted on its code.
Targets (the issue's): ≥ 2,000 genuine scans/s, ≥ 40 % of the ceiling, p99 ≤ 30 ms
(at --rate); 1,000,000 codes to the database and CSV in ≤ 60 s.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import subprocess
import time
from typing import Any

import aiohttp

from bench import loadgen
from bench.baselines import TIMELINE
from bench.endpoint_bench import Endpoint, EndpointBench, add_load_arguments
from bench.loadgen import Request, fmt_ms, fmt_rate
from bench.processes import (
    PYTHON,
    ROOT,
    add_store_arguments,
    bench_parser,
    check_store_arguments,
    cpu_model,
    db_counts,
    run_bench,
    say,
)

SCAN = "/miniapp/api/trace/scan"
ADMIN_TOKEN = "bench-trace-admin-token-0123456789"
GTIN, LOT, GUIDE = "06901234567892", "BENCH-2025", "bench_guide"
TARGET_SCANS = 2000.0
TARGET_SHARE = 0.40
TARGET_P99_MS = 30.0
TARGET_GENERATE_SECONDS = 60.0
CITY = "上海市"


class TraceScanBench(EndpointBench):
    profile_key = "genuine"

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args, "scrm-trace-scan-", {
            "ceiling": Endpoint("bare aiohttp JSON (ceiling)",
                                "a fixed answer as JSON, no I/O", "ceiling"),
            "genuine": Endpoint(f"`POST {SCAN}` genuine codes",
                                "parse, HMAC check, code + batch read, verdict, scan recorded "
                                "(first: verified), trace and history, JSON", "serve"),
            "forged": Endpoint(f"`POST {SCAN}` forged codes",
                               "parse, HMAC check: refused before any database read; the "
                               "failure counted in Redis (INCR) and logged",
                               "serve"),
        })
        self.codes: list[str] = []
        self.generate_seconds = 0.0

    def server_settings(self) -> dict[str, str]:
        return {"SCRM__ADMIN__TOKENS": ADMIN_TOKEN, "SCRM__TRACE__BASE_URL": self.serve,
                "SCRM__TRACE__FAILED_SCANS_PER_MINUTE": str(10**9)}

    # ---- setup
    async def catalogue(self) -> None:
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with aiohttp.ClientSession(raise_for_status=True) as http:
            async with http.post(f"{self.sandbox}/sandbox/staff",
                                 json={"userid": GUIDE, "name": "导购"}):
                pass
            product = {"gtin": GTIN, "name": "安心牛奶 250ml", "guides": [GUIDE],
                       "tags": [{"group": "产品", "name": "安心牛奶"}],
                       "create_missing_tags": True}
            batch = {"gtin": GTIN, "lot": LOT, "production_date": "2025-03-01",
                     "expiry_date": "2099-03-01", "factory": "上海一厂"}
            for path, body in (("products", product), ("batches", batch),
                               (f"batches/{LOT}/events", {"events": TIMELINE})):
                async with http.post(f"{self.serve}/admin/api/trace/{path}", json=body,
                                     headers=admin):
                    pass

    def generate(self) -> None:
        out = self.log_dir / "codes.csv"
        say(f"generating {self.args.generate:,} codes (run.py codes generate) ...")
        started = time.perf_counter()
        done = subprocess.run(
            [PYTHON, "run.py", "codes", "generate", "--batch", LOT, "--count",
             str(self.args.generate), "--out", str(out)], cwd=ROOT, env=self.env(),
            capture_output=True, text=True, timeout=1800)
        self.generate_seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"codes generate failed:\n{done.stdout}{done.stderr[-2000:]}")
        say(f"  {done.stdout.strip().splitlines()[-1]}")
        with out.open(encoding="utf-8-sig", newline="") as text:
            reader = csv.DictReader(text)
            self.codes = [row["url"] for _, row in zip(range(self.args.codes), reader,
                                                        strict=False)]
        self.checks.append((f"the CSV holds the codes asked for ({len(self.codes):,} read "
                            "for the scans)", len(self.codes) == min(self.args.codes,
                                                                     self.args.generate)))

    # ---- load
    def scans(self, codes: list[str]) -> list[Request]:
        return [Request(SCAN, json.dumps({"code": code, "city": CITY}).encode(), "POST",
                        dict(loadgen.JSON)) for code in codes]

    def forged(self) -> list[str]:
        """Each code with the serial's 12th character changed (inside the signature)."""
        out = []
        for code in self.codes:
            head, serial = code.rsplit("/", 1)
            swapped = "0" if serial[11] != "0" else "1"
            out.append(f"{head}/{serial[:11]}{swapped}{serial[12:]}")
        return out

    def scan_once(self, code: str) -> dict[str, Any]:
        async def go() -> dict[str, Any]:
            async with aiohttp.ClientSession() as http, http.post(
                    self.serve + SCAN, json={"code": code, "city": CITY}) as reply:
                return dict(await reply.json())
        return asyncio.run(go())

    def check_answers(self) -> None:
        """Before the load: the last code scanned twice, and one forged code."""
        code = self.codes[-1]
        first, second = self.scan_once(code), self.scan_once(code)
        forged = self.scan_once(self.forged()[-1])
        self.checks += [
            (f"a genuine code: {first.get('verdict')}, then {second.get('verdict')}",
             first.get("verdict") == "genuine" and second.get("verdict") == "already_verified"),
            (f"a forged code: {forged.get('verdict')}, nothing about it shown",
             forged.get("verdict") == "not_genuine" and not forged.get("product")),
        ]

    async def scan_figures(self) -> dict[str, int]:
        return await db_counts(self.env()["SCRM__DATABASE__URL"], {
            "scan_rows": "SELECT count(*) AS n FROM code_scan",
            "scans_counted": "SELECT coalesce(sum(scans), 0) AS n FROM trace_code",
            "verified": "SELECT count(*) AS n FROM trace_code WHERE verified_at IS NOT NULL",
            "codes": "SELECT count(*) AS n FROM trace_code",
        })

    def check_scans(self) -> None:
        f = asyncio.run(self.scan_figures())
        self.checks += [
            (f"codes in the database == generated ({f['codes']:,})",
             f["codes"] == self.args.generate),
            (f"every recorded scan counted on its code ({f['scan_rows']:,} rows, "
             f"{f['scans_counted']:,} counted, {f['verified']:,} codes verified)",
             f["scan_rows"] == f["scans_counted"] > 0 and f["verified"] > 0),
        ]

    def run(self) -> int:
        say(f"logs: {self.log_dir}")
        say(f"backend: {self.backend}")
        self.start()
        asyncio.run(self.catalogue())
        self.generate()
        self.check_answers()
        ceiling = self.scans(self.codes[:1000])
        say(self.endpoints["ceiling"].label)
        self.closed_loop("ceiling", self.ceiling, ceiling)
        self.fixed_rate("ceiling", self.ceiling, ceiling)
        genuine = self.scans(self.codes)
        say(self.endpoints["genuine"].label)
        self.closed_loop("genuine", self.serve, genuine)
        self.fixed_rate("genuine", self.serve, genuine)
        say(self.endpoints["forged"].label)
        self.closed_loop("forged", self.serve, self.scans(self.forged()))
        for proc in self.procs.running:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} died:\n{proc.log_tail()}")
        self.check_scans()
        return self.report()

    def targets(self) -> list[tuple[str, str, bool]]:
        top_result = self.endpoints["ceiling"].closed
        genuine = self.endpoints["genuine"]
        top = top_result.rate if top_result else 0.0
        rate = genuine.closed.rate if genuine.closed else 0.0
        fixed = genuine.fixed
        p99 = fixed.p99_ms if fixed and fixed.p99_ms is not None else float("inf")
        all_ok = fixed is not None and fixed.ok == fixed.requests
        checks_ok = bool(self.checks) and all(ok for _, ok in self.checks)
        return [
            (f"genuine scans ≥ {TARGET_SCANS:,.0f}/s", f"{fmt_rate(rate)}/s",
             rate >= TARGET_SCANS),
            (f"genuine scans ≥ {TARGET_SHARE:.0%} of the ceiling",
             f"{rate / top if top else 0:.0%} of {fmt_rate(top)}/s",
             top > 0 and rate >= TARGET_SHARE * top),
            (f"genuine scan p99 ≤ {TARGET_P99_MS:g} ms at {self.args.rate:,.0f}/s",
             f"{p99:.1f} ms (p50 {fmt_ms(fixed.p50_ms if fixed else None)} ms)"
             + ("" if all_ok else ", not every request answered 200"),
             p99 <= TARGET_P99_MS and all_ok),
            (f"1,000,000 codes to the database and CSV ≤ {TARGET_GENERATE_SECONDS:g} s",
             f"{self.args.generate:,} in {self.generate_seconds:.1f} s"
             + ("" if self.args.generate >= 1_000_000 else " (a smoke run: not measured)"),
             self.args.generate >= 1_000_000
             and self.generate_seconds <= TARGET_GENERATE_SECONDS),
            ("answers and scan records right", "all checks pass" if checks_ok
             else "checks failed", checks_ok),
        ]

    def report(self) -> int:
        args = self.args
        targets = self.targets()
        self.say_outcome(targets)
        command = "python -m bench.trace_scan" + (
            " --database-url … --redis-url …" if self.real else "")
        forged = self.endpoints["forged"].closed
        lines = [
            "",
            f"`{command}` on {os.cpu_count()} cores ({cpu_model()}), "
            f"{time.strftime('%Y-%m-%d')}: {self.backend}, one `run.py serve` process; "
            f"{args.generate:,} codes generated, scans over the first {len(self.codes):,}; "
            f"wrk -t2 with {args.connections} connections for {args.duration:g} s (closed "
            f"loop), a Python open-loop generator at {args.rate:,.0f}/s.",
            "",
            *self.endpoint_table(),
            "",
            f"Code generation: {args.generate:,} codes stored and written to the CSV in "
            f"{self.generate_seconds:.1f} s (the whole `run.py codes generate` process).",
        ]
        if forged is not None:
            lines.append(f"Forged-code refusals: {fmt_rate(forged.answered_rate)}/s.")
        return self.finish_report(lines, targets)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = bench_parser(__doc__)
    p.add_argument("--generate", type=int, default=1_000_000,
                   help="codes generated (default 1,000,000)")
    p.add_argument("--codes", type=int, default=100_000,
                   help="codes the scans go through (default 100,000)")
    add_load_arguments(p, 2000.0, "genuine-scan")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: --generate 20000 --codes 5000 --duration 3")
    add_store_arguments(p, "postgres://postgres@127.0.0.1:5432/bench_trace and "
                           "redis://127.0.0.1:6379/10")
    args = p.parse_args(argv)
    if args.quick:
        args.generate, args.codes = min(args.generate, 20_000), min(args.codes, 5_000)
        args.duration = min(args.duration, 3.0)
    check_store_arguments(p, args)
    if min(args.generate, args.codes, args.connections) < 1 or args.duration <= 0 \
            or args.rate <= 0:
        p.error("--generate, --codes, --duration, --connections and --rate must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    if not loadgen.wrk_available():
        say("wrk not found: the closed-loop phases need it (`apt-get install wrk`)")
        return 2
    return run_bench(TraceScanBench(parse_args(argv)))


if __name__ == "__main__":
    raise SystemExit(main())
