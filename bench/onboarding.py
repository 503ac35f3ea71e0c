"""Onboarding benchmark: how long a new contact waits for the channel's welcome message,
and whether any WelcomeCode (valid 20 s) runs out, at a sustained add rate and in a
burst, with every WeCom API call answered after 50 ms.

    .venv/bin/python -m bench.onboarding [--quick] [--rate 200] [--duration 60]
                                         [--burst 2000] [--workers 3] [--profile]

Production layout, each its own process on 127.0.0.1: `run.py sandbox` (the WeCom
sandbox, latency 0.05 s on every /cgi-bin/ API), `run.py serve` (PostgreSQL + Redis)
and --workers `run.py worker` processes (their `wecom.rate_limit_per_minute` raised to
--rate-limit: WeCom's default 10,000 calls/min per API is ≈167/s, below 200 adds/s).
Needs PostgreSQL (default postgres://postgres@127.0.0.1:5432/bench: created if missing,
its schema DROPPED and re-migrated at start) and Redis (default
redis://127.0.0.1:6379/14, FLUSHED at start). Loopback only; every loop is bounded;
every process started is stopped on exit, error or Ctrl-C.

The run:
1. An operator creates a channel through the admin API (`POST /admin/api/channels`):
   --guides guides, a tag, a welcome text with {customer_name} and {guide_name}, a link
   attachment, a remark template. A short warm-up (tokens, guide names) is not counted.
2. Steady: customers scan the channel's QR at a fixed --rate for --duration seconds,
   open loop (`POST /sandbox/qr/{config_id}/scan`, `"wait": false`). Each scan is the
   sandbox issuing a real WelcomeCode (expiring 20 s later by the sandbox clock, which
   is never advanced) and delivering a real signed, encrypted add_external_contact
   callback to `serve`.
3. Burst: --burst scans as fast as the sandbox console takes them.
For each phase: latency from callback receipt (the inbox row's `received_at`) and from
the sandbox's delivery to the sandbox's record of the welcome (`GET
/sandbox/welcome_messages` `at`), p50/p99/max; adds/s achieved; welcome outcomes
(welcome_message.status); expired codes (41050 answers, and codes never used); the time
the rest of onboarding (store, attribute, tag, remark; event `done`) took to drain; and
the guarantees: one welcome and one attribution per add, every event done once.
Targets: welcome p99 < 2 s, zero expired codes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import loadgen
from bench.cpuload import CpuShare, CpuWatch, cpu_seconds, noisy_note
from bench.open_loop import open_loop
from bench.processes import (
    PYTHON,
    Proc,
    Processes,
    Stores,
    add_pool_size_argument,
    bench_parser,
    cpu_model,
    free_port,
    http_json,
    migrate,
    print_report,
    run_bench,
    say,
    start_profile,
    wait_http,
    with_pool_size,
)

ADMIN_TOKEN = "bench-token-0123456789"
SEND = "externalcontact/send_welcome_msg"
LINK = {"msgtype": "link", "link": {"title": "会员中心", "url": "https://example.com/member",
                                    "desc": "领取新人礼"}}
WELCOME_TEXT = "你好，{customer_name}！我是{guide_name}，欢迎来到安心会员。"
API_LATENCY = 0.05
CODE_LIFETIME = 20.0
WECOM_DEFAULT_LIMIT = 10_000
TARGET_P99 = 2.0
_EXT = re.compile(r"<ExternalUserID><!\[CDATA\[(.*?)\]\]></ExternalUserID>")


def pct(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


def fmt_s(value: float | None) -> str:
    return "—" if value is None else (f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s")


@dataclass
class Phase:
    name: str
    adds: int
    prefix: str
    rate: float | None = None  # None: as fast as the console takes them
    scans: loadgen.LoadResult | None = None
    started: float = 0.0  # epoch
    sent_last: float = 0.0  # epoch, last scan answered
    cpu: CpuShare | None = None
    per_process: dict[str, float] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    checks: list[tuple[str, bool]] = field(default_factory=list)

    def ext(self, i: int) -> str:
        return f"wm{self.prefix}{i:08d}"

    def name_of(self, i: int) -> str:
        return f"客户{self.prefix}{i}"

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(passed for _, passed in self.checks)

    @property
    def p99(self) -> float | None:
        return self.figures.get("p99")

    @property
    def expired(self) -> int | None:
        return self.figures.get("expired")

    @property
    def meets_targets(self) -> bool:
        return (self.p99 is not None and self.p99 < TARGET_P99 and self.expired == 0
                and self.figures.get("missing", 1) == 0)


class OnboardingBench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.log_dir = Path(tempfile.mkdtemp(prefix="scrm-onboarding-"))
        self.procs = Processes(self.log_dir)
        self.stores = Stores(args.database_url, args.redis_url)
        self.sandbox_port = free_port()
        self.serve_port = free_port()
        self.sandbox = f"http://127.0.0.1:{self.sandbox_port}"
        self.serve = f"http://127.0.0.1:{self.serve_port}"
        self.guides = [f"guide{n:03d}" for n in range(args.guides)]
        self.channel: dict[str, Any] = {}
        self.phases: list[Phase] = []
        self.profiles: list[tuple[Proc, Path]] = []

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "SCRM__DATABASE__URL": with_pool_size(self.args.database_url, self.args.pool_size),
            "SCRM__REDIS__URL": self.args.redis_url,
            "SCRM__SANDBOX__ENABLED": "false",
            "SCRM__SANDBOX__PORT": str(self.sandbox_port),
            "SCRM__SERVER__PORT": str(self.serve_port),
            "SCRM__WECOM__API_BASE": self.sandbox,
            "SCRM__ADMIN__TOKENS": ADMIN_TOKEN,
            "PYTHONUNBUFFERED": "1",
        })
        env.update(extra)
        return env

    # ---- setup
    def start(self) -> None:
        args = self.args
        asyncio.run(self.stores.recreate())
        asyncio.run(self.stores.flush_redis())
        migrate(self.env())
        sandbox = self.procs.start("sandbox", [PYTHON, "run.py", "sandbox"], self.env())
        wait_http(sandbox, f"{self.sandbox}/sandbox/state", timeout=30)
        for userid in self.guides:
            http_json("POST", f"{self.sandbox}/sandbox/staff",
                      {"userid": userid, "name": f"导购{userid[-3:]}"})
        plan = http_json("POST", f"{self.sandbox}/sandbox/latency",
                         {"api": "*", "seconds": API_LATENCY})
        say(f"sandbox: {len(self.guides)} guides, latency {plan['latency']} s on every API")
        limits = {"SCRM__WECOM__RATE_LIMIT_PER_MINUTE": str(args.rate_limit)}
        if args.concurrency:
            limits["SCRM__QUEUE__CONCURRENCY"] = str(args.concurrency)
        workers = [self.procs.start(f"worker{n}", [PYTHON, "run.py", "worker"],
                                    self.env(**limits)) for n in range(args.workers)]
        serve = self.procs.start("serve", [PYTHON, "run.py", "serve"], self.env())
        wait_http(serve, f"{self.serve}/healthz", timeout=60)
        time.sleep(1.0)  # workers: consumer groups joined
        for worker in workers:
            if not worker.alive():
                raise RuntimeError(f"{worker.name} exited:\n{worker.log_tail()}")
        say(f"serve + {args.workers} worker process(es) (queue.concurrency "
            f"{args.concurrency or 'default'} per lane); workers' wecom.rate_limit_per_minute "
            f"= {args.rate_limit:,}")
        self.channel = self.create_channel()
        say(f"channel {self.channel['id']} state={self.channel['state']} "
            f"config_id={self.channel['config_id']} tags={[t['id'] for t in self.channel['tags']]}")

    def create_channel(self) -> dict[str, Any]:
        body = {
            "name": "门店A", "kind": "store", "guides": self.guides,
            "tags": [{"group": "渠道", "name": "门店A"}], "create_missing_tags": True,
            "welcome": {"text": WELCOME_TEXT, "attachments": [LINK]},
            "remark_template": "{channel_name}-{customer_name}", "skip_verify": True,
        }
        return dict(http_json("POST", f"{self.serve}/admin/api/channels", body, timeout=60,
                              headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}))

    # ---- driving scans
    def scan_requests(self, phase: Phase) -> list[loadgen.Request]:
        path = f"/sandbox/qr/{self.channel['config_id']}/scan"
        return [loadgen.Request(path, json.dumps({"name": phase.name_of(i),
                                                  "external_userid": phase.ext(i),
                                                  "wait": False}).encode(),
                                headers=loadgen.JSON)
                for i in range(phase.adds)]

    def run_phase(self, phase: Phase, expected_total: int) -> None:
        requests = self.scan_requests(phase)
        how = (f"{phase.rate:,.0f}/s open loop" if phase.rate else
               f"as fast as the console answers ({self.args.connections} connections)")
        say(f"{phase.name}: {phase.adds:,} scans, {how} ...")
        profiling = (self.start_profiles(phase)
                     if self.args.profile and phase.prefix != "W" else [])
        pids = {p.name: p.popen.pid for p in self.procs.running
                if not p.name.startswith("py-spy")}
        before = cpu_seconds(pids)
        watch = CpuWatch()
        phase.started = time.time()
        if phase.rate:
            phase.scans = asyncio.run(open_loop(self.sandbox, requests, rate=phase.rate))
        else:
            phase.scans = asyncio.run(loadgen.send_all(self.sandbox, requests,
                                                       connections=self.args.connections))
        phase.sent_last = time.time()
        s = phase.scans
        say(f"  scans answered: {s.ok:,}/{s.requests:,} in {s.seconds:.1f} s = {s.rate:,.0f}/s"
            + (f" (console p50 {s.p50_ms:.1f} ms, p99 {s.p99_ms:.1f} ms from schedule)"
               if s.p50_ms is not None else "") + f"; statuses {dict(s.statuses)}")
        self.wait_done(expected_total, phase)
        phase.cpu = watch.stop()
        after = cpu_seconds(pids)
        phase.per_process = {name: (after[name] - before[name]) / phase.cpu.seconds
                             for name in after if name in before}
        say(f"  {phase.cpu.describe()}; cores per process: "
            + ", ".join(f"{k} {v:.2f}" for k, v in phase.per_process.items()))
        for proc, _ in profiling:
            proc.popen.wait(timeout=self.args.duration + 60)
            self.procs.stop(proc)
        self.collect(phase)

    def wait_done(self, expected: int, phase: Phase) -> None:
        """Until every callback so far is stored and finished (bounded)."""
        deadline = time.monotonic() + self.args.drain_timeout
        last_print = time.monotonic()
        row: dict[str, Any] = {}
        while time.monotonic() < deadline:
            [row] = asyncio.run(self.stores.fetch(
                "SELECT count(*) AS rows, count(*) FILTER (WHERE status IN "
                "('done', 'failed', 'ignored')) AS finished FROM inbox_event"))
            if row["rows"] >= expected and row["finished"] >= row["rows"]:
                return
            if time.monotonic() - last_print > 10:
                say(f"  ... {row['finished']:,}/{expected:,} events finished, "
                    f"{time.time() - phase.sent_last:.0f} s after the last scan")
                last_print = time.monotonic()
            time.sleep(0.2)
        say(f"  ! not finished {self.args.drain_timeout:.0f} s after the last scan: {row}")

    # ---- profiling (py-spy from PyPI: pip install py-spy)
    def start_profiles(self, phase: Phase) -> list[tuple[Proc, Path]]:
        started = []
        # The steady phase while it runs; the burst for its first seconds (the welcomes).
        seconds = max(1, int(phase.adds / phase.rate * 0.8) if phase.rate else 4)
        for proc in list(self.procs.running):
            if proc.name.startswith("py-spy"):
                continue
            out = self.log_dir / f"profile-{phase.prefix}-{proc.name}.txt"
            spy_proc = start_profile(self.procs, proc, seconds, out)
            if spy_proc is None:
                return []
            started.append((spy_proc, out))
        self.profiles += started
        return started

    # ---- figures
    def collect(self, phase: Phase) -> None:
        exts = {phase.ext(i): i for i in range(phase.adds)}
        deliveries = http_json("GET", f"{self.sandbox}/sandbox/deliveries",
                               timeout=120)["deliveries"]
        delivered_at: dict[str, float] = {}
        ack_ms: list[float] = []
        outcomes: Counter[str] = Counter()
        redelivered = 0
        for d in deliveries:
            m = _EXT.search(d["xml"])
            if m is None or m.group(1) not in exts or "add_external_contact" not in d["xml"]:
                continue
            outcomes[d["outcome"]] += 1
            redelivered += max(0, len(d["attempts"]) - 1)
            if d["attempts"]:
                delivered_at.setdefault(m.group(1), d["attempts"][0]["at"])
                ack_ms.append(d["attempts"][0]["latency_ms"])
        sent = http_json("GET", f"{self.sandbox}/sandbox/welcome_messages",
                         timeout=120)["welcome_messages"]
        welcomed: dict[str, float] = {}
        per_ext: Counter[str] = Counter()
        bad_text = 0
        for w in sent:
            ext = w["external_userid"]
            if ext not in exts:
                continue
            per_ext[ext] += 1
            welcomed.setdefault(ext, w["at"])
            name = phase.name_of(exts[ext])
            if not (w["text"] or "").startswith(f"你好，{name}！") or w["attachments"] != [LINK]:
                bad_text += 1
        calls = http_json("GET", f"{self.sandbox}/sandbox/calls?api={SEND}",
                          timeout=120)["calls"]
        window = [c for c in calls if phase.started - 1 <= c["at"]]
        send_errors = Counter(c["errcode"] for c in window if c["errcode"] != 0)

        inbox = asyncio.run(self.stores.fetch(
            "SELECT payload, extract(epoch FROM received_at)::float8 AS received,"
            " extract(epoch FROM processed_at)::float8 AS processed, status, attempts"
            " FROM inbox_event WHERE change_type = 'add_external_contact'"))
        received: dict[str, float] = {}
        processed: dict[str, float] = {}
        inbox_rows: Counter[str] = Counter()
        statuses: Counter[str] = Counter()
        attempts_not_1 = 0
        for row in inbox:
            m = _EXT.search(row["payload"])
            if m is None or m.group(1) not in exts:
                continue
            ext = m.group(1)
            inbox_rows[ext] += 1
            received[ext] = row["received"]
            if row["processed"] is not None:
                processed[ext] = row["processed"]
            statuses[row["status"]] += 1
            attempts_not_1 += row["attempts"] != 1
        ext_list = list(exts)
        outcome_rows = asyncio.run(self.stores.fetch(
            "SELECT status, errcode, count(*) AS n FROM welcome_message"
            " WHERE external_userid = ANY($1::text[]) GROUP BY status, errcode", ext_list))
        by_status: Counter[str] = Counter()
        expired_41050 = 0
        for r in outcome_rows:
            by_status[r["status"]] += r["n"]
            if r["errcode"] == 41050:
                expired_41050 += r["n"]
        [attr] = asyncio.run(self.stores.fetch(
            "SELECT count(*) AS rows, count(DISTINCT external_userid) AS adds FROM attribution"
            " WHERE external_userid = ANY($1::text[])", ext_list))
        [onboarded] = asyncio.run(self.stores.fetch(
            "SELECT count(*) FILTER (WHERE f.tag_ids::text <> '[]' AND f.remark <> '') AS full,"
            " count(*) AS rows FROM follow_relation f JOIN customer c ON c.id = f.customer_id"
            " WHERE c.external_userid = ANY($1::text[])", ext_list))

        lat_receipt = [welcomed[e] - received[e] for e in welcomed if e in received]
        lat_scan = [welcomed[e] - delivered_at[e] for e in welcomed if e in delivered_at]
        lat_done = [processed[e] - received[e] for e in processed if e in received]
        n = phase.adds
        missing = n - len(welcomed)
        # Expired: a code never used for a welcome (41050 answers among them), or used
        # past its 20 s (the sandbox refuses that; counted in case).
        late = sum(1 for e in welcomed if e in delivered_at
                   and welcomed[e] - delivered_at[e] >= CODE_LIFETIME)
        expired = missing + late
        s = phase.scans
        last_welcome = max(welcomed.values(), default=None)
        last_done = max(processed.values(), default=None)
        phase.figures = {
            "adds": n,
            "scans_ok": s.ok if s else 0,
            "scan_rate": s.rate if s else 0.0,
            "scan_seconds": s.seconds if s else 0.0,
            "p50": pct(lat_receipt, 50), "p99": pct(lat_receipt, 99),
            "max": max(lat_receipt, default=None),
            "scan_p50": pct(lat_scan, 50), "scan_p99": pct(lat_scan, 99),
            "done_p50": pct(lat_done, 50), "done_p99": pct(lat_done, 99),
            "welcomed": len(welcomed), "missing": missing, "expired": expired,
            "expired_41050": expired_41050, "send_errors": dict(send_errors),
            "by_status": dict(by_status), "inbox_status": dict(statuses),
            "deliveries": dict(outcomes), "redelivered": redelivered,
            "ack_p99_ms": pct(ack_ms, 99),
            "welcome_drain": None if last_welcome is None else last_welcome - phase.sent_last,
            "done_drain": None if last_done is None else last_done - phase.sent_last,
            "welcome_rate": (len(welcomed) / (last_welcome - phase.started)
                             if last_welcome and last_welcome > phase.started else None),
        }
        phase.checks = [
            (f"every scan answered 200 ({s.ok if s else 0:,}/{n:,})",
             s is not None and s.ok == n),
            (f"every callback delivered, none re-delivered ({dict(outcomes)}, "
             f"{redelivered} re-deliveries)", outcomes.get("delivered", 0) == n
             and redelivered == 0),
            (f"one inbox row per add ({sum(inbox_rows.values()):,}, "
             f"{sum(1 for v in inbox_rows.values() if v > 1)} with more)",
             len(inbox_rows) == n and all(v == 1 for v in inbox_rows.values())),
            (f"every event done, once ({dict(statuses)}, {attempts_not_1} with attempts != 1)",
             statuses.get("done", 0) == n and attempts_not_1 == 0),
            (f"one welcome per add, none twice ({len(welcomed):,} welcomed, "
             f"{sum(1 for v in per_ext.values() if v > 1)} twice)",
             len(welcomed) == n and all(v == 1 for v in per_ext.values())),
            (f"welcome text and link as configured ({bad_text} wrong)", bad_text == 0),
            (f"one attribution per add ({attr['rows']:,} rows, {attr['adds']:,} adds)",
             attr["rows"] == n and attr["adds"] == n),
            (f"tagged and remarked ({onboarded['full']:,}/{n:,})", onboarded["full"] == n),
        ]
        f = phase.figures
        say(f"  welcome latency from receipt: p50 {fmt_s(f['p50'])}, p99 {fmt_s(f['p99'])}, "
            f"max {fmt_s(f['max'])}; from the sandbox's delivery: p50 {fmt_s(f['scan_p50'])}, "
            f"p99 {fmt_s(f['scan_p99'])}")
        say(f"  welcome outcomes {dict(by_status)}; expired codes {expired} (41050 answers "
            f"{expired_41050}, never welcomed {missing}); send_welcome_msg errors "
            f"{dict(send_errors) or 'none'}")
        say(f"  callbacks acknowledged by serve: p99 {f['ack_p99_ms'] or 0:.1f} ms; welcomes "
            f"{f['welcome_rate'] or 0:,.0f}/s from the first scan to the last welcome")
        say(f"  last welcome {fmt_s(f['welcome_drain'])} and onboarding backlog drained "
            f"(all events done) {fmt_s(f['done_drain'])} after the last scan; receipt → done "
            f"p50 {fmt_s(f['done_p50'])}, p99 {fmt_s(f['done_p99'])}")
        for text, passed in phase.checks:
            say(f"  [{'ok' if passed else 'FAIL'}] {text}")

    # ---- the whole run
    def run(self) -> int:
        args = self.args
        say(f"logs: {self.log_dir}")
        say(f"note: WeCom's default quota, {WECOM_DEFAULT_LIMIT:,} calls/min per API "
            f"(≈{WECOM_DEFAULT_LIMIT / 60:.0f}/s), is below {args.rate:,.0f} adds/s: the workers' "
            f"wecom.rate_limit_per_minute is raised to {args.rate_limit:,} for this run "
            "(a real corp at this rate needs a raised quota).")
        self.start()
        warm = Phase("warm-up (not counted)", 2 * len(self.guides), "W", rate=20.0)
        steady = Phase(f"steady {args.rate:,.0f} adds/s for {args.duration:g} s",
                       int(args.rate * args.duration), "S", rate=args.rate)
        burst = Phase(f"burst of {args.burst:,}", args.burst, "B")
        total = 0
        for phase in (warm, steady, burst):
            if phase.adds <= 0:
                continue
            total += phase.adds
            self.run_phase(phase, total)
            if phase is not warm:
                self.phases.append(phase)
        for name in ("serve", "worker0", "sandbox"):
            for proc in self.procs.running:
                if proc.name == name and not proc.alive():
                    raise RuntimeError(f"{name} died:\n{proc.log_tail()}")
        if self.profiles:
            say("profiles (py-spy raw collapsed stacks): "
                + ", ".join(str(out) for _, out in self.profiles))
        return self.report()

    def report(self) -> int:
        args = self.args
        say("")
        say("targets:")
        for phase in self.phases:
            say(f"  {'PASS' if (phase.p99 or 99) < TARGET_P99 else 'MISS'}  {phase.name}: "
                f"welcome p99 < {TARGET_P99:g} s from receipt: {fmt_s(phase.p99)}")
            say(f"  {'PASS' if phase.expired == 0 else 'MISS'}  {phase.name}: zero expired "
                f"codes: {phase.expired}")
            say(f"  {'PASS' if phase.ok else 'MISS'}  {phase.name}: guarantees (one welcome, "
                "one attribution, every event done once, tagged and remarked)")
        command = "python -m bench.onboarding" + (" --quick" if args.quick else "")
        for flag, value, default in (("--rate", args.rate, 200.0),
                                     ("--duration", args.duration, 60.0),
                                     ("--burst", args.burst, 2000),
                                     ("--workers", args.workers, 3)):
            if value != default and not args.quick:
                command += f" {flag} {value:g}"
        lines = [
            "",
            f"`{command}` on {os.cpu_count()} cores ({cpu_model()}), "
            f"{time.strftime('%Y-%m-%d')}: `run.py sandbox`, `run.py serve` (PostgreSQL + "
            f"Redis) and {args.workers} `run.py worker` processes on one machine with the load "
            f"driver; every WeCom API call answered after {API_LATENCY * 1000:.0f} ms; each add "
            "a customer scanning the channel's QR in the sandbox (a real WelcomeCode and a "
            "signed, encrypted callback); workers' `wecom.rate_limit_per_minute` raised to "
            f"{args.rate_limit:,} (WeCom's default 10,000/min per API is ≈167 adds/s).",
            "",
            "| phase | adds | adds/s | welcome p50 / p99 / max (from receipt) | "
            "from scan p99 | outcomes | expired codes | onboarding drained | verdict |",
            "| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- |",
        ]
        for phase in self.phases:
            f = phase.figures
            outcomes = ", ".join(f"{k} {v:,}" for k, v in sorted(f["by_status"].items()))
            verdict = "PASS" if phase.meets_targets and phase.ok else "MISS"
            lines.append(
                f"| {phase.name} | {f['adds']:,} | {f['scan_rate']:,.0f} | "
                f"{fmt_s(f['p50'])} / {fmt_s(f['p99'])} / {fmt_s(f['max'])} | "
                f"{fmt_s(f['scan_p99'])} | {outcomes or '—'} | {f['expired']} | "
                f"{fmt_s(f['done_drain'])} after the last add | {verdict} |")
        lines += noisy_note(p.cpu for p in self.phases)
        ok = all(p.meets_targets and p.ok for p in self.phases) and bool(self.phases)
        return print_report(lines, self.log_dir, ok)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = bench_parser(__doc__)
    p.add_argument("--rate", type=float, default=200.0, help="steady adds/s (default 200)")
    p.add_argument("--duration", type=float, default=60.0,
                   help="seconds of the steady phase (default 60)")
    p.add_argument("--burst", type=int, default=2000, help="adds in the burst (default 2000)")
    p.add_argument("--workers", type=int, default=3,
                   help="run.py worker processes (default 3: on 2 cores each worker's event "
                        "loop is a serial bottleneck in a burst; 3 measured best of 1-4)")
    p.add_argument("--quick", action="store_true", help="smoke run: --duration 10 --burst 500")
    p.add_argument("--guides", type=int, default=20, help="guides of the channel (default 20)")
    p.add_argument("--connections", type=int, default=32,
                   help="concurrent console requests in the burst (default 32)")
    p.add_argument("--concurrency", type=int, default=0,
                   help="workers' queue.concurrency per lane (default: settings)")
    add_pool_size_argument(p, "serve/worker")
    p.add_argument("--rate-limit", type=int, default=1_000_000,
                   help="workers' wecom.rate_limit_per_minute (default 1000000)")
    p.add_argument("--drain-timeout", type=float, default=180.0,
                   help="give up waiting for onboarding to finish after this (s)")
    p.add_argument("--profile", action="store_true",
                   help="py-spy record every process during the steady phase")
    p.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/bench",
                   help="PostgreSQL database of the benchmark (its schema is dropped!)")
    p.add_argument("--redis-url", default="redis://127.0.0.1:6379/14",
                   help="Redis db of the benchmark (flushed!)")
    args = p.parse_args(argv)
    if args.quick:
        args.duration = min(args.duration, 10.0)
        args.burst = min(args.burst, 500)
    if args.rate <= 0 or args.duration <= 0 or args.burst < 0 or args.workers < 1 \
            or not 1 <= args.guides <= 100:
        p.error("--rate > 0, --duration > 0, --burst >= 0, --workers >= 1, 1 <= --guides <= 100")
    return args


def main(argv: list[str] | None = None) -> int:
    return run_bench(OnboardingBench(parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
