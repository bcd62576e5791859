"""Verifications in a threaded server take turns: one at a time per process, first come, first served.

Verifying is Python work that holds the GIL, so a gunicorn worker's threads never verify in
parallel; left to themselves they interleave at every system call and GIL hand-off, in no
particular order. Four verifications in flight then each take about four times as long, and
whichever thread keeps losing the hand-offs waits far longer: that was most of ``/api/verify``'s
99th-percentile latency under load (benchmarks/http_wrk.py). With turns, a verification runs to
its end once it starts, and the ones waiting start in the order they came.

Two things keep a turn from becoming a way to stall other visitors:

- A turn is given up while the verification waits for a fetch (a status list or DID document
  from the network or the database; related resources fetched side by side) and queued for again
  after it: waiting for I/O holds no one up.
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

# Per thread: the Turns whose turn it is inside (None outside any), and whether it holds that turn.
_this_thread = threading.local()


class Turns:
    """First-come, first-served turns at verifying, for the threads of one process."""

    def __init__(self, patience: float = PATIENCE) -> None:
        self._patience = patience
        self._guard = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()
        self._taken = False

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the turn for the ``with`` body (or go on without it after ``patience``).

        Nested use in one thread (a verification that verifies what it contains) keeps the outer
        turn instead of queueing behind others for a second one.
        """
        if getattr(_this_thread, "turns", None) is not None:
            yield
            return
        _this_thread.turns, _this_thread.holding = self, self._take()
        try:
            yield
        finally:
            if _this_thread.holding:
                self._give_back()
            _this_thread.turns, _this_thread.holding = None, False

    def outside(self, wait: Callable[[str], T]) -> Callable[[str], T]:
        """``wait`` (a fetch), run with the turn given up, and queued for again once it returns."""

        def without_turn(url: str) -> T:
            with waiting():
                return wait(url)

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


def holds_turn() -> bool:
    """Whether this thread holds a verification turn right now."""
    return bool(getattr(_this_thread, "holding", False))


@contextmanager
def waiting() -> Iterator[None]:
    """Give this thread's turn up for the ``with`` body, which waits (for I/O, for other threads).

    Queues for the turn again afterwards. Outside a turn, or without one (patience ran out),
    it does nothing: the verifier calls it wherever it waits, in a server or not.
    """
    turns = getattr(_this_thread, "turns", None)
    if turns is None or not _this_thread.holding:
        yield
        return
    _this_thread.holding = False
    turns._give_back()
    try:
        yield
    finally:
        _this_thread.holding = turns._take()


__all__ = ["PATIENCE", "Turns", "holds_turn", "waiting"]
