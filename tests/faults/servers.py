"""Servers a fault test owns, so that it may kill and restart them: a private
``redis-server`` and a private PostgreSQL cluster, each on a free port of its own
(kept across restarts, so clients reconnect to the same address), and the
worker, beat and web processes of the orchestrator pointed at them.

The shared PostgreSQL (5432) and Redis (6379) of the machine are never touched.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import redis

from tests.live import subprocess_secrets
from tests.served import free_port

ROOT = Path(__file__).resolve().parents[2]


def wait_until(check, *, timeout: float, what: str, interval: float = 0.1):
    """Poll ``check()`` until it answers something truthy; answers it."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(interval)


class RedisServer:
    """``redis-server`` on its own port, with an append-only file written at every
    command: a restart keeps what a restarted production Redis keeps (the queued
    messages), and drops every connection."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="faults-redis-"))
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        cmd = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
            "--save", "", "--appendonly", "yes", "--appendfsync", "always",
            "--logfile", str(self.dir / "redis.log"),
        ]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(self.ping, timeout=15, what=f"redis on {self.port} answering")
        return self

    def ping(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        """SIGTERM: Redis closes every client and exits (its data is on disk already)."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=15)

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"no /usr/lib/postgresql/*/bin/{name}")
    return found[-1]


class PostgresCluster:
    """A PostgreSQL cluster of its own (``initdb`` in a temporary directory, trust on
    127.0.0.1), run as the ``postgres`` OS user when this process is root."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="faults-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.name = "orchestrator"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.name}"

    def _run(self, *cmd: str, timeout: float = 120) -> subprocess.CompletedProcess:
        if os.geteuid() == 0:
            cmd = ("runuser", "-u", "postgres", "--", *cmd)
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}\n{log}")
        return result

    def init(self) -> PostgresCluster:
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.start()
        self._run(_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", self.name)
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        """Fast shutdown: every backend is terminated, open transactions roll back."""
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        self.stop()
        self.start()

    def sql(self, query: str, *params) -> list[tuple]:
        try:  # psycopg 3 once the project moves to it, psycopg2 until then
            import psycopg as driver
        except ImportError:
            import psycopg2 as driver

        with contextlib.closing(driver.connect(self.url)) as conn:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(query, params)
                return cursor.fetchall() if cursor.description else []

    def terminate_backends(self) -> int:
        """``pg_terminate_backend`` on every client connection but this one."""
        rows = self.sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
            self.name,
        )
        return sum(1 for (done,) in rows if done)

    def migrate(self) -> None:
        env = {**os.environ, "DATABASE_URL": self.url, **subprocess_secrets()}
        result = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"migrate failed:\n{result.stdout}\n{result.stderr}")

    def remove(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop", timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)


class Process:
    """One orchestrator process (worker, beat or web) with its log in a file."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.cmd = cmd
        self.env = env
        self.log_path = Path(tempfile.mkstemp(prefix=f"faults-{name}-", suffix=".log")[1])
        self.proc: subprocess.Popen | None = None

    def start(self, ready: str | None = None, timeout: float = 60) -> Process:
        """Start; with ``ready``, wait for that regex in the log written by this start."""
        offset = len(self.output())
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            self.cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        if ready:
            self.wait_for_log(ready, after=offset, timeout=timeout)
        return self

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, pattern: str, *, after: int = 0, timeout: float = 30) -> int:
        """Until the log, from character ``after`` on, matches ``pattern``; answers where the match ends."""
        regex = re.compile(pattern)

        def found() -> int | None:
            match = regex.search(self.output(), after)
            if match:
                return match.end()
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited ({self.proc.returncode}):\n{self.output()[-4000:]}")
            return None

        try:
            return wait_until(found, timeout=timeout, what=f"{self.name} logging {pattern!r}", interval=0.05)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.output()[-4000:]}") from None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole process group (main process and pool children) at once."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


class Stack:
    """Worker, beat and web processes of the orchestrator against one database and one Redis."""

    def __init__(self, *, database_url: str, redis_url: str, env: dict[str, str] | None = None) -> None:
        self.queue = f"faults-{uuid.uuid4().hex[:8]}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            **subprocess_secrets(),
            "ORCHESTRATOR_TASK_QUEUE": self.queue,
            "ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS": "true",
            "ORCHESTRATOR_STEP_LEASE_SECONDS": "3",
            "ORCHESTRATOR_SWEEP_INTERVAL": "1",  # whole seconds: django-celery-beat stores intervals as integers
            "ORCHESTRATOR_REAP_INTERVAL": "1",
            "ORCHESTRATOR_RATE_LIMIT": "0",
            "ORCHESTRATOR_LOG_CLOCK": "true",  # tests wait on the clock's log lines (sweeps, beat ticks)
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.processes: list[Process] = []

    def _add(self, process: Process) -> Process:
        self.processes.append(process)
        return process

    def worker(self, *, concurrency: int = 2, beat: bool = False, start: bool = True) -> Process:
        cmd = [
            sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", self.queue, "--pool", "prefork",
            f"--concurrency={concurrency}", "--without-gossip", "--without-mingle", "-l", "info",
            "-n", f"{self.queue}-{uuid.uuid4().hex[:4]}@%h",
        ]  # fmt: skip
        if beat:
            schedule = Path(tempfile.mkdtemp(prefix="faults-beat-")) / "schedule"
            cmd += ["-B", "--scheduler", "celery.beat:PersistentScheduler", "-s", str(schedule)]
        process = self._add(Process("worker", cmd, self.env))
        return process.start(ready=r"ready\.") if start else process

    def beat(
        self, *, scheduler: str = "django_celery_beat.schedulers:DatabaseScheduler", start: bool = True
    ) -> Process:
        """A beat of its own; the default scheduler reads the schedules' PeriodicTasks from the database."""
        schedule = Path(tempfile.mkdtemp(prefix="faults-beat-")) / "schedule"
        cmd = [
            sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "info",
            "--scheduler", scheduler, "-s", str(schedule), "--max-interval", "1",
        ]  # fmt: skip
        process = self._add(Process("beat", cmd, self.env))
        return process.start(ready=r"beat: Starting\.\.\.") if start else process

    def web(self) -> Process:
        port = free_port()
        cmd = [
            sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1",
            "--port", str(port), "--log-level", "warning",
        ]  # fmt: skip
        process = self._add(Process("web", cmd, {**self.env, "LOG_LEVEL": "WARNING"}))
        process.url = f"http://127.0.0.1:{port}"
        process.start()

        def answers() -> bool:
            if not process.alive():
                raise AssertionError(f"web exited:\n{process.output()[-4000:]}")
            try:
                return httpx.get(f"{process.url}/api/health", timeout=2).status_code < 600
            except httpx.TransportError:
                return False

        wait_until(answers, timeout=30, what="the web server answering /api/health", interval=0.2)
        return process

    def stop(self) -> None:
        """At the test's end: SIGKILL, since a warm shutdown waits out the worker's soft shutdown
        timeout, and nothing is left to finish cleanly; the sockets close with the processes."""
        for process in reversed(self.processes):
            process.kill()
