"""The token-bucket rate limiter: parsing, refill, per-key buckets, thread safety, bounded memory."""

from __future__ import annotations

import threading

import pytest

from errors import ConfigError
from verifier.ratelimit import Rate, RateLimited, RateLimiter, limiter_from_config


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("text,capacity,period", [("60/minute", 60, 60.0), ("10/second", 10, 1.0),
                                                  ("1000/day", 1000, 86400.0), ("5/10minutes", 5, 600.0),
                                                  (" 3 / hour ", 3, 3600.0)])
def test_rate_from_text(text, capacity, period):
    assert Rate.from_text(text) == Rate(capacity, period)


@pytest.mark.parametrize("text", ["sixty", "60", "0/minute", "60/fortnight", ""])
def test_rate_from_bad_text_is_a_config_error(text):
    with pytest.raises(ConfigError) as caught:
        Rate.from_text(text)
    assert caught.value.code.value == "CONFIG_INVALID"


@pytest.mark.parametrize("value", [None, "", "off", "OFF", "0"])
def test_limiter_from_config_off(value):
    assert limiter_from_config(value) is None


def test_bucket_allows_a_burst_then_refills():
    clock = Clock()
    limiter = RateLimiter(Rate(3, 60.0), clock=clock)
    for _ in range(3):
        limiter.take("a")
    with pytest.raises(RateLimited) as caught:
        limiter.take("a")
    assert caught.value.retry_after == 20 and caught.value.http_status == 429
    assert caught.value.to_dict() == {"code": "RATE_LIMITED", "retry_after": 20,
                                      "message": "Too many verification requests; please try again in 20 seconds."}
    clock.now += 20
    limiter.take("a")  # one token back after capacity/period seconds


def test_buckets_are_per_key():
    limiter = RateLimiter(Rate(1, 60.0), clock=Clock())
    limiter.take("10.0.0.1")
    limiter.take("10.0.0.2")
    with pytest.raises(RateLimited):
        limiter.take("10.0.0.1")


def test_limiter_is_thread_safe():
    limiter = RateLimiter(Rate(100, 3600.0))
    allowed, refused = [], []
    barrier = threading.Barrier(8)

    def hammer() -> None:
        barrier.wait()
        for _ in range(50):
            try:
                limiter.take("same-client")
                allowed.append(1)
            except RateLimited:
                refused.append(1)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 100 and len(refused) == 300


def test_idle_buckets_are_dropped_when_the_table_is_full():
    clock = Clock()
    limiter = RateLimiter(Rate(2, 60.0), clock=clock, max_keys=100)
    for n in range(100):
        limiter.take(f"client-{n}")
    clock.now += 120  # everyone has refilled
    limiter.take("newcomer")
    assert len(limiter._buckets) <= 2
