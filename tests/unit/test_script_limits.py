"""The script step's sandbox (SPEC 7): rlimits on CPU, memory, file size and processes,
a timeout that kills the whole process group, and an empty environment. The step runs
real subprocesses here; only the executor around it is left out."""

from __future__ import annotations

import json
import os
import time

import pytest

from orchestrator.step_types.execution import StepContext, StepError
from orchestrator.step_types.script import FILE_BYTES, MEMORY_BYTES, PROCESSES, ScriptStep


def run_script(code: str, language: str = "python", timeout: float | None = None):
    ctx = StepContext(
        run_id="run_test",
        step_run_id="sr_test",
        step_id="script",
        tenant_id="ten_test",
        workflow_id="wf_test",
        attempt=1,
        timeout_seconds=30,
        context={"input": {}},
    )
    config = {"language": language, "code": code, **({"timeout": timeout} if timeout else {})}
    return ScriptStep().execute(ctx, config)


LIMITS = """
import json, resource
names = ["RLIMIT_CPU", "RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_NPROC", "RLIMIT_CORE"]
print(json.dumps({name: resource.getrlimit(getattr(resource, name)) for name in names}))
"""


def test_the_script_runs_under_cpu_memory_file_process_and_core_limits():
    limits = run_script(LIMITS, timeout=5)

    assert limits == {
        "RLIMIT_CPU": [6, 6],  # the timeout plus a second of CPU time, then SIGXCPU
        "RLIMIT_AS": [MEMORY_BYTES, MEMORY_BYTES],
        "RLIMIT_FSIZE": [FILE_BYTES, FILE_BYTES],
        "RLIMIT_NPROC": [PROCESSES, PROCESSES],
        "RLIMIT_CORE": [0, 0],
    }
    assert (MEMORY_BYTES, FILE_BYTES, PROCESSES) == (512 << 20, 16 << 20, 64)


def test_allocating_more_memory_than_the_limit_fails_the_script():
    with pytest.raises(StepError) as raised:
        run_script(f"buffer = bytearray({MEMORY_BYTES + (64 << 20)})\nprint('allocated')")

    assert raised.value.message.startswith("The script exited with status 1") and "MemoryError" in raised.value.message


def test_writing_a_file_over_the_size_limit_fails_the_script():
    code = f"with open('big', 'wb') as f:\n    f.write(b'x' * {FILE_BYTES + 1})\nprint('written')"

    with pytest.raises(StepError) as raised:
        run_script(code)

    assert "File too large" in raised.value.message


def _gone(pid: int) -> bool:
    """Dead, or a zombie nobody reaped yet (the container's init may not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_the_timeout_kills_the_script_and_everything_it_started(tmp_path):
    pid_file = tmp_path / "child.pid"
    began = time.monotonic()

    with pytest.raises(StepError) as raised:
        run_script(f"sleep 60 & echo $! > {pid_file}; wait", language="shell", timeout=1)

    assert raised.value.message == "The script ran longer than 1 s." and raised.value.kind == "timeout"
    assert time.monotonic() - began < 5
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while not _gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(child), f"the script's background process {child} outlived the timeout"


def test_the_script_sees_an_empty_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ORCHESTRATOR_PROBE_SECRET", "s3cret-probe")

    seen = run_script("import json, os\nprint(json.dumps({'env': dict(os.environ), 'cwd': os.getcwd()}))")

    assert set(seen["env"]) <= {"PATH", "HOME", "LANG", "LC_CTYPE"}
    assert "s3cret-probe" not in json.dumps(seen) and "DATABASE_URL" not in seen["env"]
    assert seen["env"]["HOME"] == seen["cwd"] != os.getcwd()  # a temporary directory of its own
