"""`make run` as a new user runs it: in a fresh copy of the project, on a free port.

``ServedCopy`` copies the source tree (no database, no ``.env.local``, no caches) into a
temporary directory, points its ``.venv`` at the interpreter running the tests (so
nothing is installed), and runs ``make run`` there with nothing set: SQLite in the copy,
the in-process broker and worker. ``distributed`` adds ``DATABASE_URL`` (the test's
PostgreSQL database), ``REDIS_URL`` and a private task queue. The whole of ``make run``
(its ``serve`` and, distributed, the worker, beat and uvicorn children) is one process
group, as in a terminal, so ``interrupt()`` is a Ctrl-C and ``kill()`` a power cut.
"""

from __future__ import annotations

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

from tests.live import free_port

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 120.0  # migrate + seed_demo + serve on a fresh SQLite file, on a loaded CI machine

# What a new user's shell does not set: the test run's own settings stay out of the copy.
_CLEARED = ("DATABASE_URL", "REDIS_URL", "DJANGO_SECRET_KEY", "DEBUG", "PORT", "LOG_LEVEL", "ALLOWED_HOSTS")
_IGNORED = shutil.ignore_patterns(
    ".git", ".venv", "tests", "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", "staticfiles",
    "db.sqlite3*", ".env", ".env.*", "celerybeat-schedule*", "*.log", "node_modules",
)  # fmt: skip


def user_environment(**overrides: str) -> dict[str, str]:
    """This process's environment without any of the project's settings, plus ``overrides``."""
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED and not k.startswith("ORCHESTRATOR_")}
    env.update(overrides)
    return env


class ServedCopy:
    def __init__(self, env: dict[str, str] | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="orchestrator-copy-"))
        shutil.copytree(ROOT, self.dir, ignore=_IGNORED, dirs_exist_ok=True)
        self._link_venv()
        self.extra_env = env or {}
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.log_path = self.dir / "make-run.log"

    def _link_venv(self) -> None:
        venv = self.dir / ".venv"
        if sys.prefix != sys.base_prefix:  # the tests run in a virtualenv: use it as is
            venv.symlink_to(Path(sys.prefix), target_is_directory=True)
            return
        (venv / "bin").mkdir(parents=True)
        (venv / "bin" / "python").symlink_to(sys.executable)
        (venv / ".installed").touch()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a shell in the copy: nothing set but what the test adds."""
        return user_environment(**{**self.extra_env, **extra})

    def start(self, *, wait_healthy: bool = True) -> ServedCopy:
        """``make run`` on a free port; returns once /api/health answers (``ok`` with ``wait_healthy``)."""
        self.port = free_port()
        log = open(self.log_path, "ab")
        # -o .venv/.installed: the copy's .venv is the test run's; make must not reinstall into it.
        self.proc = subprocess.Popen(
            ["make", "-o", ".venv/.installed", "run"],
            cwd=self.dir,
            env=self.env(PORT=str(self.port)),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        status = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"make run exited with {self.proc.returncode}:\n{self.log()[-5000:]}")
            try:
                status = httpx.get(f"{self.url}/api/health", timeout=5).json().get("status")
            except (httpx.TransportError, ValueError):
                status = None
            if status == "ok" or (status is not None and not wait_healthy):
                return self
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"make run did not become healthy ({status}) in {START_TIMEOUT:g} s:\n{self.log()[-5000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def printed_key(self) -> str:
        """The API key the last ``seed_demo`` of ``make run`` printed."""
        keys = re.findall(r"API key\s+(wfb_\S+)", self.log())
        if not keys:
            raise AssertionError(f"make run printed no API key:\n{self.log()[-3000:]}")
        return keys[-1]

    def manage(self, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
        """``.venv/bin/python manage.py …`` in the copy, as a user's second shell runs it."""
        return subprocess.run(
            [str(self.dir / ".venv" / "bin" / "python"), "manage.py", *args],
            cwd=self.dir,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def group_alive(self) -> list[str]:
        """The processes still in ``make run``'s process group (``make``, ``serve`` and its children)."""
        if self.proc is None:
            return []
        result = subprocess.run(["pgrep", "-a", "-g", str(self.proc.pid)], capture_output=True, text=True)
        # A zombie has exited: its parent (make, killed too) is gone and init has not reaped it yet.
        return [line for line in result.stdout.splitlines() if line.strip() and "<defunct>" not in line]

    def interrupt(self, timeout: float = 30) -> list[str]:
        """Ctrl-C: SIGINT to the whole process group; answers what is still alive after ``timeout``."""
        if self.proc is None or self.proc.poll() is not None and not self.group_alive():
            return []
        os.killpg(self.proc.pid, signal.SIGINT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None and not self.group_alive():
                return []
            time.sleep(0.2)
        return self.group_alive()

    def kill(self) -> None:
        """SIGKILL to every process of ``make run``: nothing gets to clean up."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + 10  # SIGKILL is delivered, not waited for
        while self.group_alive() and time.monotonic() < deadline:
            time.sleep(0.1)

    def stop(self) -> None:
        """Ctrl-C, then SIGKILL for anything left."""
        if self.interrupt():
            self.kill()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def private_queue() -> str:
    return f"test-served-{uuid.uuid4().hex[:8]}"
