"""Settings read ``.env.local`` as `make run` does: the environment first, then the file."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.live import ROOT

KEY = "dGVzdC1vbmx5LWtleS1mb3ItdGhlLXRlc3Qtc3VpdGU="
SHOW = (
    "import json; from django.conf import settings as s; "
    "print(json.dumps([s.ORCHESTRATOR_ENCRYPTION_KEYS, s.DEBUG, s.ORCHESTRATOR_RATE_LIMIT, s.LOGGING['root']['level'],"
    " s.ORCHESTRATOR_SLACK_BASE_URL, s.ENV_FILE]))"
)


def _settings(env_file: str | None, **env: str) -> list:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("ORCHESTRATOR_", "DEBUG", "LOG_LEVEL"))}
    if env_file is not None:
        base["ORCHESTRATOR_ENV_FILE"] = env_file
    base.update(env, DJANGO_SETTINGS_MODULE="config.settings")
    result = subprocess.run(
        [sys.executable, "-c", SHOW], cwd=ROOT, env=base, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(result.stdout)


def test_values_come_from_the_env_file_when_the_environment_lacks_them(tmp_path):
    env_file = tmp_path / "local.env"
    env_file.write_text(
        "# written by make run\n"
        f"ORCHESTRATOR_ENCRYPTION_KEYS={KEY}\n"
        "export DEBUG=true\n"
        "ORCHESTRATOR_RATE_LIMIT='7'\n"
        'LOG_LEVEL="WARNING"\n'
        "not a setting\n"
    )

    keys, debug, rate, level, _, path = _settings(str(env_file))

    assert (keys, debug, rate, level, path) == (KEY, True, 7, "WARNING", str(env_file))


def test_the_environment_wins_over_the_env_file_even_when_empty(tmp_path):
    env_file = tmp_path / "local.env"
    env_file.write_text(f"ORCHESTRATOR_ENCRYPTION_KEYS={KEY}\nDEBUG=true\nORCHESTRATOR_SLACK_BASE_URL=http://file\n")

    keys, debug, _, _, slack, _ = _settings(
        str(env_file), ORCHESTRATOR_ENCRYPTION_KEYS="", DEBUG="false", ORCHESTRATOR_SLACK_BASE_URL="http://env"
    )

    assert (keys, debug, slack) == ("", False, "http://env")


def test_an_empty_env_file_setting_reads_no_file_and_a_missing_file_is_fine(tmp_path):
    assert _settings("")[0] == ""
    assert _settings(str(tmp_path / "absent.env"))[0] == ""


def test_the_default_env_file_is_the_projects_dot_env_local():
    assert _settings(None)[-1] == str(ROOT / ".env.local")


def test_the_test_suite_reads_no_env_file():
    from django.conf import settings

    assert settings.ENV_FILE == ""
    assert os.environ["ORCHESTRATOR_ENV_FILE"] == ""  # and neither do the servers and workers it starts
