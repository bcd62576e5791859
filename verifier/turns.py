"""Verifications in a threaded server take turns: one at a time per process, first come, first served.

Verifying is Python work that holds the GIL, so a gunicorn worker's threads never verify in
parallel; left to themselves they interleave at every system call and GIL hand-off, in no
particular order. Four verifications in flight then each take about four times as long, and
whichever thread keeps losing the hand-offs waits far longer: that was most of ``/api/verify``'s
99th-percentile latency under load (benchmarks/http_wrk.py). With turns, a verification runs to
its end once it starts, and the ones waiting start in the order they came.

Two things keep a turn from becoming a way to stall other visitors:

- A turn is given up while the verification waits for a fetch (a status list or DID document
  from the network or the database) and queued for again after it: waiting for I/O holds no one up.
- Nobody waits more than ``PATIENCE`` for a turn. Behind a verification that takes long (a large
  credential, within the verifier's own limits), a waiting thread goes on without a turn, sharing
  the processor as it would without turns.
"""

from __future__ import annotations

import threading
from collections import deque
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

PATIENCE = 0.05  # seconds; a verification of a common credential takes about 0.5 ms of CPU

T = TypeVar("T")


class Turns:
    """First-come, first-served turns at verifying, for the threads of one process."""

    def __init__(self, patience: float = PATIENCE) -> None:
        self._patience = patience
        self._guard = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()
        self._taken = False
        self._thread = threading.local()  # per thread: inside a turn's scope, and whether it holds the turn

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the turn for the ``with`` body (or go on without it after ``patience``).

        Nested use in one thread (a verification that verifies what it contains) keeps the outer
        turn instead of queueing behind others for a second one.
        """
        state = self._thread
        if getattr(state, "inside", False):
            yield
            return
        state.inside, state.holding = True, self._take()
        try:
            yield
        finally:
            if state.holding:
                self._give_back()
            state.inside = state.holding = False

    def outside(self, wait: Callable[[str], T]) -> Callable[[str], T]:
        """``wait`` (a fetch), run with the turn given up, and queued for again once it returns."""

        def without_turn(url: str) -> T:
            state = self._thread
            if not getattr(state, "holding", False):
                return wait(url)
            state.holding = False
            self._give_back()
            try:
                return wait(url)
            finally:
                state.holding = self._take()

        return without_turn

    def _take(self) -> bool:
        """True with the turn; False when ``patience`` ran out first (go on without it)."""
        with self._guard:
            if not self._taken:
                self._taken = True
                return True
            baton = threading.Lock()
            baton.acquire()
            self._waiting.append(baton)
        if baton.acquire(timeout=self._patience):
            return True
        with self._guard:
            if baton in self._waiting:
                self._waiting.remove(baton)
                return False
        # Handed the turn between the timeout and the guard: it is ours, released to us already.
        baton.acquire()
        return True

    def _give_back(self) -> None:
        with self._guard:
            if self._waiting:
                self._waiting.popleft().release()  # handed straight to the next: the turn stays taken
            else:
                self._taken = False


__all__ = ["PATIENCE", "Turns"]
