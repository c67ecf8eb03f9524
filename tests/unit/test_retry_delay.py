"""The retry policy's backoff (SPEC 8): fixed, linear and exponential bases, capped at
``max_interval_seconds``, with jitter between half the base and the base. The jitter's
random draw is pinned to either end of its range to check the bounds exactly."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

from orchestrator.engine import executor
from orchestrator.engine.executor import _retry_delay


@pytest.fixture
def jitter(monkeypatch):
    """``jitter("low")`` or ``jitter("high")``: the random draw answers the end of its range."""

    def pin(end: str) -> None:
        draw = (lambda low, high: low) if end == "low" else (lambda low, high: high)
        monkeypatch.setattr(executor, "random", SimpleNamespace(uniform=draw))

    return pin


def bases(policy: dict, attempts: int = 5) -> list[float]:
    """The base of each retry delay: the delay with the jitter at its top."""
    return [_retry_delay(policy, attempt) for attempt in range(1, attempts + 1)]


def test_exponential_backoff_doubles_from_the_initial_interval(jitter):
    jitter("high")
    assert bases({"backoff": "exponential", "initial_interval_seconds": 1.5}) == [1.5, 3, 6, 12, 24]


def test_exponential_is_the_default_backoff(jitter):
    jitter("high")
    assert bases({"initial_interval_seconds": 2}, 4) == [2, 4, 8, 16]


def test_linear_backoff_grows_by_the_initial_interval(jitter):
    jitter("high")
    assert bases({"backoff": "linear", "initial_interval_seconds": 1.5}) == [1.5, 3, 4.5, 6, 7.5]


def test_fixed_backoff_stays_at_the_initial_interval(jitter):
    jitter("high")
    assert bases({"backoff": "fixed", "initial_interval_seconds": 7}, 3) == [7, 7, 7]


@pytest.mark.parametrize("backoff", ["exponential", "linear"])
def test_max_interval_caps_a_base_that_outgrows_it(jitter, backoff):
    jitter("high")
    policy = {"backoff": backoff, "initial_interval_seconds": 10, "max_interval_seconds": 25}
    assert bases(policy)[2:] == [25, 25, 25]


def test_the_default_cap_is_60_seconds(jitter):
    jitter("high")
    assert bases({"backoff": "exponential", "initial_interval_seconds": 10}, 8)[-3:] == [60, 60, 60]


def test_a_fixed_interval_over_the_cap_is_capped_too(jitter):
    jitter("high")
    assert _retry_delay({"backoff": "fixed", "initial_interval_seconds": 90, "max_interval_seconds": 30}, 1) == 30


def test_the_smallest_jitter_is_half_the_capped_base(jitter):
    jitter("low")
    policy = {"backoff": "exponential", "initial_interval_seconds": 4, "max_interval_seconds": 20}
    assert bases(policy, 4) == [2, 4, 8, 10]


def test_real_jitter_spreads_over_the_upper_half_of_the_base():
    random.seed(15)
    policy = {"backoff": "linear", "initial_interval_seconds": 2, "max_interval_seconds": 100}
    delays = [_retry_delay(policy, 3) for _ in range(2000)]  # base 6
    assert all(3 <= delay <= 6 for delay in delays)
    assert min(delays) < 3.1 and max(delays) > 5.9  # the whole range is used, not a constant
