"""Prefixed IDs sort by creation time, also within one millisecond of one process."""

from __future__ import annotations

import re

from orchestrator.ids import new_id


def test_ids_made_in_a_burst_sort_in_creation_order_and_never_repeat():
    ids = [new_id("step") for _ in range(20_000)]

    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"step_[0-9a-hjkmnp-tv-z]{26}", i) for i in ids)


def test_a_batch_of_ids_has_the_layout_and_order_of_ids_made_one_by_one():
    from orchestrator.ids import _encode, _encode_fast, new_ids

    before = new_id("sr")
    batch = new_ids("sr", 5_000)
    after = new_id("sr")
    assert len(set(batch)) == len(batch)
    assert [before, *batch, after] == sorted([before, *batch, after])
    assert {len(i) for i in batch} == {len(before)} and all(i.startswith("sr_") for i in batch)
    for number in (0, 1, 1023, 1024, 2**80 - 1, 123456789012345678901234):
        assert _encode_fast(number, 8) == _encode(number, 16)
