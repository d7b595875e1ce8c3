"""Shared machinery of `run.py` and `scale.py`: servers, databases, wrk, memory readings.

Everything here talks to 127.0.0.1 only, and every load run is bounded in time.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
LUA_DIR = BENCH_DIR / "lua"
VENV_BIN = Path(sys.executable).parent
POSTGRES_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
#: The gunicorn settings shared by the shop and the ceiling app: only the app differs.
GUNICORN_WORKERS = 2


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_wrk() -> str:
    """The path of wrk, installing Debian's package when it is missing (we run as root)."""
    path = shutil.which("wrk")
    if path:
        return path
    print("wrk is missing: installing it with apt-get", flush=True)
    apt = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(apt, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], check=False)
        subprocess.run(apt, check=False)
    path = shutil.which("wrk")
    if not path:
        raise SystemExit("wrk could not be installed; install it with: apt-get install -y wrk")
    return path


# --- databases -------------------------------------------------------------------------


def fresh_postgres_database(name: str) -> str:
    """Drop and create database `name` on the local server; return its SQLAlchemy URL."""
    import psycopg
    from sqlalchemy import make_url

    url = make_url(POSTGRES_ADMIN_URL)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(name: str) -> None:
    """Remove a benchmark database so it does not linger on the shared server."""
    import psycopg
    from sqlalchemy import make_url

    admin = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def shop_environment(database_url: str, **extra: str) -> dict[str, str]:
    """The environment a benchmarked shop runs with: production settings, plain HTTP.

    Rate limiting is off because every wrk request comes from 127.0.0.1: a per-address
    limit would measure the limiter's 429s, not the shop (scale.py checks the limiter).
    """
    env = {
        **os.environ,
        "STOREFRONT_ENV": "production",
        "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
        "SESSION_COOKIE_SECURE": "0",
        "RATELIMIT_ENABLED": "0",
        "LOG_LEVEL": "INFO",
    }
    env.pop("REDIS_URL", None)
    env.update(extra)
    return env


# --- servers ---------------------------------------------------------------------------


@dataclass
class Server:
    """A gunicorn master with `GUNICORN_WORKERS` sync workers on 127.0.0.1."""

    name: str
    app_spec: str
    env: dict[str, str]
    log_dir: Path
    chdir: Path | None = None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    peak_rss_kb: dict[int, int] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str = "/healthz", timeout: float = 30) -> Server:
        """Start gunicorn and wait until `ready_path` answers 200."""
        command = [
            str(VENV_BIN / "gunicorn"),
            "--workers",
            str(GUNICORN_WORKERS),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--log-level",
            "warning",
            # One control socket path for every gunicorn on the machine: servers started
            # side by side took it from each other.
            "--no-control-socket",
        ]
        if self.chdir:
            command += ["--chdir", str(self.chdir)]
        command.append(self.app_spec)
        log = (self.log_dir / f"{self.name}.log").open("ab")
        self.process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log_dir / self.name}.log")
            try:
                with urllib.request.urlopen(self.url + ready_path, timeout=2) as answer:
                    if answer.status == 200 and len(self.worker_pids()) == GUNICORN_WORKERS:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not become ready on {self.url}{ready_path}")

    def worker_pids(self) -> list[int]:
        """The pids of the gunicorn workers (children of the master)."""
        if self.process is None:
            return []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def cpu_seconds(self) -> float:
        """User plus system CPU time the workers have used so far."""
        ticks = 0
        for pid in self.worker_pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def record_memory(self) -> None:
        """Remember each worker's peak resident memory (VmHWM) seen so far."""
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    kb = int(line.split()[1])
                    self.peak_rss_kb[pid] = max(kb, self.peak_rss_kb.get(pid, 0))

    def stop(self) -> None:
        """Record memory, then stop gunicorn gracefully (SIGTERM), killing it if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.record_memory()
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def new_log_dir(label: str) -> Path:
    """A folder for server logs of this run, kept after the run for reading."""
    return Path(tempfile.mkdtemp(prefix=f"storefront-{label}-"))


# --- wrk -------------------------------------------------------------------------------


@dataclass
class WrkResult:
    """What one bounded wrk run measured."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    error_detail: dict[str, int]
    cpu_ms: float | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_wrk(
    url: str,
    *,
    script: str | None = None,
    args: list[str] | None = None,
    duration: float,
    connections: int,
    threads: int = 1,
) -> WrkResult:
    """Drive `url` with wrk for `duration` seconds and read the JSON line report.lua prints.

    `lua/common.lua`, the scenario script (if any) and `lua/report.lua` are joined into one
    file, since wrk takes a single script.
    """
    parts = ["common.lua", *([script] if script else []), "report.lua"]
    source = "\n".join((LUA_DIR / part).read_text() for part in parts)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(source)
        script_path = handle.name
    command = [
        ensure_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        script_path,
        url,
    ]
    if args:
        command += ["--", *args]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=duration + 60, check=False
        )
    finally:
        os.unlink(script_path)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            data: dict[str, Any] = json.loads(line[len("BENCH_JSON ") :])
            break
    else:
        raise RuntimeError(f"wrk gave no report (exit {done.returncode}): {done.stderr.strip()}")
    detail = {k: int(data[k]) for k in ("connect", "read", "write", "status", "timeout")}
    return WrkResult(
        requests=int(data["requests"]),
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=sum(detail.values()),
        error_detail={k: v for k, v in detail.items() if v},
    )


# --- plain HTTP for probes and checks --------------------------------------------------


@dataclass
class Answer:
    """Status, headers (a list, since Set-Cookie may repeat) and body of one response."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.body)


def http(
    method: str,
    url: str,
    *,
    json_body: Any = None,
    cookie: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> Answer:
    """One HTTP request with the standard library; any status comes back as an Answer."""
    data = None
    sent = dict(headers or {})
    if json_body is not None:
        data = json.dumps(json_body).encode()
        sent["Content-Type"] = "application/json"
    if cookie:
        sent["Cookie"] = cookie
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return Answer(answer.status, list(answer.headers.items()), answer.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, list(error.headers.items()), error.read())


def session_cookie(answer: Answer, name: str = "storefront_session") -> str | None:
    """`name=value` of the session cookie an answer sets, or None."""
    for key, value in answer.headers:
        first = value.split(";", 1)[0].strip()
        if key.lower() == "set-cookie" and first.startswith(name + "="):
            return first
    return None
