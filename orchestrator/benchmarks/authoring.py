"""Authoring speed: ``POST /api/workflows/parse``'s rules path (template matching included, no
model), p50 and p95 over a set of instructions of every kind, several rounds (target p95 < 50 ms).

Runs the service in this process against the configured database (the template library is read
from it) for a tenant that has no llm integration; it writes nothing.
"""

from __future__ import annotations

import statistics
import time

from orchestrator.benchmarks import Measurement

TARGET_P95_SECONDS = 0.050
ROUNDS = 5
INSTRUCTIONS = [
    ("Every Monday at 9am, pull the latest sales data, generate a summary report, and email it to the sales team.",
     ["salesforce.query", "email.send"]),
    ("Every weekday at 8:30 fetch https://api.example.com/orders and post a summary to #ops", []),
    ("Every 15 minutes, check https://status.example.com/health and alert #oncall on Slack if it is down", []),
    ("On the 1st of every month at 6pm, generate an invoice summary from https://billing.example.com/invoices "
     "and email it to finance@example.com", []),
    ("Twice a day at 9am and 5pm, fetch https://api.example.com/tickets and summarize them in #support", []),
    ("Every Sunday at 10pm New York time, back up https://db.example.com/export to https://backup.example.com/up", []),
    ("Download https://example.com/report.json, extract the totals, and email them to cfo@example.com", []),
    ("Check https://api.example.com/health; if it returns an error, email oncall@example.com, else post "
     "'all good' to #status", []),
    ("For each customer in https://api.example.com/customers, send a welcome email", []),
    ("Post the draft to #review, wait for approval, then publish it to https://cms.example.com/publish", []),
    ("Create a Jira ticket for every failed payment from https://pay.example.com/failures", ["jira.create_issue"]),
    ("Set up an uptime check for https://example.com with a Slack alert", []),
    ("Every 10 minutes between 9 and 5 on weekdays, check the queue at https://api.example.com/queue", []),
    ("Create a workflow that scrapes a URL and summarizes the content", []),
    ("lorem ipsum dolor sit amet", []),
]  # fmt: skip


def run() -> list[Measurement]:
    from orchestrator.authoring.parse import workflow_parse
    from orchestrator.authoring.rules import NotUnderstood
    from orchestrator.models import Tenant

    tenant = Tenant(id="ten_benchmark_authoring", name="benchmark")  # never saved: no llm integration, no templates
    timings: list[float] = []
    started_cpu = time.process_time()
    for round_number in range(ROUNDS + 1):
        for instruction, tools in INSTRUCTIONS:
            started = time.perf_counter()
            try:
                workflow_parse(tenant=tenant, instruction=instruction, context={"availableTools": tools})
            except NotUnderstood:
                pass
            if round_number:  # the first round warms caches (the zone list, template vocabularies)
                timings.append(time.perf_counter() - started)
    cpu = (time.process_time() - started_cpu) / max(1, len(timings))
    timings.sort()
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    return [
        Measurement(
            "parse_rules_p95",
            f"parse (rules path), p95 of {len(timings)}",
            p95,
            runs=len(timings),
            target_seconds=TARGET_P95_SECONDS,
            unit="ms",
        ),
        Measurement(
            "parse_rules_p50",
            f"parse (rules path), p50 of {len(timings)}",
            statistics.median(timings),
            runs=len(timings),
            cpu_seconds=cpu,
            unit="ms",
        ),
    ]
