"""Path converters: ``<id:workflow_id>`` matches only what ``orchestrator.ids`` can make, and
``<version:v>`` only a number PostgreSQL's integer holds. Anything else never reaches a view:
the path falls through to the JSON 404 (an ID with a NUL or 40 digits cannot exist, and
looking it up was a 500)."""

from __future__ import annotations

from django.urls import register_converter

from orchestrator.ids import _ALPHABET

# "wf_01jd3k…": a lower-case prefix, "_", then Crockford base32 (ULID layout); 40 characters
# at most, the columns' length.
ID_PATTERN = rf"[a-z]{{1,8}}_[{_ALPHABET}]{{1,31}}"
VERSION_MAX = 2_147_483_647


class IdConverter:
    regex = ID_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class VersionConverter:
    """A version number: 1 to 2,147,483,647 (the column is a PostgreSQL integer)."""

    regex = "[0-9]{1,10}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= VERSION_MAX:
            raise ValueError(f"{value} is not a version number")  # a ValueError means "no match"
        return number

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")
register_converter(VersionConverter, "version")


class RefConverter:
    """An ID or a slug (a built-in template is addressed by either): letters, digits, '_' and '-'."""

    regex = "[A-Za-z0-9_-]{1,100}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(RefConverter, "ref")
