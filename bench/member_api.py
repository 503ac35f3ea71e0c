"""Member API benchmark: how fast one `run.py serve` process answers a member's
`GET /miniapp/api/me` and `POST /miniapp/api/checkin`, against a bare aiohttp JSON
endpoint in the same run as the ceiling, and whether check-ins stay exact under load.

    apt-get install wrk                      # required: the closed-loop phases use it
    .venv/bin/python -m bench.member_api [--quick] [--members 1000] [--duration 10]
        [--connections 64] [--rate 1000] [--profile]
        [--database-url postgres://…/bench_members --redis-url redis://…/12]

Embedded default (no URLs; or SCRM_BENCH_DATABASE_URL / SCRM_BENCH_REDIS_URL unset):
SQLite in a temporary folder and an in-process Redis stand-in, for a smoke run. With
the URLs (the issue's setting): that PostgreSQL database (created if missing, its
schema DROPPED and re-migrated) and that Redis db (FLUSHED). Each its own process on
127.0.0.1: `run.py sandbox` (WeChat's mini-program APIs), `run.py serve` (one process,
its `members.login_per_minute` raised: every login comes from 127.0.0.1) and the
ceiling (`python -m bench.baselines json`). Every process started is stopped on exit,
error or Ctrl-C.

The run:
1. --members WeChat users are made in the sandbox console (`POST
   /sandbox/miniapp/users`, `POST /sandbox/miniapp/login-code`), and each logs in
   through `POST /miniapp/api/login {code}`: one session token per member.
2. Ceiling: the bare JSON endpoint, closed loop (wrk, --connections, --duration
   seconds, after a short warm-up) and open loop at a fixed --rate (latency measured
   from each request's scheduled send time; the first second not counted).
3. `POST /miniapp/api/checkin`, closed loop, each request with the next member's
   token: each member's first check-in of the day awards points, every later one
   answers 409.
4. `GET /miniapp/api/me` like the ceiling (every member now has points in the ledger).
5. The ledger: exactly one check-in row and one check-in ledger entry per member, and
   every member's `points` equal to the sum of their ledger entries (a run across
   midnight in Asia/Shanghai would see two days' check-ins).
Besides answers/s, each closed loop reports the server's CPU time per answer, which
decides its throughput once it has a core to itself (on a shared 2-core machine the
load generator, PostgreSQL and any neighbour take their share).
Targets (the issue's): `GET /me` ≥ 40 % of the ceiling's requests/s, and its p99 ≤ 25 ms
at 1,000 requests/s; check-ins exact.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import time
from typing import Any

import aiohttp

from bench import loadgen
from bench.endpoint_bench import Endpoint, EndpointBench, add_load_arguments
from bench.loadgen import Request, fmt_ms, fmt_rate
from bench.miniapp_members import log_in_members
from bench.processes import (
    add_store_arguments,
    bench_parser,
    check_store_arguments,
    cpu_model,
    db_counts,
    run_bench,
    say,
)

ME = "/miniapp/api/me"
CHECKIN = "/miniapp/api/checkin"
TARGET_SHARE = 0.40
TARGET_P99_MS = 25.0
WARMUP_SECONDS = 2.0


class MemberApiBench(EndpointBench):
    profile_key = "me"

    def __init__(self, args: argparse.Namespace) -> None:
        super().__init__(args, "scrm-member-api-", {
            "ceiling": Endpoint("bare aiohttp JSON (ceiling)",
                                "a fixed member profile as JSON, no auth, no I/O", "ceiling"),
            "me": Endpoint(f"`GET {ME}`",
                           "cached answer (a miss: session, member, points expiring "
                           "soon, JSON)",
                           "serve"),
            "checkin": Endpoint(f"`POST {CHECKIN}`",
                                "session lookup; first of the day: ledger award, else 409",
                                "serve"),
        })
        self.tokens: list[str] = []
        self.login_seconds = 0.0

    def server_settings(self) -> dict[str, str]:
        return {"SCRM__MEMBERS__LOGIN_PER_MINUTE": str(10 * self.args.members + 100)}

    def check_answers(self) -> None:
        """The measured routes do their work: a member's own profile for a good token,
        401 for a forged one."""
        me = self.call("GET", ME, self.tokens[0])
        self.checks.append((f"GET /me answers the member's profile ({sorted(me)[:6]}…)",
                            isinstance(me, dict) and "id" in me and "points" in me))
        forged = self.call("GET", ME, secrets.token_urlsafe(32))
        self.checks.append((f"a forged token gets 401 ({forged})", forged == 401))

    def call(self, method: str, path: str, token: str) -> Any:
        async def go() -> Any:
            async with aiohttp.ClientSession() as http, http.request(
                    method, self.serve + path,
                    headers={"Authorization": f"Bearer {token}"}) as response:
                return await response.json() if response.status == 200 else response.status
        return asyncio.run(go())

    # ---- load
    def requests(self, method: str, path: str) -> list[Request]:
        headers = [{"Authorization": f"Bearer {t}", **loadgen.JSON} for t in self.tokens]
        body = b"{}" if method == "POST" else b""
        return [Request(path, body, method, h) for h in headers]

    # ---- the ledger after the check-ins
    async def ledger_figures(self) -> dict[str, int]:
        queries = {
            "members": "SELECT count(*) AS n FROM member",
            "checkin_rows": "SELECT count(*) AS n FROM check_in",
            "checkin_members": "SELECT count(DISTINCT member_id) AS n FROM check_in",
            "checkin_entries": "SELECT count(*) AS n FROM points_entry"
                               " WHERE key LIKE 'checkin:%'",
            "points_mismatch": "SELECT count(*) AS n FROM member m WHERE m.points <>"
                               " (SELECT coalesce(sum(e.delta), 0) FROM points_entry e"
                               " WHERE e.member_id = m.id)",
            "negative": "SELECT count(*) AS n FROM member WHERE points < 0",
            "with_points": "SELECT count(*) AS n FROM member WHERE points > 0",
        }
        return await db_counts(self.env()["SCRM__DATABASE__URL"], queries)

    def check_ledger(self) -> None:
        n = self.args.members
        closed = self.endpoints["checkin"].closed
        s = closed.statuses if closed is not None else {}
        f = asyncio.run(self.ledger_figures())
        awarded, refused = s.get(200, 0), s.get(409, 0)
        others = {k: v for k, v in s.items() if k not in (200, 409)}
        self.checks += [
            (f"members == logins ({f['members']:,} == {n:,})", f["members"] == n),
            (f"one award per member: {awarded:,} answered 200, {refused:,} answered 409, "
             f"others {others or 'none'}", awarded == n and not others and refused > 0),
            (f"one check-in row per member ({f['checkin_rows']:,} rows, "
             f"{f['checkin_members']:,} members)",
             f["checkin_rows"] == n and f["checkin_members"] == n),
            (f"one check-in ledger entry per member ({f['checkin_entries']:,})",
             f["checkin_entries"] == n),
            (f"Member.points == sum of ledger for every member ({f['points_mismatch']} "
             f"differ, {f['negative']} negative, {f['with_points']:,} with points)",
             f["points_mismatch"] == 0 and f["negative"] == 0 and f["with_points"] == n),
        ]

    # ---- the whole run
    def run(self) -> int:
        args = self.args
        say(f"logs: {self.log_dir}")
        say(f"backend: {self.backend}; {args.members:,} members")
        self.start()
        started = time.perf_counter()
        self.tokens = asyncio.run(log_in_members(self.sandbox, self.serve, args.members,
                                                 args.login_concurrency))
        self.login_seconds = time.perf_counter() - started
        say(f"{len(self.tokens):,} members logged in in {self.login_seconds:.1f} s "
            f"({len(self.tokens) / self.login_seconds:,.0f} logins/s, "
            f"{args.login_concurrency} at a time)")
        self.check_answers()
        ceiling = self.ceiling
        me = self.requests("GET", ME)
        say(self.endpoints["ceiling"].label)
        self.closed_loop("ceiling", ceiling, me)
        self.fixed_rate("ceiling", ceiling, me)
        # Check-ins first, so that GET /me finds every member with points in the ledger.
        say(self.endpoints["checkin"].label)
        # No warm-up: the first pass over the members is the awards.
        self.closed_loop("checkin", self.serve, self.requests("POST", CHECKIN),
                         count_statuses=True, warm_up=False)
        say(self.endpoints["me"].label)
        self.closed_loop("me", self.serve, me)
        self.fixed_rate("me", self.serve, me)
        for proc in self.procs.running:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} died:\n{proc.log_tail()}")
        self.check_ledger()
        if self.profiles:
            say("profile of serve under GET /me (py-spy raw collapsed stacks): "
                + ", ".join(map(str, self.profiles)))
        return self.report()

    def targets(self) -> list[tuple[str, str, bool]]:
        ceiling, me = self.endpoints["ceiling"], self.endpoints["me"]
        top = ceiling.closed.rate if ceiling.closed else 0.0
        rate = me.closed.rate if me.closed else 0.0
        p99 = me.fixed.p99_ms if me.fixed and me.fixed.p99_ms is not None else float("inf")
        all_ok = me.fixed is not None and me.fixed.ok == me.fixed.requests
        checks_ok = bool(self.checks) and all(ok for _, ok in self.checks)
        by_cpu = (f" (by server CPU per answer: {ceiling.cpu_us / me.cpu_us:.0%})"
                  if ceiling.cpu_us and me.cpu_us else "")
        return [
            (f"GET /me ≥ {TARGET_SHARE:.0%} of the ceiling's requests/s",
             f"{fmt_rate(rate)}/s = {rate / top if top else 0:.0%} of {fmt_rate(top)}/s"
             + by_cpu, top > 0 and rate >= TARGET_SHARE * top),
            (f"GET /me p99 ≤ {TARGET_P99_MS:g} ms at {self.args.rate:,.0f} requests/s",
             f"{p99:.1f} ms (p50 {fmt_ms(me.fixed.p50_ms if me.fixed else None)} ms)"
             + ("" if all_ok else ", not every request answered 200"),
             p99 <= TARGET_P99_MS and all_ok),
            ("check-ins exact: one award per member, ledger == balance",
             "all checks pass" if checks_ok else "checks failed", checks_ok),
        ]

    def report(self) -> int:
        args = self.args
        targets = self.targets()
        self.say_outcome(targets)
        command = "python -m bench.member_api" + (" --quick" if args.quick else "")
        if self.real:
            command += f" --database-url …/{self.stores.db_name if self.stores else ''} " \
                       "--redis-url …"
        lines = [
            "",
            f"`{command}` on {os.cpu_count()} cores ({cpu_model()}), "
            f"{time.strftime('%Y-%m-%d')}: {self.backend}, one `run.py serve` process, "
            f"{args.members:,} members logged in; wrk -t2 with {args.connections} connections "
            f"for {args.duration:g} s (closed loop), a Python open-loop generator at "
            f"{args.rate:,.0f}/s; all on one machine, each request with the next member's "
            "token.",
            "",
            *self.endpoint_table(),
        ]
        checkin = self.endpoints["checkin"].closed
        if checkin is not None:
            lines += ["", f"Check-ins: {checkin.statuses.get(200, 0):,} awards (200) and "
                          f"{checkin.statuses.get(409, 0):,} refusals (409, already checked in "
                          "today) in one closed-loop run."]
        return self.finish_report(lines, targets)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = bench_parser(__doc__)
    p.add_argument("--members", type=int, default=1000, help="members (default 1000)")
    p.add_argument("--login-concurrency", type=int, default=16,
                   help="logins at once while setting up (default 16)")
    add_load_arguments(p, 1000.0, "GET /me")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: --members 200 --duration 3")
    add_store_arguments(p, "postgres://postgres@127.0.0.1:5432/bench_members and "
                           "redis://127.0.0.1:6379/12")
    args = p.parse_args(argv)
    if args.quick:
        args.members = min(args.members, 200)
        args.duration = min(args.duration, 3.0)
    check_store_arguments(p, args)
    if args.members < 1 or args.duration <= 0 or args.connections < 1 or args.rate <= 0 \
            or args.login_concurrency < 1:
        p.error("--members, --duration, --connections, --rate and --login-concurrency must "
                "be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not loadgen.wrk_available():
        say("wrk not found: the closed-loop phases need it (`apt-get install wrk`, Debian "
            "package `wrk`)")
        return 2
    return run_bench(MemberApiBench(args))


if __name__ == "__main__":
    sys.exit(main())
