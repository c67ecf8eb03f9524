"""A held-out set of instructions, written after the rules parser was tuned on ``nl_corpus``
and committed before the parser was ever run on it. Its first-run accuracy is the honest
figure for sentences the parser was not shaped around (reported in the issue note); cases
are not edited to fit the parser. Same format as ``nl_corpus``."""

from __future__ import annotations

from tests.authoring.nl_corpus import EMAIL, NONSENSE, SLACK, Case

HOLDOUT: list[Case] = [
    Case(
        "Every Wednesday at 11:30, grab https://api.example.com/stock and mail it to ops@example.com",
        ["http_request", EMAIL],
        "30 11 * * 3",
    ),
    Case(
        "Each weekday at 7pm, summarise https://intranet.example.com/changes for #leadership",
        ["http_request", "agent_task", SLACK],
        "0 19 * * 1-5",
    ),
    Case("Every 20 minutes hit https://api.example.com/heartbeat", ["http_request"], "*/20 * * * *"),
    Case(
        "Every Saturday at 8 in the morning send the weekly backup from https://db.example.com/dump to "
        "https://store.example.com/backups",
        ["http_request", "http_request"],
        "0 8 * * 6",
    ),
    Case(
        "Monthly, on the 3rd at 10am, email a usage report to billing@example.com", ["agent_task", EMAIL], "0 10 3 * *"
    ),
    Case(
        "every 4 hours check https://api.example.com/certs and if any expire within 7 days alert #security",
        ["http_request", "condition", SLACK],
        "0 */4 * * *",
    ),
    Case(
        "At 6:00 every morning Sydney time, fetch https://api.example.com/au/orders and post them to #au-sales",
        ["http_request", SLACK],
        "0 6 * * *",
        "Australia/Sydney",
    ),
    Case(
        "Every Thursday at 3pm Pacific time, post a reminder to #design about the review",
        [SLACK],
        "0 15 * * 4",
        "America/Los_Angeles",
    ),
    Case(
        "Get the forecast from https://weather.example.com/api and write a short poem about it",
        ["http_request", "agent_task"],
    ),
    Case(
        "Pull https://api.example.com/invoices, keep only the unpaid ones, and send them to collections@example.com",
        ["http_request", "transform", EMAIL],
    ),
    Case("Summarize the incident timeline and share it on Slack in #incidents", ["agent_task", SLACK]),
    Case('Send a PUT request to https://api.example.com/config with {"mode": "maintenance"}', ["http_request"]),
    Case(
        "Notify #builds that the nightly build is starting, wait 45 minutes, then check "
        "https://ci.example.com/nightly/status",
        [SLACK, "wait", "http_request"],
    ),
    Case(
        "Check https://shop.example.com/api/health and if it fails page oncall@example.com",
        ["http_request", "condition", EMAIL],
    ),
    Case(
        "If the temperature from https://sensors.example.com/t1 is above 30, post a warning to #facilities",
        ["http_request", "condition", SLACK],
    ),
    Case("For each email address in the input, send a newsletter", ["loop>" + EMAIL]),
    Case(
        "Go through each product from https://shop.example.com/products and POST it to "
        "https://search.example.com/index",
        ["http_request", "loop>http_request"],
    ),
    Case("Wait 1 day, then email follow-up@example.com a reminder", ["wait", EMAIL]),
    Case(
        "Ask for approval on #finance, then pay the invoice with stripe.create_payment",
        [SLACK, "wait", "integration:stripe.create_payment"],
        tools=("stripe.create_payment",),
    ),
    Case(
        "Find new orders in Shopify and post each one to #orders",
        ["integration:shopify.list_orders", "loop>" + SLACK],
        tools=("shopify.list_orders",),
    ),
    Case("Translate the announcement into Spanish and German and email it to intl@example.com", ["agent_task", EMAIL]),
    Case(
        "Classify the feedback from https://forms.example.com/responses and send the results to "
        "https://analytics.example.com/ingest",
        ["http_request", "agent_task", "http_request"],
    ),
    Case("Post 'deploy finished' to #eng", [SLACK]),
    Case("Every day at 9, fetch the exchange rates from https://fx.example.com/latest", ["http_request"], "0 9 * * *"),
    Case(
        "Count the open tickets from https://help.example.com/api/tickets and post the number to #support",
        ["http_request", "transform", SLACK],
    ),
    Case("When the nightly job fails, email the on-call engineer at oncall@example.com", ["condition", EMAIL]),
    Case("please do the thing", NONSENSE),
    Case("workflow workflow workflow", NONSENSE),
    Case("what is the weather like", NONSENSE),
    Case("12345 67890", NONSENSE),
]
