from tests.engine.conftest import _engine_queue, http_server, worker, worker_factory  # noqa: F401
