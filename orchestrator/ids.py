"""Prefixed, sortable identifiers: ``wf_01jd3k…``.

48 bits of milliseconds then 80 random bits, Crockford base32 (ULID layout), in
lower case so IDs sort by creation time as plain strings.
"""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def _encode(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, rem = divmod(number, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    millis = time.time_ns() // 1_000_000
    return f"{prefix}_{_encode(millis, 10)}{_encode(secrets.randbits(80), 16)}"


# Named functions (not lambdas) so that migrations can reference them as field defaults.
def new_ten_id() -> str:
    return new_id("ten")


def new_usr_id() -> str:
    return new_id("usr")


def new_wf_id() -> str:
    return new_id("wf")


def new_ver_id() -> str:
    return new_id("ver")


def new_key_id() -> str:
    return new_id("key")


def new_run_id() -> str:
    return new_id("run")


def new_step_id() -> str:
    return new_id("sr")


def new_evt_id() -> str:
    return new_id("evt")


def new_sched_id() -> str:
    return new_id("sched")


def new_tpl_id() -> str:
    return new_id("tpl")


def new_int_id() -> str:
    return new_id("int")
