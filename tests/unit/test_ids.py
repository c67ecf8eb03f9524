"""Prefixed IDs sort by creation time, also within one millisecond of one process."""

from __future__ import annotations

import re

from orchestrator.ids import new_id


def test_ids_made_in_a_burst_sort_in_creation_order_and_never_repeat():
    ids = [new_id("step") for _ in range(20_000)]

    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"step_[0-9a-hjkmnp-tv-z]{26}", i) for i in ids)
