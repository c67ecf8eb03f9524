"""The natural-language corpus for ``POST /api/workflows/parse``, written before the rules
parser was tuned (issue 13). Each case: the instruction, the tools the caller offers, the
expected 5-field cron (``None``: no schedule may appear) and timezone, and the expected
steps in order.

Steps are written ``type`` or ``integration:<action>``; a loop is ``loop>`` followed by its
inner step. ``TEMPLATE:<slug>`` expects the template source to pick that built-in;
``NONSENSE`` expects a 422 (nothing to build).

Expectations are what a person reading the sentence would build, not what the parser
happens to do; a case the parser gets wrong stays wrong here and counts against its accuracy.
"""

from __future__ import annotations

from typing import NamedTuple


class Case(NamedTuple):
    instruction: str
    steps: list[str] | str  # list of step kinds, "TEMPLATE:<slug>" or "NONSENSE"
    cron: str | None = None
    timezone: str = "UTC"
    tools: tuple[str, ...] = ()


SLACK = "integration:slack.post_message"
EMAIL = "integration:email.send"
NONSENSE = "NONSENSE"

CORPUS: list[Case] = [
    # --- schedules + chains ---------------------------------------------------------
    Case(
        "Every Monday at 9am, pull the latest sales data, generate a summary report, and email it to the sales team.",
        ["integration:salesforce.query", "agent_task", "integration:email.send"],
        "0 9 * * 1",
        tools=("salesforce.query", "email.send"),
    ),
    Case(
        "Every weekday at 8:30 fetch https://api.example.com/orders and post a summary to #ops",
        ["http_request", "agent_task", SLACK],
        "30 8 * * 1-5",
    ),
    Case(
        "Every 15 minutes, check https://status.example.com/health and alert #oncall on Slack if it is down",
        ["http_request", "condition", SLACK],
        "*/15 * * * *",
    ),
    Case(
        "Hourly, GET https://api.example.com/metrics and send the result to https://hooks.example.com/ingest",
        ["http_request", "http_request"],
        "0 * * * *",
    ),
    Case(
        "Daily at midnight, export https://api.example.com/users and email the list to admin@example.com",
        ["http_request", EMAIL],
        "0 0 * * *",
    ),
    Case(
        "On the 1st of every month at 6pm, generate an invoice summary from https://billing.example.com/invoices "
        "and email it to finance@example.com",
        ["http_request", "agent_task", EMAIL],
        "0 18 1 * *",
    ),
    Case(
        "Twice a day at 9am and 5pm, fetch https://api.example.com/tickets and summarize them in #support",
        ["http_request", "agent_task", SLACK],
        "0 9,17 * * *",
    ),
    Case(
        "Every Sunday at 10pm New York time, back up https://db.example.com/export to https://backup.example.com/upload",
        ["http_request", "http_request"],
        "0 22 * * 0",
        "America/New_York",
    ),
    Case(
        "At noon on weekends, post the weather from https://weather.example.com/today to #random",
        ["http_request", SLACK],
        "0 12 * * 0,6",
    ),
    Case("Every 5 minutes ping https://example.com", ["http_request"], "*/5 * * * *"),
    Case(
        "Every day at 7:45 am summarize the news from https://news.example.com/feed.json and email it to me@example.com",
        ["http_request", "agent_task", EMAIL],
        "45 7 * * *",
    ),
    Case("Every Friday at 4:30pm send a weekly report to #team", ["agent_task", SLACK], "30 16 * * 5"),
    Case(
        "every 2 hours fetch https://api.example.com/queue and if the backlog is over 100 post to #alerts",
        ["http_request", "condition", SLACK],
        "0 */2 * * *",
    ),
    Case(
        "Every weekday at 6 in the morning, pull open tickets with jira.search and post them to #standup",
        ["integration:jira.search", SLACK],
        "0 6 * * 1-5",
        tools=("jira.search",),
    ),
    Case("Run at 3:15 every night: call https://api.example.com/cleanup with POST", ["http_request"], "15 3 * * *"),
    Case(
        "Every month on the 15th at 09:00 London time, email the payroll report to hr@example.com",
        [EMAIL],
        "0 9 15 * *",
        "Europe/London",
    ),
    Case("Every 30 seconds check https://api.example.com/ping", ["http_request"], "* * * * *"),
    Case(
        "Every Tuesday and Thursday at 2pm Tokyo time fetch https://api.example.com/jp/sales and post to #japan",
        ["http_request", SLACK],
        "0 14 * * 2,4",
        "Asia/Tokyo",
    ),
    Case(
        "On weekdays at 17:00 Berlin time, remind #eng to fill in timesheets", [SLACK], "0 17 * * 1-5", "Europe/Berlin"
    ),
    Case("Every minute, poll https://api.example.com/jobs/pending", ["http_request"], "* * * * *"),
    Case("daily at 23:59 archive https://api.example.com/logs", ["http_request"], "59 23 * * *"),
    Case(
        "every morning at 7, fetch the weather for Paris from https://weather.example.com/paris and send it to "
        "#paris via slack",
        ["http_request", SLACK],
        "0 7 * * *",
    ),
    Case(
        "Every hour on the half hour, sync https://a.example.com/items to https://b.example.com/items",
        ["http_request", "http_request"],
        "30 * * * *",
    ),
    Case("Every year on January 1st at midnight, send happy new year to #general", [SLACK], "0 0 1 1 *"),
    Case(
        "Every 10 minutes between 9 and 5 on weekdays, check the queue at https://api.example.com/queue",
        ["http_request"],
        "*/10 9-16 * * 1-5",
    ),
    Case("every monday, wednesday and friday at 10:00 post the standup link to #standup", [SLACK], "0 10 * * 1,3,5"),
    Case(
        "at 5pm every day generate a summary of https://api.example.com/events and send it to "
        "https://hooks.slack.com/services/T000/B000/XXX",
        ["http_request", "agent_task", "http_request"],
        "0 17 * * *",
    ),
    Case(
        "Every weekday morning at 9 collect the open PRs from https://api.github.com/repos/acme/app/pulls and post a "
        "summary to #dev",
        ["http_request", "agent_task", SLACK],
        "0 9 * * 1-5",
    ),
    Case("Send a POST request to https://api.example.com/refresh every 6 hours", ["http_request"], "0 */6 * * *"),
    Case("Each night at 2 am, run the cleanup at https://api.example.com/cleanup", ["http_request"], "0 2 * * *"),
    # --- chains without a schedule -----------------------------------------------------
    Case(
        "Fetch https://api.example.com/data, summarize it, and post the summary to #general",
        ["http_request", "agent_task", SLACK],
    ),
    Case(
        "Download https://example.com/report.json, extract the totals, and email them to cfo@example.com",
        ["http_request", "transform", EMAIL],
    ),
    Case(
        "Translate the text from https://example.com/article into French and post it to https://cms.example.com/articles",
        ["http_request", "agent_task", "http_request"],
    ),
    Case("Classify the incoming support ticket and post it to #triage", ["agent_task", SLACK]),
    Case(
        "Take the list of users from https://api.example.com/users, filter the active ones, and send them to "
        "https://crm.example.com/import",
        ["http_request", "transform", "http_request"],
    ),
    Case(
        "Call https://api.example.com/deploy with POST, then wait 10 minutes, then check "
        "https://api.example.com/deploy/status",
        ["http_request", "wait", "http_request"],
    ),
    Case(
        "Analyze the sentiment of the reviews at https://shop.example.com/reviews and email the results to "
        "marketing@example.com",
        ["http_request", "agent_task", EMAIL],
    ),
    Case(
        "Generate a report of yesterday's sales with salesforce.query and post it to #sales",
        ["integration:salesforce.query", "agent_task", SLACK],
        tools=("salesforce.query",),
    ),
    Case("Send a message to #deployments saying the release is live", [SLACK]),
    Case("Email alice@example.com and bob@example.com that the build failed", [EMAIL]),
    Case('Post {"status": "ok"} to https://hooks.example.com/status', ["http_request"]),
    Case(
        "Get the open issues from https://api.github.com/repos/acme/app/issues, classify them, and post a digest "
        "to #github",
        ["http_request", "agent_task", SLACK],
    ),
    # --- conditions -------------------------------------------------------------------------
    Case(
        "If the order total from https://shop.example.com/orders/latest is over 1000, notify #sales, otherwise do "
        "nothing",
        ["http_request", "condition", SLACK],
    ),
    Case(
        "Check https://api.example.com/health; if it returns an error, email oncall@example.com, else post "
        "'all good' to #status",
        ["http_request", "condition", EMAIL, SLACK],
    ),
    Case(
        "Unless the backup at https://backup.example.com/last succeeded, alert #ops",
        ["http_request", "condition", SLACK],
    ),
    Case("When a deployment fails, post to #deployments", ["condition", SLACK]),
    Case(
        "If the input amount is greater than 500, ask for approval, then call https://api.example.com/payouts",
        ["condition", "wait", "http_request"],
    ),
    # --- loops ------------------------------------------------------------------------------
    Case(
        "For each customer in https://api.example.com/customers, send a welcome email",
        ["http_request", "loop>" + EMAIL],
    ),
    Case("For each URL in the input, fetch it, then summarize the results", ["loop>http_request", "agent_task"]),
    Case(
        "Loop over the repositories from https://api.github.com/orgs/acme/repos and post each name to #repos",
        ["http_request", "loop>" + SLACK],
    ),
    Case(
        "For every order in the input, POST it to https://erp.example.com/orders with at most 5 at a time",
        ["loop>http_request"],
    ),
    # --- waits ------------------------------------------------------------------------------
    Case("Wait 2 hours then email reminder@example.com", ["wait", EMAIL]),
    Case(
        "Post the draft to #review, wait for approval, then publish it to https://cms.example.com/publish",
        [SLACK, "wait", "http_request"],
    ),
    Case(
        "Call https://a.example.com/start, wait 30 seconds, then call https://a.example.com/finish",
        ["http_request", "wait", "http_request"],
    ),
    Case(
        "Email the contract to legal@example.com, wait for their signature, then notify #sales", [EMAIL, "wait", SLACK]
    ),
    # --- tools from context -------------------------------------------------------------------
    Case(
        "Pull the latest sales data and email it to the team",
        ["integration:salesforce.query", EMAIL],
        tools=("salesforce.query", "email.send"),
    ),
    Case(
        "Create a Jira ticket for every failed payment from https://pay.example.com/failures",
        ["http_request", "loop>integration:jira.create_issue"],
        tools=("jira.create_issue",),
    ),
    Case(
        "Look up the customer in HubSpot and send them a thank-you email",
        ["integration:hubspot.get_contact", EMAIL],
        tools=("hubspot.get_contact", "email.send"),
    ),
    Case(
        "Query the warehouse for yesterday's signups and post the count to #growth",
        ["integration:snowflake.query", SLACK],
        tools=("snowflake.query",),
    ),
    Case(
        "Search GitHub issues labeled bug and summarize them",
        ["integration:github.search_issues", "agent_task"],
        tools=("github.search_issues",),
    ),
    # --- templates ------------------------------------------------------------------------------
    Case("Set up an uptime check for https://example.com with a Slack alert", "TEMPLATE:uptime-check"),
    Case("GitHub issues triage", "TEMPLATE:github-issue-triage"),
    Case("I need a human approval step with a timeout", "TEMPLATE:approval-with-timeout"),
    Case("A daily digest summarized by an LLM", "TEMPLATE:daily-llm-digest", "0 0 * * *"),
    Case("Retrying webhook delivery with a dead-letter step", "TEMPLATE:webhook-delivery-dead-letter"),
    Case("Fan out over a list of URLs with a concurrency cap", "TEMPLATE:fan-out-concurrency"),
    # --- nonsense -----------------------------------------------------------------------------
    Case("asdfgh qwerty zxcvb", NONSENSE),
    Case("hello there", NONSENSE),
    Case("The quick brown fox jumps over the lazy dog", NONSENSE),
    Case("lorem ipsum dolor sit amet", NONSENSE),
    Case("???!!!...", NONSENSE),
    Case("make it better", NONSENSE),
    Case("banana", NONSENSE),
]
