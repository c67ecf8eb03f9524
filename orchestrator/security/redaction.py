"""Masks secrets in anything shown to people: step inputs, logs, errors.

Known secret values (an integration's, passed as ``secrets``) are masked in every form a
server may echo them in, not just as written: any letter case, hex (either case), percent-
and JSON-escaped, and base64 (standard and URL-safe, padded or not) on its own or inside a
longer base64 text such as ``Bearer <token>`` or ``<user>:<token>`` (``_base64_cores``).
The forms of one set of secrets are computed once (cached) and searched with ``find``.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "[REDACTED]"
# Whole key names (optionally prefixed, "x-api-key", "access_token"), so "prompt_tokens" stays visible.
_SECRET_KEY = re.compile(
    r"(?:.*[-_])?(authorization|password|passwd|secret|token|api[-_]?key|apikey|access[-_]?key|private[-_]?key"
    r"|cookie|set-cookie|signature|credentials?)",
    re.IGNORECASE,
)
_SECRET_TEXT = [
    re.compile(r"\bwfb_[A-Za-z0-9]{8,}"),
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\bxox[abpr]-[A-Za-z0-9-]{8,}"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{12,}"),
]


# Shorter values are not masked: they would mask ordinary text.
MIN_SECRET_LENGTH = 4


def _base64_cores(raw: bytes) -> set[bytes]:
    """The base64 text ``raw`` becomes wherever it sits in longer data: at each of the three byte
    offsets, the characters that depend on ``raw``'s bytes only (standard and URL-safe alphabets)."""
    cores = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw).rstrip(b"=")
        start, end = -(-shift * 8 // 6), (shift + len(raw)) * 8 // 6
        core = encoded[start:end]
        if len(core) >= MIN_SECRET_LENGTH:
            cores |= {core, core.translate(bytes.maketrans(b"+/", b"-_"))}
    return cores


def _forms(secret: str) -> tuple[set[str], set[str]]:
    """(forms matched in any letter case, base64 forms matched exactly) of one secret."""
    raw = secret.encode()
    caseless = {secret, secret.upper(), secret.lower(), raw.hex()}
    caseless |= {quote(secret, safe=""), quote_plus(secret, safe=""), json.dumps(secret)[1:-1]}
    exact = {core.decode() for core in _base64_cores(raw)}
    for text in (raw, b"Bearer " + raw, b"Basic " + raw):
        for encoded in (base64.b64encode(text).decode(), base64.urlsafe_b64encode(text).decode()):
            exact |= {encoded, encoded.rstrip("=")}
    return caseless, exact


class _Masker:
    """Every form of a set of secrets, searched with ``find`` (much faster than a regex alternation
    of a hundred literals): the caseless forms in the lower-cased text, the base64 ones as they are."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        caseless: set[str] = set()
        exact: set[str] = set()
        for secret in secrets:
            if secret and len(secret) >= MIN_SECRET_LENGTH:
                more_caseless, more_exact = _forms(secret)
                caseless |= more_caseless
                exact |= more_exact
        self.empty = not caseless
        self.caseless = sorted({f.lower() for f in caseless})
        self.exact = sorted(exact - caseless)
        # bytes.lower() folds ASCII only: keep each caseless form's cases apart, folded the same way.
        self.caseless_bytes = sorted({f.encode().lower() for f in caseless})
        self.exact_bytes = [f.encode() for f in self.exact]
        # For text whose lower-casing changes its length (rare Unicode), one case-insensitive regex.
        self.fallback = re.compile(
            "|".join(f"(?i:{re.escape(f)})" for f in sorted(caseless, key=len, reverse=True))
            + "".join(f"|{re.escape(f)}" for f in self.exact)
        )

    @staticmethod
    def _spans(haystack, needles, spans: list) -> None:
        for needle in needles:
            at = haystack.find(needle)
            while at != -1:
                spans.append((at, at + len(needle)))
                at = haystack.find(needle, at + 1)

    @staticmethod
    def _masked(value, spans: list, mask):
        if not spans:
            return value
        spans.sort()
        pieces, end = [], 0
        for start, stop in spans:
            if start > end:
                pieces += [value[end:start], mask]
            elif not pieces:
                pieces.append(mask)
            end = max(end, stop)
        pieces.append(value[end:])
        return value[:0].join(pieces)

    def text(self, text: str) -> str:
        lowered = text.lower()
        if len(lowered) != len(text):
            return self.fallback.sub(MASK, text)
        spans: list[tuple[int, int]] = []
        self._spans(lowered, self.caseless, spans)
        self._spans(text, self.exact, spans)
        return self._masked(text, spans, MASK)

    def bytes(self, content: bytes) -> bytes:
        spans: list[tuple[int, int]] = []
        self._spans(content.lower(), self.caseless_bytes, spans)
        self._spans(content, self.exact_bytes, spans)
        return self._masked(content, spans, MASK.encode())


@functools.lru_cache(maxsize=256)
def _masker(secrets: tuple[str, ...]) -> _Masker | None:
    """Computed once per set of secrets."""
    masker = _Masker(secrets)
    return None if masker.empty else masker


def redact_bytes(content: bytes, secrets: list[str] | None) -> bytes:
    """``content`` (a response body) with every form of ``secrets`` masked."""
    masker = _masker(tuple(secrets)) if secrets else None
    return masker.bytes(content) if masker else content


def redact_text(text: str, secrets: list[str] | None = None) -> str:
    masker = _masker(tuple(secrets)) if secrets else None
    if masker is not None:
        text = masker.text(text)
    for pattern in _SECRET_TEXT:
        text = pattern.sub(MASK, text)
    return text


def redact(value: Any, secrets: list[str] | None = None) -> Any:
    """A copy of ``value`` with secret-looking keys masked and known secrets removed."""
    if isinstance(value, dict):
        return {
            k: (MASK if isinstance(k, str) and _SECRET_KEY.fullmatch(k) and v not in (None, "") else redact(v, secrets))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact(v, secrets) for v in value]
    if isinstance(value, str):
        return redact_text(value, secrets)
    return value
