"""docker-compose.yml and the process contract it relies on (SPEC section 13).

No Docker engine is needed: the compose file is parsed with PyYAML, and the
modules it points at are read as text (parsed with ``ast``, never imported).
"""

from __future__ import annotations

import ast
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"

SERVICES = {"postgres", "redis", "web", "worker", "beat", "flower"}
APP_SERVICES = {"web", "worker", "beat", "flower"}


@pytest.fixture(scope="module")
def compose() -> dict:
    assert COMPOSE_FILE.is_file(), "docker-compose.yml is missing"
    data = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(data, dict) and isinstance(data.get("services"), dict)
    return data


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


def command_of(service: dict) -> list[str]:
    command = service.get("command")
    assert command, "service has no command"
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def environment_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def depends_on_of(service: dict) -> dict[str, dict]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: {} for name in deps}
    return {name: spec or {} for name, spec in deps.items()}


def top_level_names(path: Path) -> set[str]:
    """Names bound at module level (assignments, imports, defs), without importing the module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
    return names


def test_all_services_exist(services: dict) -> None:
    missing = SERVICES - set(services)
    assert not missing, f"docker-compose.yml lacks services: {sorted(missing)}"


def test_web_serves_the_asgi_application(services: dict) -> None:
    command = command_of(services["web"])
    assert "config.asgi:application" in command, command
    assert command[0] in {"uvicorn", "daphne", "gunicorn", "hypercorn"}, command


def test_worker_runs_celery_worker_on_config(services: dict) -> None:
    assert command_of(services["worker"])[:4] == ["celery", "-A", "config", "worker"]


def test_beat_runs_celery_beat_with_the_database_scheduler(services: dict) -> None:
    command = command_of(services["beat"])
    assert command[:4] == ["celery", "-A", "config", "beat"]
    joined = " ".join(command)
    assert "django_celery_beat.schedulers:DatabaseScheduler" in joined, joined


def test_flower_runs_celery_flower(services: dict) -> None:
    assert command_of(services["flower"])[:4] == ["celery", "-A", "config", "flower"]


def test_worker_is_scalable(services: dict) -> None:
    worker = services["worker"]
    assert "container_name" not in worker, "a container_name prevents `docker compose up --scale worker=N`"
    assert not worker.get("ports"), "published ports prevent `docker compose up --scale worker=N`"


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_app_services_get_database_and_redis_urls(services: dict, name: str) -> None:
    env = environment_of(services[name])
    assert env.get("DATABASE_URL", "").startswith("postgres"), env.get("DATABASE_URL")
    assert "@postgres:" in env["DATABASE_URL"], env["DATABASE_URL"]
    assert env.get("REDIS_URL", "").startswith("redis://redis:"), env.get("REDIS_URL")
    assert "DJANGO_SECRET_KEY" in env
    assert "ORCHESTRATOR_ENCRYPTION_KEYS" in env


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_app_services_wait_for_healthy_backends(services: dict, name: str) -> None:
    deps = depends_on_of(services[name])
    for backend in ("postgres", "redis"):
        assert backend in deps, f"{name} does not depend on {backend}"
        assert deps[backend].get("condition") == "service_healthy", f"{name} -> {backend}: {deps[backend]}"


@pytest.mark.parametrize("name", ["postgres", "redis"])
def test_backends_have_healthchecks(services: dict, name: str) -> None:
    healthcheck = services[name].get("healthcheck") or {}
    assert healthcheck.get("test"), f"{name} has no healthcheck"


def test_migrations_run_before_the_app_starts(services: dict) -> None:
    runs_migrate = [
        name
        for name, service in services.items()
        if service.get("command") and "migrate" in command_of(service) and "manage.py" in " ".join(command_of(service))
    ]
    if runs_migrate:  # a one-shot migrate service that the app services wait for
        (migrate,) = runs_migrate
        for name in ("web", "worker", "beat"):
            condition = depends_on_of(services[name]).get(migrate, {}).get("condition")
            assert condition == "service_completed_successfully", f"{name} does not wait for {migrate}"
    else:  # or the web entrypoint migrates
        web = services["web"]
        text = " ".join(str(part) for part in (web.get("entrypoint") or [])) + " " + " ".join(command_of(web))
        assert "migrate" in text, "nothing runs migrations"


def test_built_images_have_their_dockerfile(services: dict) -> None:
    built = {name: service["build"] for name, service in services.items() if "build" in service}
    assert APP_SERVICES <= set(built), f"app services not built from the Dockerfile: {APP_SERVICES - set(built)}"
    for name, build in built.items():
        if isinstance(build, str):
            context, dockerfile = build, "Dockerfile"
        else:
            context, dockerfile = build.get("context", "."), build.get("dockerfile", "Dockerfile")
        path = (ROOT / context / dockerfile).resolve()
        assert path.is_file(), f"{name}: {path} does not exist"


def test_dockerfile_installs_requirements_and_flower_and_drops_root() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11" in text
    assert "requirements.txt" in text
    assert "flower" in text
    assert any(line.strip().startswith("USER ") and "root" not in line for line in text.splitlines())


def test_flower_is_not_a_runtime_requirement() -> None:
    lines = [line.split("#", 1)[0].strip().lower() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    assert not any(line.startswith("flower") for line in lines)


def test_config_asgi_defines_application() -> None:
    path = ROOT / "config" / "asgi.py"
    assert path.is_file(), "config/asgi.py is missing"
    assert "application" in top_level_names(path), "config/asgi.py does not define `application`"


def test_config_celery_defines_app() -> None:
    path = ROOT / "config" / "celery.py"
    assert path.is_file(), "config/celery.py is missing (`celery -A config` needs it)"
    assert "app" in top_level_names(path), "config/celery.py does not define `app`"
