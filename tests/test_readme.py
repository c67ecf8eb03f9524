"""The README's "Try it" examples, run as written against `make run`, in both shapes.

The examples are read from README.md, so this test changes when the README does. Each
shell block runs in order in one bash process, in a fresh copy of the project where
`make run` serves (tests/served.py). The only change made to them is the port in the
`API=` line. A comment right after a command is the output the README promises for it;
``…`` stands for anything, whitespace is ignored, and a trailing ``(note)`` after three
spaces is a note, not output.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.live import subprocess_database_url
from tests.served import ROOT, ServedCopy, private_queue

pytestmark = [pytest.mark.slow]

README = ROOT / "README.md"
MARK = "@@README-CHECK {}@@"


def _section(text: str, heading: str) -> str:
    start = text.index(f"\n{heading}\n")
    level = heading.split(" ", 1)[0]
    following = re.search(rf"\n#{{2,{len(level)}}} ", text[start + len(heading) + 2 :])
    return text[start : start + len(heading) + 2 + following.start()] if following else text[start:]


def _shell_blocks(section: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def readme_examples() -> list[str]:
    """The "Try it" blocks, then the SSE block of "Watching a run live" (which reads $RUN)."""
    text = README.read_text()
    blocks = _shell_blocks(_section(text, "### Try it"))
    blocks += _shell_blocks(_section(text, "## Watching a run live"))[:1]
    assert blocks, "README.md has no ### Try it examples"
    return blocks


def _expected_pattern(lines: list[str]) -> re.Pattern:
    text = "\n".join(re.sub(r"^#\s?", "", line) for line in lines)
    text = "\n".join(re.sub(r"\s{3,}\(.*\)\s*$", "", line) for line in text.splitlines())
    parts = [re.escape(re.sub(r"\s+", "", part)) for part in text.split("…")]
    return re.compile("(?s).*?" + ".*?".join(parts))


def instrument(blocks: list[str], api: str) -> tuple[str, list[tuple[str, re.Pattern, str]]]:
    """The script to run, and per check: (the command it follows, the expected pattern, the README text)."""
    script = ["set -euo pipefail"]
    checks: list[tuple[str, re.Pattern, str]] = []
    api_lines = 0
    for block in blocks:
        lines = block.splitlines()
        heredoc_end = None
        last_code = ""
        i = 0
        while i < len(lines):
            line = lines[i]
            if heredoc_end is not None:
                script.append(line)
                heredoc_end = None if line.strip() == heredoc_end else heredoc_end
                i += 1
                continue
            if line.startswith("API=http://127.0.0.1:8000"):
                line = f"API={api}"
                api_lines += 1
            started = re.search(r"<<-?\s*'?(\w+)'?", line)
            if started and not line.lstrip().startswith("#"):
                heredoc_end = started.group(1)
            if line.lstrip().startswith("#") and last_code:
                group = []
                while i < len(lines) and lines[i].lstrip().startswith("#"):
                    group.append(lines[i].strip())
                    i += 1
                script.append(f"printf '\\n{MARK.format(len(checks))}\\n'")
                checks.append((last_code, _expected_pattern(group), "\n".join(group)))
                last_code = ""
                continue
            script.append(line)
            last_code = line if line.strip() and not line.lstrip().startswith("#") else ""
            i += 1
        script.append(f"printf '\\n{MARK.format('block')}\\n'")
    assert api_lines == 1, "the README's examples must set API=http://127.0.0.1:8000 once"
    return "\n".join(script) + "\n", checks


def mismatches(output: str, checks: list[tuple[str, re.Pattern, str]]) -> list[str]:
    """Each check against the output printed between its mark and the one before."""
    segments = re.split(r"\n@@README-CHECK (\d+|block)@@\n", "\n" + output)
    actual: dict[int, str] = {}
    for index in range(1, len(segments), 2):  # [text, mark, text, mark, …]: a mark closes the text before it
        if segments[index] != "block":
            actual[int(segments[index])] = segments[index - 1]
    problems = []
    for number, (command, pattern, text) in enumerate(checks):
        if number not in actual:
            problems.append(f"#{number} never reached: {command}")
        elif not pattern.fullmatch(re.sub(r"\s+", "", actual[number])):
            problems.append(f"#{number} {command}\n  README:\n{text}\n  got:\n{actual[number].strip()[-1500:]}")
    return problems


def run_readme(copy: ServedCopy, **env: str) -> None:
    script, checks = instrument(readme_examples(), copy.url)
    (copy.dir / "readme-examples.sh").write_text(script)
    result = subprocess.run(
        ["bash", "readme-examples.sh"], cwd=copy.dir, env=copy.env(**env), capture_output=True, text=True, timeout=300
    )
    problems = mismatches(result.stdout, checks)
    assert result.returncode == 0 and not problems, (
        f"exit {result.returncode}\n" + "\n\n".join(problems) + f"\n--- stderr ---\n{result.stderr[-3000:]}"
        f"\n--- make run ---\n{copy.log()[-3000:]}"
    )


def _make_run_prints_what_the_readme_shows(copy: ServedCopy) -> None:
    text = README.read_text()
    shown = re.search(r"```\n\s*(Demo tenant ready:.*?)```", text, flags=re.S)
    assert shown, "README.md no longer shows what make run prints (Demo tenant ready: …)"
    shown = shown.group(1)
    shown = re.sub(r"ten_\w+|wfb_\S+", "…", shown).replace("127.0.0.1:8000", f"127.0.0.1:{copy.port}")
    pattern = re.compile("(?s)" + ".*?".join(re.escape(re.sub(r"\s+", "", p)) for p in shown.split("…")))
    printed = re.sub(r"\s+", "", copy.log())
    assert pattern.search(printed), f"make run printed:\n{copy.log()[-2000:]}\nREADME shows:\n{shown}"


def _log_has_no_alarming_lines(copy: ServedCopy) -> None:
    """What a new user would take for a fault: kombu's "No hostname", uvicorn's lifespan line,
    tracebacks, errors. (4xx warnings of django.request are the README's own bad requests.)"""
    alarming = [
        line
        for line in copy.log().splitlines()
        if any(word in line for word in ("No hostname", "lifespan", "Traceback", "ERROR", "CRITICAL"))
    ]
    assert alarming == [], "\n".join(alarming)


@pytest.mark.embedded
def test_the_readme_examples_run_as_written_on_the_embedded_default():
    copy = ServedCopy()
    try:
        copy.start()
        _make_run_prints_what_the_readme_shows(copy)
        run_readme(copy)
        assert copy.interrupt() == [], "Ctrl-C left processes of make run behind"
        _log_has_no_alarming_lines(copy)
    finally:
        copy.remove()


@pytest.mark.engine
@pytest.mark.django_db(transaction=True)
def test_the_readme_examples_run_as_written_on_postgresql_and_redis(settings):
    """The distributed shape: `make run` with DATABASE_URL (this test's database) and REDIS_URL:
    uvicorn, a Celery worker and beat as children. A private queue keeps other tests' workers out."""
    distributed = {
        "DATABASE_URL": subprocess_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "ORCHESTRATOR_TASK_QUEUE": private_queue(),
    }
    copy = ServedCopy(env=distributed)
    try:
        copy.start()
        run_readme(copy)
        assert copy.interrupt() == [], "Ctrl-C left processes of make run behind"
        _log_has_no_alarming_lines(copy)
    finally:
        copy.remove()
