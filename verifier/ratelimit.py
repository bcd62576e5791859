"""A small in-process rate limiter: one token bucket per client key.

Verification is the expensive thing the public web app does (canonicalisation,
signature checks, status-list fetches), so ``POST /verify`` and
``POST /api/verify`` take a token per request; so does ``POST /oauth/token``
(per address and per client id: each attempt costs a scrypt). Dependency-free and thread-safe;
each server process keeps its own buckets (with N gunicorn workers a client
gets up to N times the rate — a front proxy is the place for a global limit).
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass
from typing import Callable

from errors import BadgesmithError, Code, ConfigError

_UNITS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day)s?\s*$", re.IGNORECASE)


class RateLimited(BadgesmithError):
    """Too many requests from one client; ``retry_after`` says when to try again (seconds)."""

    http_status = 429

    def __init__(self, retry_after: int, *, what: str = "verification requests") -> None:
        super().__init__(Code.RATE_LIMITED, f"Too many {what}; please try again in {retry_after} seconds.",
                         retry_after=retry_after)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Rate:
    """``capacity`` requests per ``period`` seconds (also the burst size)."""

    capacity: int
    period: float

    @classmethod
    def from_text(cls, text: str) -> Rate:
        """Parse ``"60/minute"``, ``"10/second"``, ``"1000/day"`` or ``"5/10minutes"``."""
        match = _RATE.match(text or "")
        if not match or int(match.group(1)) < 1:
            raise ConfigError(Code.CONFIG_INVALID,
                              f"RATE_LIMIT {text!r} is not a rate such as '60/minute' (or 'off').")
        count, multiple, unit = int(match.group(1)), int(match.group(2) or 1), match.group(3).lower()
        return cls(capacity=count, period=multiple * _UNITS[unit])


class RateLimiter:
    """Token buckets keyed by client (IP address); ``take(key)`` spends one token or raises.

    Buckets refill continuously at ``capacity / period`` tokens per second. The
    table is bounded: when it grows past ``max_keys`` the buckets that have
    refilled completely (idle clients) are dropped, so memory stays flat under
    a spray of source addresses.
    """

    def __init__(self, rate: Rate, *, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 10_000, what: str = "verification requests") -> None:
        """``what`` names the requests in the 429 message ("token requests")."""
        self.rate, self.what = rate, what
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill time)
        self._lock = threading.Lock()

    def _refilled(self, tokens: float, last: float, now: float) -> float:
        per_second = self.rate.capacity / self.rate.period
        return min(float(self.rate.capacity), tokens + (now - last) * per_second)

    def take(self, key: str) -> None:
        """Spend one token for ``key``; raise ``RateLimited`` with a Retry-After when there is none."""
        with self._lock:
            now = self._clock()
            tokens, last = self._buckets.get(key, (float(self.rate.capacity), now))
            tokens = self._refilled(tokens, last, now)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) * self.rate.period / self.rate.capacity
                raise RateLimited(max(1, math.ceil(wait)), what=self.what)
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > self._max_keys:
                self._prune(now)

    def _prune(self, now: float) -> None:
        full = float(self.rate.capacity)
        for key, (tokens, last) in list(self._buckets.items()):
            if self._refilled(tokens, last, now) >= full:
                del self._buckets[key]


def limiter_from_config(value: object, *, what: str = "verification requests") -> RateLimiter | None:
    """The limiter for a ``RATE_LIMIT`` setting; None (no limit) for ``None``, ``""``, ``"off"``."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "off", "none", "0")):
        return None
    if isinstance(value, RateLimiter):
        return value
    return RateLimiter(Rate.from_text(str(value)), what=what)


__all__ = ["Rate", "RateLimited", "RateLimiter", "limiter_from_config"]
