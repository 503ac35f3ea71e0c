"""Process and store plumbing shared by the benchmarks (bench/callback_ingest.py,
bench/onboarding.py, bench/sop_fanout.py, bench/member_api.py): starting and stopping
`run.py` processes, waiting for them to answer, profiling them, and the benchmark's own
PostgreSQL database and Redis db (or the embedded default in a folder of its own).

Every process runs in its own session (a Ctrl-C in the terminal reaches only the
benchmark, which then stops them in order); `Processes.stop_all` is called from the
benchmarks' `finally`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def say(message: str) -> None:
    print(message, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_json(method: str, url: str, body: Any = None, timeout: float = 30.0,
              headers: dict[str, str] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json",
                                              **(headers or {})})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# --- processes -------------------------------------------------------------------------

@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Processes:
    """Every process the benchmark starts, each in its own session (so a Ctrl-C in the
    terminal reaches only the benchmark, which then stops them in order)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.running: list[Proc] = []

    def start(self, name: str, cmd: list[str], env: dict[str, str]) -> Proc:
        log_path = self.log_dir / f"{name}.log"
        with open(log_path, "ab") as log:
            popen = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        proc = Proc(name, popen, log_path)
        self.running.append(proc)
        return proc

    def stop(self, proc: Proc, timeout: float = 10.0) -> None:
        """SIGINT (graceful for aiohttp, the worker and gunicorn), then SIGTERM, then
        SIGKILL, each after a wait."""
        for sig, wait in ((signal.SIGINT, timeout), (signal.SIGTERM, 5.0),
                          (signal.SIGKILL, 5.0)):
            if not proc.alive():
                break
            try:
                proc.popen.send_signal(sig)
                proc.popen.wait(wait)
            except subprocess.TimeoutExpired:
                say(f"  ! {proc.name} (pid {proc.popen.pid}) still running after "
                    f"{signal.Signals(sig).name}")
            except ProcessLookupError:
                break
        if proc in self.running:
            self.running.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.running)):
            try:
                self.stop(proc)
            except Exception as exc:  # keep stopping the others
                say(f"  ! could not stop {proc.name} (pid {proc.popen.pid}): {exc}")


def wait_http(proc: Proc, url: str, timeout: float = 30.0, want: int = 200) -> None:
    """Wait until `url` answers `want`; fail early if the process died."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited ({proc.popen.returncode}):\n{proc.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == want:
                    return
                last = f"status {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"status {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.1)
    raise RuntimeError(f"{proc.name} not ready at {url} after {timeout}s ({last}):\n"
                       f"{proc.log_tail()}")


def bench_parser(doc: str | None) -> argparse.ArgumentParser:
    """A benchmark's command line, its module docstring as the help."""
    return argparse.ArgumentParser(description=doc,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def add_pool_size_argument(p: argparse.ArgumentParser, processes: str) -> None:
    p.add_argument("--pool-size", type=int, default=0,
                   help=f"PostgreSQL connections per {processes} process (tortoise's maxsize; "
                        "default: tortoise's 5)")


def print_report(lines: list[str], log_dir: Path, ok: bool) -> int:
    """Print the report; the exit status: 0 when every target was met."""
    say("\n".join(lines))
    say("")
    say(f"logs of every process: {log_dir}")
    return 0 if ok else 1


def start_profile(procs: Processes, target: Proc, seconds: int, out: Path) -> Proc | None:
    """py-spy (not a dependency: `pip install py-spy`) records `target` for `seconds`
    into `out` (raw collapsed stacks); None when py-spy is not in the venv."""
    spy = Path(PYTHON).with_name("py-spy")
    if not spy.exists():
        say("  (profiling: py-spy not installed in the venv; skipped)")
        return None
    cmd = [str(spy), "record", "--pid", str(target.popen.pid), "--duration", str(seconds),
           "--rate", "200", "--format", "raw", "--output", str(out), "--nonblocking"]
    return procs.start(f"py-spy-{target.name}", cmd, dict(os.environ))


def migrate(env: dict[str, str]) -> None:
    """`run.py migrate` with the benchmark's environment."""
    done = subprocess.run([PYTHON, "run.py", "migrate"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"migrate failed:\n{done.stdout}{done.stderr}")


# --- database and Redis --------------------------------------------------------------

def add_store_arguments(p: argparse.ArgumentParser, example: str) -> None:
    """--database-url and --redis-url (default: SCRM_BENCH_DATABASE_URL and
    SCRM_BENCH_REDIS_URL; neither: the embedded default). `example` shows a pair."""
    p.add_argument("--database-url", default=os.environ.get("SCRM_BENCH_DATABASE_URL", ""),
                   help="PostgreSQL database of the benchmark (its schema is dropped!); "
                        f"default: embedded SQLite. E.g. {example}")
    p.add_argument("--redis-url", default=os.environ.get("SCRM_BENCH_REDIS_URL", ""),
                   help="Redis db of the benchmark (flushed!), with --database-url")


def check_store_arguments(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if bool(args.database_url) != bool(args.redis_url):
        p.error("give both --database-url and --redis-url, or neither (embedded)")


def with_pool_size(database_url: str, pool_size: int) -> str:
    """A PostgreSQL URL asking for `pool_size` connections per process (tortoise's
    `maxsize`; 0: tortoise's default, 5)."""
    if not pool_size or not database_url.startswith(("postgres://", "postgresql://")):
        return database_url
    return database_url + ("&" if "?" in database_url else "?") + f"maxsize={pool_size}"


def bench_env(log_dir: Path, database_url: str, redis_url: str, sandbox_port: int,
              pool_size: int = 0, **extra: str) -> dict[str, str]:
    """The environment of the `run.py` processes a benchmark starts: its own database
    (SQLite in `log_dir` when `database_url` is empty; `pool_size` connections per
    process on PostgreSQL) and Redis (in-process when empty), the WeCom and mini-program
    APIs of a separate `run.py sandbox` on `sandbox_port`. The caller's SCRM__
    overrides are left out: they would change what is measured."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRM__")}
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    database_url = with_pool_size(database_url, pool_size)
    env.update({
        "SCRM__DATABASE__URL": database_url or f"sqlite://{log_dir / 'scrm.sqlite3'}",
        "SCRM__REDIS__URL": redis_url,
        "SCRM__SANDBOX__ENABLED": "false",
        "SCRM__SANDBOX__PORT": str(sandbox_port),
        "SCRM__WECOM__API_BASE": sandbox,
        "SCRM__MINIAPP__API_BASE": sandbox,
        "PYTHONUNBUFFERED": "1",
        **extra,
    })
    return env


async def db_counts(database_url: str, queries: dict[str, str]) -> dict[str, int]:
    """Each query's one number (its column `n`), read from the benchmark's database
    (SQLite or PostgreSQL) once the run is over."""
    from tortoise import connections

    from bot import db

    await db.open_db(database_url)
    try:
        conn = connections.get("default")
        return {name: int((await conn.execute_query_dict(sql))[0]["n"])
                for name, sql in queries.items()}
    finally:
        await db.close_db()


def prepare_stores(stores: Stores | None, env: dict[str, str]) -> None:
    """A fresh, migrated database and an empty Redis db (embedded: nothing to do, the
    server migrates its new SQLite file itself)."""
    if stores is None:
        return
    asyncio.run(stores.recreate())
    asyncio.run(stores.flush_redis())
    migrate(env)


def refuse_shared_redis(redis_url: str) -> None:
    """A benchmark flushes its Redis db: never db 0 (everyone's default) or 15 (the
    tests')."""
    if urlsplit(redis_url).path.strip("/") in ("", "15"):
        raise SystemExit("refusing Redis db 0 or 15: give the benchmark a db of its own")


class Stores:
    """The benchmark's own PostgreSQL database and Redis db (never the tests')."""

    def __init__(self, database_url: str, redis_url: str) -> None:
        self.database_url = database_url
        self.redis_url = redis_url
        db_name = urlsplit(database_url).path.lstrip("/")
        if not db_name or db_name == "test":
            raise SystemExit(f"refusing database {db_name!r}: use a database of its own")
        refuse_shared_redis(redis_url)
        self.db_name = db_name

    def _admin_url(self) -> str:
        parts = urlsplit(self.database_url)
        return parts._replace(path="/postgres").geturl()

    async def _pg(self, url: str | None = None) -> Any:
        import asyncpg

        try:
            return await asyncpg.connect(url or self.database_url, timeout=10)
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            raise RuntimeError(
                f"PostgreSQL at {urlsplit(self.database_url).netloc or 'localhost'} not usable "
                f"({type(exc).__name__}: {exc}); the benchmark needs a running PostgreSQL "
                "(--database-url)") from None

    async def recreate(self) -> None:
        """Create the database if missing; drop and recreate its schema."""
        admin = await self._pg(self._admin_url())
        try:
            exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1",
                                          self.db_name)
            if not exists:
                await admin.execute(f'CREATE DATABASE "{self.db_name}"')
        finally:
            await admin.close()
        conn = await self._pg()
        try:
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        finally:
            await conn.close()

    async def truncate(self) -> None:
        conn = await self._pg()
        try:
            rows = await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'tortoise_migrations'")
            tables = ", ".join(f'"{r["tablename"]}"' for r in rows)
            if tables:
                await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        finally:
            await conn.close()

    async def flush_redis(self) -> None:
        from redis.asyncio import Redis
        from redis.exceptions import RedisError

        client = Redis.from_url(self.redis_url)
        try:
            await client.flushdb()
        except (RedisError, OSError) as exc:
            raise RuntimeError(f"Redis at {self.redis_url} not usable ({exc}); the benchmark "
                               "needs a running Redis (--redis-url)") from None
        finally:
            await client.aclose()

    async def reset(self) -> None:
        await self.truncate()
        await self.flush_redis()

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        conn = await self._pg()
        try:
            return [dict(row) for row in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    async def inbox_counts(self) -> dict[str, int]:
        conn = await self._pg()
        try:
            row = await conn.fetchrow(
                "SELECT count(*) AS rows, count(DISTINCT dedupe_key) AS keys,"
                " count(*) FILTER (WHERE status = 'done') AS done,"
                " count(*) FILTER (WHERE status = 'failed') AS failed,"
                " count(*) FILTER (WHERE status = 'pending') AS pending,"
                " count(*) FILTER (WHERE status = 'processing') AS processing,"
                " count(*) FILTER (WHERE attempts <> 1) AS attempts_not_1,"
                " coalesce(max(attempts), 0) AS max_attempts FROM inbox_event")
            customers = await conn.fetchval("SELECT count(*) FROM customer")
            follows = await conn.fetchval("SELECT count(*) FROM follow_relation")
            return {**dict(row), "customers": customers, "follow_relations": follows}
        finally:
            await conn.close()

    async def done_count(self) -> tuple[int, int]:
        conn = await self._pg()
        try:
            row = await conn.fetchrow(
                "SELECT count(*) FILTER (WHERE status = 'done') AS done,"
                " count(*) FILTER (WHERE status = 'failed') AS failed FROM inbox_event")
            return int(row["done"]), int(row["failed"])
        finally:
            await conn.close()


class SandboxBench:
    """What a benchmark on the embedded default or on its own PostgreSQL and Redis
    (--database-url/--redis-url, `add_store_arguments`) holds: its arguments, a folder
    for its logs (and the embedded database), the processes it starts, its stores
    (None: embedded) and a `run.py sandbox` of its own."""

    def __init__(self, args: argparse.Namespace, log_prefix: str) -> None:
        self.args = args
        self.log_dir = Path(tempfile.mkdtemp(prefix=log_prefix))
        self.procs = Processes(self.log_dir)
        self.real = bool(args.database_url)
        self.stores = Stores(args.database_url, args.redis_url) if self.real else None
        self.sandbox_port = free_port()
        self.sandbox = f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def backend(self) -> str:
        return "PostgreSQL + Redis" if self.real else "embedded (SQLite + in-process Redis)"

    def env(self) -> dict[str, str]:
        return bench_env(self.log_dir, self.args.database_url, self.args.redis_url,
                         self.sandbox_port)

    def start_sandbox(self) -> Proc:
        """Fresh stores, then the sandbox, answering."""
        prepare_stores(self.stores, self.env())
        sandbox = self.procs.start("sandbox", [PYTHON, "run.py", "sandbox"], self.env())
        wait_http(sandbox, f"{self.sandbox}/sandbox/state", timeout=30)
        return sandbox


class Runnable(Protocol):
    log_dir: Path
    procs: Processes

    def run(self) -> int: ...


def run_bench(bench: Runnable) -> int:
    """Run a benchmark; stop every process it started whatever happens.

    Ctrl-C raises KeyboardInterrupt (also when started from a shell that ignores SIGINT
    in background jobs), and SIGTERM does the same; children get the default SIGINT back
    on exec, so they stop gracefully too.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda signum, frame: signal.raise_signal(signal.SIGINT))
    try:
        return bench.run()
    except KeyboardInterrupt:
        say("\ninterrupted: stopping every process started")
        return 130
    except Exception as exc:
        say(f"\nbenchmark failed: {type(exc).__name__}: {exc}")
        say(f"logs: {bench.log_dir}")
        return 1
    finally:
        bench.procs.stop_all()
