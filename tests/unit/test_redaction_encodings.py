"""Known secrets are masked in every encoding a server may echo them in (issue 11, item 7)."""

from __future__ import annotations

import base64
import json

import pytest

from orchestrator.security.redaction import MASK, redact, redact_bytes, redact_text

SECRET = "Tok>>>en???-5f6a7b9"  # "+" and "/" in its standard base64; every base64 form padded


def _b64(data: bytes) -> dict[str, str]:
    std, url = base64.b64encode(data).decode(), base64.urlsafe_b64encode(data).decode()
    return {"std": std, "url": url, "std-unpadded": std.rstrip("="), "url-unpadded": url.rstrip("=")}


FORMS = {
    "raw": SECRET,
    "upper": SECRET.upper(),
    "lower": SECRET.lower(),
    "swapped": SECRET.swapcase(),
    "hex": SECRET.encode().hex(),
    "HEX": SECRET.encode().hex().upper(),
    "percent": "Tok%3E%3E%3Een%3F%3F%3F-5f6a7b9",
    **{f"b64-{k}": v for k, v in _b64(SECRET.encode()).items()},
    **{f"bearer-{k}": v for k, v in _b64(f"Bearer {SECRET}".encode()).items()},
    **{f"basic-{k}": v for k, v in _b64(f"robot:{SECRET}".encode()).items()},
    **{f"in-json-{k}": v for k, v in _b64(json.dumps({"k": SECRET}).encode()).items()},
}


@pytest.mark.parametrize("name", sorted(FORMS))
def test_each_form_is_masked_in_text_bytes_and_nested_values(name):
    form = FORMS[name]
    text = f"before {form} after {form}"

    assert form not in redact_text(text, [SECRET]) and MASK in redact_text(text, [SECRET])
    assert form.encode() not in redact_bytes(text.encode(), [SECRET])
    assert form not in json.dumps(redact({"a": [{"b": text}]}, [SECRET]))


def test_distinct_forms_really_differ():
    assert len(set(FORMS.values())) == len(FORMS)
    assert "+" in FORMS["b64-std"] and "-" in FORMS["b64-url"]


def test_what_surrounds_a_secret_is_kept():
    assert redact_text(f"id=42 token={SECRET.upper()}; next", [SECRET]) == f"id=42 token={MASK}; next"
    assert redact_bytes(b"<" + SECRET.encode().hex().encode() + b">", [SECRET]) == b"<" + MASK.encode() + b">"


def test_values_shorter_than_four_characters_are_not_masked():
    assert redact_text("abc ABC 616263 YWJj", ["abc"]) == "abc ABC 616263 YWJj"


def test_non_ascii_secrets_are_masked_in_any_case():
    secret = "straße-ключ-42"
    text = f"{secret.upper()} / {secret} / {base64.b64encode(secret.encode()).decode()}"
    assert redact_text(text, [secret]) == f"{MASK} / {MASK} / {MASK}"
