"""Schedule phrases in English → a 5-field cron expression and an IANA timezone.

"every Monday at 9am" → ``0 9 * * 1``; "every weekday at 8:30" → ``30 8 * * 1-5``; "every 15
minutes" → ``*/15 * * * *``; "on the 1st of every month at 6pm" → ``0 18 1 * *``; "twice a day
at 9am and 5pm" → ``0 9,17 * * *``; "every Sunday at 10pm New York time" → ``0 22 * * 0`` in
America/New_York; "at noon on weekends" → ``0 12 * * 0,6``.

The text is scanned for parts (an interval, a frequency word, days of the week, days of the
month, months, times of day, an hour window, a minute past the hour, a timezone), each with
the span it covers; the parts are then put together. A schedule is only reported when the
text states a recurrence ("every", "daily", "on Mondays", "hourly", …): a bare time ("send
it at 5pm") is not one, nor a duration ("wait 2 hours"). Choices where English is vague:

- a day, week, month or year without a time starts at midnight (cron's ``@daily``…);
  "morning" alone is 09:00, "afternoon" 14:00, "evening" 18:00;
- "every week" without a day is Sunday (``@weekly``); "every month" without a day the 1st;
- "between 9 and 5" is 9 am to 5 pm: hours ``9-16`` for steps under an hour (nothing fires
  at 17:xx), ``9-17`` for hourly;
- "every 30 seconds" becomes every minute (cron's finest grain), with a note;
- several times with different minutes ("9:15 and 17:45") cannot share one cron: the first
  is kept, with a note.

Weekdays are numbered as cron does: Sunday 0 … Saturday 6.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from zoneinfo import available_timezones

DAYS = {
    "sunday": 0,
    "monday": 1,
    "tuesday": 2,
    "wednesday": 3,
    "thursday": 4,
    "friday": 5,
    "saturday": 6,
}
_DAY_ABBR = {"sun": 0, "mon": 1, "tue": 2, "tues": 2, "wed": 3, "thu": 4, "thur": 4, "thurs": 4, "fri": 5, "sat": 6}
MONTHS = {
    name: number
    for number, name in enumerate(
        "january february march april may june july august september october november december".split(), start=1
    )
}
_MONTH_ABBR = {name[:3]: number for name, number in MONTHS.items() if name != "may"}
_DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "tenth": 10,
    "fifteenth": 15,
    "twentieth": 20,
}
_NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "ten": 10,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty-five": 45,
    "a": 1,
    "an": 1,
}

# Abbreviations only count in upper case ("ET"), so that words such as "pt" or "est" do not.
TZ_ABBREVIATIONS = {
    "UTC": "UTC",
    "GMT": "Europe/London",
    "BST": "Europe/London",
    "ET": "America/New_York",
    "EST": "America/New_York",
    "EDT": "America/New_York",
    "CT": "America/Chicago",
    "CST": "America/Chicago",
    "CDT": "America/Chicago",
    "MT": "America/Denver",
    "MST": "America/Denver",
    "MDT": "America/Denver",
    "PT": "America/Los_Angeles",
    "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
    "CET": "Europe/Berlin",
    "CEST": "Europe/Berlin",
    "IST": "Asia/Kolkata",
    "JST": "Asia/Tokyo",
    "AEST": "Australia/Sydney",
    "AEDT": "Australia/Sydney",
    "SGT": "Asia/Singapore",
}
TZ_REGIONS = {
    "eastern": "America/New_York",
    "central": "America/Chicago",
    "mountain": "America/Denver",
    "pacific": "America/Los_Angeles",
    "uk": "Europe/London",
    "british": "Europe/London",
    "india": "Asia/Kolkata",
    "indian": "Asia/Kolkata",
    "japan": "Asia/Tokyo",
    "utc": "UTC",
    "gmt": "Europe/London",
    "san francisco": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "boston": "America/New_York",
    "washington": "America/New_York",
    "munich": "Europe/Berlin",
    "frankfurt": "Europe/Berlin",
    "beijing": "Asia/Shanghai",
    "bangalore": "Asia/Kolkata",
    "mumbai": "Asia/Kolkata",
    "delhi": "Asia/Kolkata",
}


@cache
def _cities() -> dict[str, str]:
    """ "new york" → America/New_York: the last part of every IANA name, in words."""
    cities: dict[str, str] = {}
    for name in sorted(_zones()):
        if "/" in name and not name.startswith(("Etc/", "SystemV/", "US/")):
            city = name.rsplit("/", 1)[1].replace("_", " ").lower()
            cities.setdefault(city, name)
    return {**cities, **TZ_REGIONS}


@dataclass
class Schedule:
    cron_expression: str
    timezone: str
    description: str
    spans: list[tuple[int, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"cron_expression": self.cron_expression, "timezone": self.timezone, "description": self.description}


@dataclass
class _Parts:
    interval: tuple[int, str] | None = None  # (n, "minute"|"hour"|"day"|"second"|"week"|"month")
    frequency: str | None = None  # "day", "week", "month", "year", "hour", "minute"
    part_of_day: str | None = None  # "morning", "afternoon", "evening", "night"
    times_per_day: int | None = None
    days: set[int] = field(default_factory=set)
    days_of_month: list[int] = field(default_factory=list)
    months: list[int] = field(default_factory=list)
    times: list[tuple[int, int, bool]] = field(default_factory=list)  # (hour, minute, has am/pm or 24 h)
    window: tuple[int, int] | None = None  # hours, end exclusive
    minute_of_hour: int | None = None
    timezone: str | None = None
    recurring: bool = False
    spans: list[tuple[int, int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


_NUM = r"(\d{1,3}|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
_DAY_WORD = r"(?:" + "|".join(list(DAYS) + sorted(_DAY_ABBR, key=len, reverse=True)) + r")"
_DAY_LIST = _DAY_WORD + r"s?(?:\s*(?:,|and|&|or|,\s*and)\s*" + _DAY_WORD + r"s?)*"
_TIME = (
    r"(?:(?P<h>\d{1,2})(?::(?P<m>\d{2}))?(?:\s*(?P<ampm>a\.?m\.?|p\.?m\.?))?(?:\s*o'?clock)?"
    r"(?:\s+in\s+the\s+(?P<pod>morning|afternoon|evening))?|(?P<word>noon|midnight|midday))"
)
_TIME_RE = re.compile(r"\b" + _TIME + r"(?![\w:/.-]*\w)", re.IGNORECASE)

_INTERVAL = re.compile(
    r"\b(?:every|each)\s+(?:(?P<n>" + _NUM[1:-1] + r")\s+)?(?:other\s+)?"
    r"(?P<unit>seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)\b",
    re.IGNORECASE,
)
_FREQUENCY = re.compile(
    r"\b(?P<word>hourly|daily|nightly|weekly|monthly|yearly|annually|quarterly)\b"
    r"|\b(?:every|each)\s+(?P<pod>morning|afternoon|evening|night)\b"
    r"|\b(?P<per>once|twice|three\s+times|four\s+times)\s+(?:a|per|each)\s+(?P<per_unit>day|week|month|hour)\b",
    re.IGNORECASE,
)
_WEEKDAYS = re.compile(
    r"\b(?:(?:every|each|on|on\s+all)\s+)?(?P<kind>week\s?days?|weekends?|business\s+days?|working\s+days?)"
    r"(?P<pod>\s+(?:morning|afternoon|evening|night)s?)?\b",
    re.IGNORECASE,
)
_DAY_RANGE = re.compile(
    r"\b(?:from\s+)?(?P<a>" + _DAY_WORD + r")(?:day)?\s*(?:-|–|to|through|thru|until)\s*(?P<b>" + _DAY_WORD + r")"
    r"(?:day)?\b",
    re.IGNORECASE,
)
_DAYS = re.compile(
    r"\b(?P<lead>every|each|on)?\s*(?P<list>" + _DAY_LIST + r")\b(?P<pod>\s+(?:morning|afternoon|evening|night)s?)?",
    re.IGNORECASE,
)
_DAY_OF_MONTH = re.compile(
    r"\b(?:on\s+)?(?:the\s+)?(?P<d>\d{1,2}(?:st|nd|rd|th)|" + "|".join(_ORDINALS) + r")"
    r"(?:\s+day)?\s+of\s+(?:every|each|the)\s+month\b"
    r"|\b(?:every|each)\s+month\s+on\s+the\s+(?P<d2>\d{1,2}(?:st|nd|rd|th)|" + "|".join(_ORDINALS) + r")\b"
    r"|\b(?:on\s+)?the\s+(?P<d3>\d{1,2}(?:st|nd|rd|th))\s+(?:of\s+)?(?:every|each)\s+month\b"
    r"|\bon\s+the\s+(?P<d4>\d{1,2}(?:st|nd|rd|th))\b(?!\s+(?:floor|place|time|attempt|try|step|of\s+\w+\s+(?!month)))",
    re.IGNORECASE,
)
_MONTH_DAY = re.compile(
    r"\b(?:on\s+)?(?P<month>"
    + "|".join(MONTHS)
    + r"|"
    + "|".join(_MONTH_ABBR)
    + r")\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?\b",
    re.IGNORECASE,
)
_LAST_DAY = re.compile(r"\blast\s+day\s+of\s+(?:every|each|the)\s+month\b", re.IGNORECASE)
_AT_TIMES = re.compile(
    r"\b(?:at|@)\s+(?P<first>" + _TIME.replace("?P<", "?P<a_") + r")"
    r"(?P<rest>(?:\s*(?:,|and|&)\s*(?:at\s+)?(?:\d{1,2}(?::\d{2})?\s*(?:a\.?m\.?|p\.?m\.?)?|noon|midnight))*)",
    re.IGNORECASE,
)
_BARE_TIMES = re.compile(
    r"\b(?P<t>\d{1,2}(?::\d{2})?\s*(?:a\.?m\.?|p\.?m\.?)|\d{1,2}:\d{2}|noon|midnight)"
    r"(?P<rest>(?:\s*(?:,|and|&)\s*(?:\d{1,2}(?::\d{2})?\s*(?:a\.?m\.?|p\.?m\.?)?|noon|midnight))*)",
    re.IGNORECASE,
)
_WINDOW = re.compile(
    r"\b(?:between|from)\s+(?P<a>\d{1,2}(?::00)?\s*(?:a\.?m\.?|p\.?m\.?)?)\s*(?:and|to|-|–|until)\s*"
    r"(?P<b>\d{1,2}(?::00)?\s*(?:a\.?m\.?|p\.?m\.?)?)(?!\s*(?:minutes?|hours?|days?|%))"
    r"|\b(?:during|in)\s+(?:business|working|office)\s+hours\b",
    re.IGNORECASE,
)
_MINUTE_OF_HOUR = re.compile(
    r"\bon\s+the\s+(?P<which>half\s+hour|hour|quarter\s+hour)\b"
    r"|\bat\s+(?P<m>\d{1,2})\s+(?:minutes\s+)?past(?:\s+(?:the|every|each)\s+hour)?\b"
    r"|\bat\s+:(?P<m2>\d{2})\b"
    r"|\b(?P<qp>quarter|half)\s+past\s+(?:the|every|each)\s+hour\b",
    re.IGNORECASE,
)
_TZ_IANA = re.compile(r"\b(?:[A-Z][A-Za-z_]+/[A-Z][A-Za-z_]+(?:/[A-Z][A-Za-z_]+)?)\b")
_TZ_ABBR = re.compile(r"\b(?:in\s+)?(" + "|".join(sorted(TZ_ABBREVIATIONS, key=len, reverse=True)) + r")\b")
_TZ_CITY = re.compile(r"\b(?:in\s+)?(?P<city>(?:[A-Za-z][A-Za-z.'-]*\s+){0,2}[A-Za-z][A-Za-z.'-]*)\s+time\b", re.I)


def _number(token: str) -> int:
    token = token.lower()
    return int(token) if token.isdigit() else _NUMBER_WORDS[token]


def _ordinal(token: str) -> int:
    token = token.lower()
    return _ORDINALS[token] if token in _ORDINALS else int(re.sub(r"\D", "", token))


def _day_number(token: str) -> int:
    token = token.lower().rstrip("s") if token.lower() not in ("tues", "thurs") else token.lower()
    if token in DAYS:
        return DAYS[token]
    for name, number in DAYS.items():  # "mondays" → "monday"
        if token.startswith(name):
            return number
    return _DAY_ABBR[token[:4]] if token[:4] in _DAY_ABBR else _DAY_ABBR[token[:3]]


def _clock(h: int, m: int, ampm: str | None, pod: str | None) -> tuple[int, int, bool]:
    """(hour, minute, explicit): am/pm and 24-hour times are explicit; "at 7" is not."""
    ampm = (ampm or "").replace(".", "").lower()
    if ampm == "pm" and h < 12:
        h += 12
    elif ampm == "am" and h == 12:
        h = 0
    elif not ampm and pod in ("afternoon", "evening") and 1 <= h < 12:
        h += 12
    elif not ampm and pod == "night" and 6 <= h < 12:
        h += 12
    return h, m, bool(ampm) or h >= 13 or (h == 0 and m == 0)


def _parse_time(text: str, pod: str | None = None) -> tuple[int, int, bool] | None:
    match = _TIME_RE.match(text.strip())
    if not match:
        return None
    if match.group("word"):
        return (12, 0, True) if match.group("word").lower() in ("noon", "midday") else (0, 0, True)
    h, m = int(match.group("h")), int(match.group("m") or 0)
    if h > 23 or m > 59:
        return None
    return _clock(h, m, match.group("ampm"), match.group("pod") or pod)


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.taken: list[tuple[int, int]] = []
        self.parts = _Parts()

    def free(self, start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in self.taken)

    def take(self, match: re.Match) -> None:
        self.taken.append(match.span())

    def finditer(self, pattern: re.Pattern, text: str | None = None):
        for match in pattern.finditer(self.text if text is None else text):
            if self.free(*match.span()):
                yield match


_OPAQUE = re.compile(r"https?://\S+|\b[\w.%+-]+@[\w.-]+\.[A-Za-z]{2,}\b|\{[^{}]*\}|\"[^\"]*\"")


def _scan(text: str) -> _Parts:
    # URLs, addresses, JSON and quotes are not schedule text ("…/nightly/status"); same length keeps spans true.
    text = _OPAQUE.sub(lambda m: " " * len(m.group(0)), text)
    scanner = _Scanner(text)
    parts = scanner.parts

    # Days of the month first: "every month on the 15th" is a day, not only an interval.
    for match in scanner.finditer(_LAST_DAY):
        parts.notes.append("Cron has no 'last day of the month'; the 28th is used.")
        parts.days_of_month.append(28)
        parts.recurring = True
        scanner.take(match)

    for match in scanner.finditer(_DAY_OF_MONTH):
        token = match.group("d") or match.group("d2") or match.group("d3") or match.group("d4")
        day = _ordinal(token)
        if 1 <= day <= 31:
            parts.days_of_month.append(day)
            parts.recurring = True
            scanner.take(match)

    for match in scanner.finditer(_MONTH_DAY):
        month_word = match.group("month").lower()
        day = int(match.group("d"))
        if month_word == "may" and not re.search(r"\b(?:on|every|each)\s+$", text[: match.start("month")], re.I):
            continue  # "may 5" after a modal is not a date unless "on/every May 5"
        if 1 <= day <= 31 and not (match.end() < len(text) and text[match.end() :].lstrip().startswith(":")):
            parts.months.append(MONTHS.get(month_word) or _MONTH_ABBR[month_word[:3]])
            parts.days_of_month.append(day)
            scanner.take(match)

    for match in scanner.finditer(_INTERVAL):
        n = _number(match.group("n")) if match.group("n") else 1
        unit = match.group("unit").lower()
        unit = {"sec": "second", "min": "minute", "hr": "hour"}.get(unit.rstrip("s"), unit.rstrip("s"))
        if "other" in match.group(0).lower():
            n = 2
        if n > 0 and parts.interval is None:
            parts.interval = (n, unit)
            parts.recurring = True
            scanner.take(match)

    for match in scanner.finditer(_FREQUENCY):
        before = text[: match.start()].rstrip().lower()
        if match.group("word") and re.search(r"\b(?:the|our|my|your|their|its|this|that|these|those)$", before):
            continue  # "the nightly build" names a thing; "a daily digest" still asks for one a day
        if match.group("word"):
            word = match.group("word").lower()
            parts.frequency = {
                "hourly": "hour",
                "daily": "day",
                "nightly": "day",
                "weekly": "week",
                "monthly": "month",
                "yearly": "year",
                "annually": "year",
                "quarterly": "quarter",
            }[word]
            if word == "nightly":
                parts.part_of_day = "night"
        elif match.group("pod"):
            parts.frequency = parts.frequency or "day"
            parts.part_of_day = match.group("pod").lower()
        else:
            count = {"once": 1, "twice": 2}.get(match.group("per").lower().split()[0], None)
            count = count or {"three": 3, "four": 4}[match.group("per").lower().split()[0]]
            parts.frequency = match.group("per_unit").lower()
            parts.times_per_day = count if parts.frequency == "day" else None
        parts.recurring = True
        scanner.take(match)

    for match in scanner.finditer(_WEEKDAYS):
        kind = match.group("kind").lower()
        parts.days |= {0, 6} if kind.startswith("weekend") else {1, 2, 3, 4, 5}
        if match.group("pod"):
            parts.part_of_day = match.group("pod").strip().lower().rstrip("s")
        parts.recurring = True
        scanner.take(match)

    for match in scanner.finditer(_DAY_RANGE):
        a, b = _day_number(match.group("a")), _day_number(match.group("b"))
        parts.days |= set(range(a, b + 1)) if a <= b else set(range(a, 7)) | set(range(0, b + 1))
        parts.recurring = True
        scanner.take(match)

    for match in scanner.finditer(_DAYS):
        names = re.findall(_DAY_WORD + r"s?", match.group("list"), re.IGNORECASE)
        parts.days |= {_day_number(name) for name in names}
        # "every Monday", "on Mondays", "Mondays": recurring; a lone "Monday" counts too (SPEC: "every Monday").
        parts.recurring = True
        if match.group("pod"):
            parts.part_of_day = match.group("pod").strip().lower().rstrip("s")
        scanner.take(match)

    for match in scanner.finditer(_MINUTE_OF_HOUR):
        which = (match.group("which") or "").lower()
        if which:
            parts.minute_of_hour = {"half hour": 30, "hour": 0, "quarter hour": 15}[re.sub(r"\s+", " ", which)]
        elif match.group("qp"):
            parts.minute_of_hour = 15 if match.group("qp").lower() == "quarter" else 30
        else:
            parts.minute_of_hour = int(match.group("m") or match.group("m2")) % 60
        scanner.take(match)

    for match in scanner.finditer(_WINDOW):
        if match.group("a") is None:
            parts.window = (9, 17)
        else:
            start, end = _parse_time(match.group("a")), _parse_time(match.group("b"))
            if start is None or end is None:
                continue
            a, b = start[0], end[0]
            if not end[2] and b <= a:
                b += 12
            if not (0 <= a < b <= 24):
                continue
            parts.window = (a, b)
        scanner.take(match)

    def add_times(first: str, rest: str, start: int, end: int, pod: str | None) -> bool:
        parsed = [_parse_time(first, pod)]
        parsed += [_parse_time(t, pod) for t in re.split(r"\s*(?:,|and|&)\s*(?:at\s+)?", rest) if t.strip()]
        if any(p is None for p in parsed):
            return False
        parts.times.extend(p for p in parsed if p is not None)
        scanner.taken.append((start, end))
        return True

    pod_here = parts.part_of_day
    for match in scanner.finditer(_AT_TIMES):
        following = text[match.end() : match.end() + 30].lower()
        if re.match(r"\s*(?:a\s+time|once|most|least|the\s+same)", following) or re.match(
            r"\s*(?:minutes?|hours?|seconds?|days?|%|items?|records?|at\s+a\s+time)\b", following
        ):
            continue
        pod = pod_here
        night = re.search(r"\b(night|evening|afternoon|morning)\b", text[max(0, match.start() - 40) : match.end() + 40])
        if night:
            pod = night.group(1).lower()
        add_times(match.group("first"), match.group("rest") or "", *match.span(), pod)

    for match in scanner.finditer(_BARE_TIMES):
        add_times(match.group("t"), match.group("rest") or "", *match.span(), pod_here)

    parts.timezone = _scan_timezone(scanner)
    parts.spans = sorted(scanner.taken)
    return parts


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())  # reads the zoneinfo tree: tens of ms, so once per process


def _scan_timezone(scanner: _Scanner) -> str | None:
    text = scanner.text
    zones = _zones()
    for match in scanner.finditer(_TZ_IANA):
        if match.group(0) in zones:
            scanner.take(match)
            return match.group(0)
    # The city may follow words already read as schedule ("every morning Sydney time"): blank those first.
    blanked = "".join(" " if not scanner.free(i, i + 1) else ch for i, ch in enumerate(text))
    for match in scanner.finditer(_TZ_CITY, blanked):
        words = match.group("city").split()
        # Longest city name first: "New York time" before "York time".
        for start in range(len(words)):
            candidate = " ".join(words[start:]).lower()
            zone = _cities().get(candidate)
            if zone:
                offset = match.group(0).lower().rfind(words[start].lower())
                scanner.taken.append((match.start() + offset, match.end()))
                return zone
    for match in scanner.finditer(_TZ_ABBR, text):
        scanner.take(match)
        return TZ_ABBREVIATIONS[match.group(1)]
    return None


def _field(values: list[int] | set[int], full: int) -> str:
    values = sorted(set(values))
    if len(values) == full:
        return "*"
    if len(values) >= 3 and values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}-{values[-1]}"
    return ",".join(map(str, values))


_DEFAULT_HOUR = {"morning": 9, "afternoon": 14, "evening": 18, "night": 0}


def _assemble(parts: _Parts) -> tuple[str, list[str]]:
    notes = list(parts.notes)
    minute, hour, dom, month, dow = "0", "0", "*", "*", "*"
    times = parts.times
    if times:
        minutes = sorted({m for _, m, _ in times})
        if len(minutes) > 1 and len({h for h, _, _ in times}) > 1:
            notes.append(
                f"One cron cannot fire at {', '.join(f'{h:02d}:{m:02d}' for h, m, _ in times)}; "
                f"kept {times[0][0]:02d}:{times[0][1]:02d}."
            )
            times = times[:1]
            minutes = [times[0][1]]
        minute = ",".join(map(str, minutes))
        hour = ",".join(map(str, sorted({h for h, _, _ in times})))
    elif parts.part_of_day:
        hour = str(_DEFAULT_HOUR[parts.part_of_day])
    elif parts.times_per_day and parts.times_per_day > 1:
        step = 24 // parts.times_per_day
        hour = ",".join(str(h) for h in range(0, 24, step))
    window = parts.window
    interval = parts.interval
    if interval is None and parts.frequency in ("hour", "minute"):
        interval = (1, parts.frequency)
    if interval:
        n, unit = interval
        if unit == "second":
            notes.append(f"Cron fires at most once a minute; 'every {n} seconds' became every minute.")
            unit, n = "minute", 1
        if unit == "minute" and n >= 60:
            if n % 60:
                notes.append(f"Cron cannot repeat every {n} minutes; every {max(1, round(n / 60))} hours instead.")
            unit, n = "hour", max(1, round(n / 60))
        if unit == "minute":
            minute = "*" if n == 1 else f"*/{n}"
            hour = f"{window[0]}-{window[1] - 1}" if window else "*"
        elif unit == "hour":
            minute = str(parts.minute_of_hour or 0) if not times else minute
            if window:
                hour = f"{window[0]}-{window[1]}" if n == 1 else f"{window[0]}-{window[1]}/{n}"
            else:
                hour = "*" if n == 1 else f"*/{n}"
        elif unit == "day":
            dom = "*" if n == 1 else f"*/{n}"
        elif unit == "week":
            if not parts.days:
                dow = "0"
            if n > 1:
                notes.append(f"Cron cannot count weeks; 'every {n} weeks' runs every week.")
        elif unit == "month":
            dom = _field(parts.days_of_month, 31) if parts.days_of_month else "1"
            if n > 1:
                month = f"*/{n}"
        elif unit == "year":
            dom = _field(parts.days_of_month, 31) if parts.days_of_month else "1"
            month = _field(parts.months, 12) if parts.months else "1"
    if parts.minute_of_hour is not None and not interval:
        minute = str(parts.minute_of_hour)
    if parts.frequency == "week" and not parts.days:
        dow = "0"
    if parts.frequency in ("month", "quarter") and not parts.days_of_month:
        dom = "1"
    if parts.frequency == "quarter":
        month = "1,4,7,10"
    if parts.frequency == "year":
        dom = _field(parts.days_of_month, 31) if parts.days_of_month else "1"
        month = _field(parts.months, 12) if parts.months else "1"
    if parts.days_of_month and dom == "*":
        dom = _field(parts.days_of_month, 31)
    if parts.months and month == "*":
        month = _field(parts.months, 12)
    if parts.days:
        dow = _field(parts.days, 7)
        if dow != "*" and "," in dow and sorted(parts.days) == [1, 2, 3, 4, 5]:
            dow = "1-5"
    if window and not interval and not times:
        hour = f"{window[0]}-{window[1]}"
    return f"{minute} {hour} {dom} {month} {dow}", notes


def describe(cron: str, timezone: str = "UTC") -> str:
    """A sentence for a cron of the shapes this module writes ("Every Monday at 09:00 (UTC)")."""
    minute, hour, dom, month, dow = cron.split()
    if minute.startswith("*/") or minute == "*":
        every = "every minute" if minute == "*" else f"every {minute[2:]} minutes"
        when = every + (f" between {hour.replace('-', ':00 and ')}:59" if hour != "*" else "")
    elif hour == "*" or hour.startswith("*/"):
        when = ("every hour" if hour == "*" else f"every {hour[2:]} hours") + f" at minute {minute}"
    else:
        hours = hour.split(",")
        if "-" in hour or "/" in hour:
            when = f"at minute {minute} of hours {hour}"
        else:
            when = "at " + " and ".join(f"{int(h):02d}:{int(minute.split(',')[0]):02d}" for h in hours)
    days = ""
    if dow == "1-5":
        days = "every weekday"
    elif dow == "0,6":
        days = "on weekends"
    elif dow != "*":
        names = []
        for part in dow.split(","):
            if "-" in part:
                a, b = part.split("-")
                names.append(f"{_DAY_NAMES[int(a) % 7]} to {_DAY_NAMES[int(b) % 7]}")
            else:
                names.append(_DAY_NAMES[int(part) % 7])
        days = "every " + ", ".join(names)
    if dom != "*":
        days = (
            (days + " and " if days else "")
            + f"on day {dom} of "
            + ("every month" if month == "*" else f"month {month}")
        )
    elif month != "*":
        days += f" in month {month}"
    if not days and not minute.startswith("*") and hour not in ("*",) and not hour.startswith("*/"):
        days = "every day"
    text = f"{days} {when}".strip() if days else when
    return f"{text[0].upper()}{text[1:]} ({timezone})"


def schedule_from_text(text: str) -> Schedule | None:
    """The schedule the text states, or None when it states none."""
    parts = _scan(text)
    if not parts.recurring:
        return None
    cron, notes = _assemble(parts)
    timezone = parts.timezone or "UTC"
    return Schedule(cron, timezone, describe(cron, timezone), parts.spans, notes)
