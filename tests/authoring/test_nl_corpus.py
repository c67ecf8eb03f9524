"""The natural-language corpus (nl_corpus, written before the parser) and the held-out set
(nl_holdout, written after it) through workflow_parse: each instruction gives the expected
steps and schedule, and what it gives always validates and is accepted by POST /api/workflows."""

from __future__ import annotations

import pytest

from orchestrator.authoring.parse import workflow_parse
from orchestrator.authoring.rules import NotUnderstood
from orchestrator.definitions import definition_errors, definition_normalize
from tests.authoring.nl_corpus import CORPUS, NONSENSE, Case
from tests.authoring.nl_holdout import HOLDOUT

pytestmark = pytest.mark.django_db


def kinds(steps: list[dict]) -> list[str]:
    found = []
    for step in steps:
        if step["type"] == "loop":
            inner = step["config"]["step"]
            found.append("loop>" + kinds([{"type": inner["type"], "config": inner.get("config", {})}])[0])
        elif step["type"] == "integration":
            found.append(f"integration:{step['config']['action']}")
        else:
            found.append(step["type"])
    return found


def outcome(tenant, case: Case) -> tuple[object, tuple[str | None, str], dict | None]:
    try:
        workflow = workflow_parse(
            tenant=tenant, instruction=case.instruction, context={"availableTools": list(case.tools)}
        )["workflow"]
    except NotUnderstood:
        return NONSENSE, (None, "UTC"), None
    got = f"TEMPLATE:{workflow['template_slug']}" if workflow["source"] == "template" else kinds(workflow["steps"])
    schedule = workflow.get("schedule")
    return got, ((schedule["cron_expression"], schedule["timezone"]) if schedule else (None, "UTC")), workflow


def _check(tenant, case: Case) -> None:
    got, cron, workflow = outcome(tenant, case)
    assert got == case.steps
    if case.steps != NONSENSE:
        assert cron == (case.cron, case.timezone if case.cron else "UTC")
        assert workflow["valid"] is True and 0 <= workflow["confidence"] <= 1
        assert definition_errors(definition_normalize(workflow)) == []


@pytest.mark.parametrize("case", CORPUS, ids=[c.instruction[:60] for c in CORPUS])
def test_corpus(tenant, case):
    _check(tenant, case)


@pytest.mark.parametrize("case", HOLDOUT, ids=[c.instruction[:60] for c in HOLDOUT])
def test_holdout(tenant, case):
    _check(tenant, case)


def test_the_corpus_covers_every_kind_the_issue_names():
    assert len(CORPUS) >= 60
    text = " ".join(c.instruction.lower() for c in CORPUS)
    for word in ("every", "if ", "unless", "for each", "wait", "otherwise"):
        assert word in text
    assert sum(1 for c in CORPUS if c.steps == NONSENSE) >= 5
    assert sum(1 for c in CORPUS if c.tools) >= 5
    assert sum(1 for c in CORPUS if isinstance(c.steps, str) and c.steps.startswith("TEMPLATE")) >= 5


def test_created_workflows_from_the_corpus_are_accepted_by_the_api(api_client):
    for case in CORPUS[:40]:
        response = api_client.post(
            "/api/workflows/parse",
            {"instruction": case.instruction, "context": {"availableTools": list(case.tools)}},
            format="json",
        )
        if response.status_code == 422:
            continue
        workflow = response.json()["workflow"]
        workflow["name"] = f"{workflow['name']} {CORPUS.index(case)}"[:200]
        created = api_client.post("/api/workflows", {"definition": workflow}, format="json")
        assert created.status_code == 201, (case.instruction, created.content)
