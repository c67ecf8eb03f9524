"""`make run`: the API (ASGI, HTTP + WebSocket), a worker and beat, in the foreground.

With Redis (REDIS_URL set, or one answering on 127.0.0.1:6379) the worker and
beat are child processes (`celery -A config worker|beat`), exactly as in
docker-compose. Without Redis everything runs in this one process: the broker
and channel layer are in memory, so the worker and beat run as threads here.
SIGINT/SIGTERM stop the children and exit.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve the API with a worker and beat (embedded or distributed)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.PORT)
        parser.add_argument("--concurrency", type=int, default=2)

    def handle(self, *args, host: str, port: int, concurrency: int, **options) -> None:
        from orchestrator.startup import startup_problems

        problems = startup_problems()
        if problems:  # the children would refuse one by one; say it once, clearly
            raise CommandError("Refusing to start with DEBUG off (production): " + " ".join(problems))
        if settings.EMBEDDED:
            self._serve_embedded(host, port)
        else:
            self._serve_distributed(host, port, concurrency)

    def _serve_distributed(self, host: str, port: int, concurrency: int) -> None:
        python = sys.executable
        commands = {
            "worker": [python, "-m", "celery", "-A", "config", "worker", "-l", "info", f"--concurrency={concurrency}"],
            "beat": [python, "-m", "celery", "-A", "config", "beat", "-l", "info"],
            # Several processes (WEB_CONCURRENCY): one uvicorn process is bounded by one core. SSE and
            # WebSockets work in each, as events reach every process through the Redis channel layer.
            "web": [python, "-m", "uvicorn", "config.asgi:application", "--host", host, "--port", str(port),
                    "--lifespan", "off", "--workers", str(settings.WEB_CONCURRENCY)],
        }  # fmt: skip
        from orchestrator.engine.presence import workers_starting_mark

        workers_starting_mark()  # until the worker answers, /api/health says "starting", not "degraded"
        children = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}
        self.stdout.write(
            f"Serving on http://{host}:{port} ({settings.WEB_CONCURRENCY} web processes; worker and beat as child"
            " processes)"
        )
        stopping = threading.Event()

        def stop(signum: int, frame: object) -> None:
            stopping.set()

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping.is_set():
            for name, child in children.items():
                if child.poll() is not None:
                    self.stderr.write(f"{name} exited with status {child.returncode}; stopping.")
                    exit_code = child.returncode or 1
                    stopping.set()
            time.sleep(0.5)
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + 15
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        sys.exit(exit_code)

    def _serve_embedded(self, host: str, port: int) -> None:
        import uvicorn

        from orchestrator.dbpool import web_pool_enable
        from orchestrator.engine.embedded import start_embedded_worker

        # Before the worker's threads connect: with PostgreSQL they share the web's pool.
        web_pool_enable()
        stop_worker = start_embedded_worker(schedules=True)
        self.stdout.write(f"Serving on http://{host}:{port} (embedded: in-process broker, worker and beat)")
        try:
            # Django's ASGI app has no lifespan events: "off" spares the log a line that reads like a fault.
            uvicorn.run("config.asgi:application", host=host, port=port, log_level="info", lifespan="off")
        finally:
            stop_worker()
