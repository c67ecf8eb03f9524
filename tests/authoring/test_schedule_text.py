"""Schedule phrases → cron and timezone (orchestrator/authoring/schedule_text.py)."""

from __future__ import annotations

import pytest
from croniter import croniter

from orchestrator.authoring.schedule_text import schedule_from_text


@pytest.mark.parametrize(
    "text, cron, timezone",
    [
        # The phrases of issue 13.
        ("every Monday at 9am", "0 9 * * 1", "UTC"),
        ("every weekday at 8:30", "30 8 * * 1-5", "UTC"),
        ("every 15 minutes", "*/15 * * * *", "UTC"),
        ("hourly", "0 * * * *", "UTC"),
        ("daily at midnight", "0 0 * * *", "UTC"),
        ("on the 1st of every month at 6pm", "0 18 1 * *", "UTC"),
        ("twice a day at 9am and 5pm", "0 9,17 * * *", "UTC"),
        ("every Sunday at 10pm New York time", "0 22 * * 0", "America/New_York"),
        ("at noon on weekends", "0 12 * * 0,6", "UTC"),
        # More.
        ("every day at 7:45 pm", "45 19 * * *", "UTC"),
        ("every 2 hours", "0 */2 * * *", "UTC"),
        ("every hour on the half hour", "30 * * * *", "UTC"),
        ("every Tuesday and Thursday at 14:00 Tokyo time", "0 14 * * 2,4", "Asia/Tokyo"),
        ("Monday to Friday at 6 in the morning", "0 6 * * 1-5", "UTC"),
        ("every day at 9 ET", "0 9 * * *", "America/New_York"),
        ("every morning at 7 in Europe/Madrid", "0 7 * * *", "Europe/Madrid"),
        ("every year on January 1st at midnight", "0 0 1 1 *", "UTC"),
        ("every 10 minutes between 9 and 5 on weekdays", "*/10 9-16 * * 1-5", "UTC"),
        ("every hour from 9 to 5", "0 9-17 * * *", "UTC"),
        ("weekly", "0 0 * * 0", "UTC"),
        ("monthly, on the 3rd at 10am", "0 10 3 * *", "UTC"),
        ("every evening", "0 18 * * *", "UTC"),
    ],
)
def test_schedule_phrases_become_cron(text, cron, timezone):
    schedule = schedule_from_text(text)
    assert schedule is not None
    assert (schedule.cron_expression, schedule.timezone) == (cron, timezone)
    assert croniter.is_valid(schedule.cron_expression)
    assert schedule.description


@pytest.mark.parametrize(
    "text",
    [
        "send it at 5pm",
        "wait 2 hours then email ops@example.com",
        "for each customer send a welcome email",
        "post the daily report to #team",  # "the daily report" names a thing
        "check https://ci.example.com/nightly/status",  # words inside a URL are not schedule words
        "process at most 5 at a time",
    ],
)
def test_no_schedule_unless_one_is_stated(text):
    assert schedule_from_text(text) is None


def test_what_cron_cannot_say_is_said_in_a_note():
    schedule = schedule_from_text("every 30 seconds")
    assert schedule.cron_expression == "* * * * *"
    assert "every minute" in schedule.notes[0]
    schedule = schedule_from_text("every day at 9:15 and 17:45")
    assert schedule.cron_expression == "15 9 * * *" and "kept 09:15" in schedule.notes[0]


def test_the_spans_cover_the_schedule_words():
    text = "Every Monday at 9am, pull the sales data"
    schedule = schedule_from_text(text)
    left = "".join(ch for i, ch in enumerate(text) if not any(a <= i < b for a, b in schedule.spans))
    assert "Monday" not in left and "9am" not in left and "pull the sales data" in left
