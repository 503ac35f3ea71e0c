"""What the HTTP benchmarks share: one `run.py serve` (with `run.py sandbox`) and, in the
same run, a bare aiohttp JSON endpoint as the ceiling, measured endpoint by endpoint
with wrk (closed loop: throughput and the server's CPU time per answer) and a Python
open-loop generator (latency at a fixed rate), and the report's endpoint table.
Subclasses name their endpoints and what they check."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from bench import loadgen
from bench.cpuload import CpuShare, CpuWatch, cpu_seconds, noisy_note
from bench.loadgen import LoadResult, Request, fmt_ms, fmt_rate
from bench.open_loop import open_loop
from bench.processes import (
    PYTHON,
    Proc,
    SandboxBench,
    add_pool_size_argument,
    bench_env,
    free_port,
    print_report,
    say,
    start_profile,
    wait_http,
)

WARMUP_SECONDS = 2.0


def add_load_arguments(p: argparse.ArgumentParser, rate: float, profiled: str) -> None:
    """--duration, --connections, --rate (default `rate`), --pool-size and --profile
    (py-spy records the server during the `profiled` closed loop)."""
    p.add_argument("--duration", type=float, default=10.0,
                   help="seconds of each measured phase (default 10)")
    p.add_argument("--connections", type=int, default=64,
                   help="closed-loop connections (default 64)")
    p.add_argument("--rate", type=float, default=rate,
                   help=f"fixed arrival rate of the latency phases (default {rate:,.0f}/s)")
    add_pool_size_argument(p, "server")
    p.add_argument("--profile", action="store_true",
                   help=f"py-spy record the server during the {profiled} closed loop")


@dataclass
class Endpoint:
    """Figures of one endpoint: closed loop (throughput) and, for GETs, a fixed rate."""

    label: str
    work: str
    server: str  # the process answering it
    closed: LoadResult | None = None
    fixed: LoadResult | None = None
    cpu: list[CpuShare] = field(default_factory=list)
    # The server's CPU time per answer in the closed loop: what decides its throughput
    # once it has a core of its own, whatever else the machine runs meanwhile.
    cpu_us: float | None = None


class EndpointBench(SandboxBench):
    """`args` needs duration, connections, rate and profile. `profile_key`: the endpoint
    py-spy records with --profile."""

    profile_key = ""

    def __init__(self, args: argparse.Namespace, log_prefix: str,
                 endpoints: dict[str, Endpoint]) -> None:
        super().__init__(args, log_prefix)
        self.serve_port = free_port()
        self.ceiling_port = free_port()
        self.serve = f"http://127.0.0.1:{self.serve_port}"
        self.ceiling = f"http://127.0.0.1:{self.ceiling_port}"
        self.endpoints = endpoints
        self.checks: list[tuple[str, bool]] = []
        self.profiles: list[Path] = []

    def server_settings(self) -> dict[str, str]:
        """The settings (`SCRM__…` overrides) the benchmark's server runs with."""
        return {}

    def env(self) -> dict[str, str]:
        return bench_env(self.log_dir, self.args.database_url, self.args.redis_url,
                         self.sandbox_port, self.args.pool_size,
                         SCRM__SERVER__PORT=str(self.serve_port), **self.server_settings())

    def start(self) -> None:
        """The sandbox, `run.py serve` and the ceiling, each answering."""
        self.start_sandbox()
        serve = self.procs.start("serve", [PYTHON, "run.py", "serve"], self.env())
        wait_http(serve, f"{self.serve}/healthz", timeout=60)
        ceiling = self.procs.start("ceiling", [PYTHON, "-m", "bench.baselines", "json",
                                               str(self.ceiling_port)], self.env())
        wait_http(ceiling, f"{self.ceiling}/ping", timeout=30)

    def closed_loop(self, key: str, base: str, requests: list[Request],
                    count_statuses: bool = False, warm_up: bool = True) -> None:
        endpoint = self.endpoints[key]
        request_file = str(self.log_dir / f"requests-{key}.txt")
        loadgen.write_request_file(request_file, requests)
        args = self.args
        if warm_up:  # connections, pools and caches; not counted
            loadgen.run_wrk(base, request_file, connections=args.connections,
                            duration=WARMUP_SECONDS)
        say(f"  closed loop, wrk -t2, {args.connections} connections, {args.duration:g} s ...")
        profiling = self.start_profile(key)
        server = {endpoint.server: self.proc(endpoint.server).popen.pid}
        watch, before = CpuWatch(), cpu_seconds(server)
        endpoint.closed = r = loadgen.run_wrk(base, request_file, connections=args.connections,
                                              duration=args.duration,
                                              count_statuses=count_statuses)
        used = cpu_seconds(server)[endpoint.server] - before[endpoint.server]
        endpoint.cpu.append(watch.stop())
        endpoint.cpu_us = used / max(1, r.requests) * 1e6
        if profiling is not None:
            profiling.popen.wait(timeout=args.duration + 60)
            self.procs.stop(profiling)
        statuses = f", statuses {dict(sorted(r.statuses.items()))}" if r.statuses else ""
        say(f"    {r.answered_rate:,.0f} answers/s (p50 {fmt_ms(r.p50_ms)} ms, p99 "
            f"{fmt_ms(r.p99_ms)} ms, not 2xx or failed {r.errors}{statuses}); "
            f"{endpoint.server} used {endpoint.cpu_us:,.0f} µs CPU per answer")
        say(f"    {endpoint.cpu[-1].describe()}")

    def fixed_rate(self, key: str, base: str, requests: list[Request]) -> None:
        endpoint, rate = self.endpoints[key], self.args.rate
        count = int(rate * (self.args.duration + 1))  # +1 s of warm-up, not counted
        load = [requests[i % len(requests)] for i in range(count)]
        say(f"  fixed rate {rate:,.0f}/s (open loop), {self.args.duration:g} s ...")
        watch = CpuWatch()
        endpoint.fixed = r = asyncio.run(open_loop(base, load, rate=rate,
                                                           warmup=int(rate)))
        endpoint.cpu.append(watch.stop())
        say(f"    p50 {fmt_ms(r.p50_ms)} ms, p99 {fmt_ms(r.p99_ms)} ms "
            f"({r.ok:,}/{r.requests:,} answered 200)")
        say(f"    {endpoint.cpu[-1].describe()}")

    def proc(self, name: str) -> Proc:
        return next(p for p in self.procs.running if p.name == name)

    def start_profile(self, key: str) -> Proc | None:
        if not self.args.profile or key != self.profile_key:
            return None
        out = self.log_dir / f"profile-serve-{key}.txt"
        proc = start_profile(self.procs, self.proc("serve"), max(1, int(self.args.duration)),
                             out)
        if proc is not None:
            self.profiles.append(out)
        return proc

    def endpoint_table(self) -> list[str]:
        """The report's table: each endpoint against the ceiling."""
        rate = self.args.rate
        lines = [f"| endpoint | work per request | answers/s | vs ceiling | server CPU µs per "
                 f"answer | p50 / p99 ms (closed loop) | p50 / p99 ms at {rate:,.0f}/s |",
                 "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
        top = self.endpoints["ceiling"].closed
        for endpoint in self.endpoints.values():
            c, f = endpoint.closed, endpoint.fixed
            if c is None:
                continue
            share = f"{c.answered_rate / top.answered_rate:.0%}" if top and top.rate else "—"
            fixed = f"{fmt_ms(f.p50_ms)} / {fmt_ms(f.p99_ms)}" if f else "—"
            lines.append(f"| {endpoint.label} | {endpoint.work} | {fmt_rate(c.answered_rate)} "
                         f"| {share} | {fmt_rate(endpoint.cpu_us)} | {fmt_ms(c.p50_ms)} / "
                         f"{fmt_ms(c.p99_ms)} | {fixed} |")
        return lines

    def say_outcome(self, targets: list[tuple[str, str, bool]]) -> None:
        """The checks and the targets, one line each."""
        say("")
        say("checks:")
        for text, passed in self.checks:
            say(f"  [{'ok' if passed else 'FAIL'}] {text}")
        say("")
        say("targets:")
        for text, figure, passed in targets:
            say(f"  {'PASS' if passed else 'MISS'}  {text}: {figure}")

    def finish_report(self, lines: list[str], targets: list[tuple[str, str, bool]]) -> int:
        """Print the report (`lines`, then the targets' table); 0 when all are met."""
        lines = [*lines, "", "| target | figure | verdict |", "| --- | --- | --- |"]
        lines += [f"| {t} | {fig} | {'PASS' if ok else 'MISS'} |" for t, fig, ok in targets]
        lines += noisy_note(c for e in self.endpoints.values() for c in e.cpu)
        return print_report(lines, self.log_dir, all(ok for _, _, ok in targets))
