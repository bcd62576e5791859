"""Verifications take turns in a threaded server: one at a time, first come first served, patience bounded."""

from __future__ import annotations

import threading
import time

import pytest

from verifier.turns import Turns, holds_turn, waiting

WAIT = 10  # seconds a test waits for something that should happen at once (never reached when correct)


def _until(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.001)


def _queued(turns: Turns) -> int:
    with turns._guard:
        return len(turns._waiting)


def test_one_verification_at_a_time():
    turns = Turns(patience=WAIT)
    inside, most = [0], [0]
    lock = threading.Lock()

    def verify() -> None:
        for _ in range(50):
            with turns.turn():
                with lock:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                time.sleep(0.0002)  # gives up the GIL: without turns, another thread would enter here
                with lock:
                    inside[0] -= 1

    threads = [threading.Thread(target=verify) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert most[0] == 1
    assert not turns._taken and _queued(turns) == 0


def test_waiting_verifications_start_in_the_order_they_came():
    turns = Turns(patience=WAIT)
    started: list[int] = []
    with turns.turn():
        threads = []
        for number in range(6):
            def verify(number: int = number) -> None:
                with turns.turn():
                    started.append(number)
            thread = threading.Thread(target=verify)
            thread.start()
            _until(lambda: _queued(turns) == number + 1, f"thread {number} to queue")
            threads.append(thread)
    for thread in threads:
        thread.join(WAIT)
    assert started == list(range(6))


def test_a_turn_is_given_back_when_the_verification_fails():
    turns = Turns(patience=WAIT)
    with pytest.raises(ValueError):
        with turns.turn():
            raise ValueError("a broken credential")
    assert not turns._taken
    with turns.turn():  # free at once: no one is left holding it
        assert turns._taken


def test_nested_use_in_one_thread_keeps_the_outer_turn():
    turns = Turns(patience=WAIT)
    with turns.turn():
        with turns.turn():  # would wait for itself if it queued
            assert turns._taken
        assert turns._taken  # the inner end did not give the outer turn away
    assert not turns._taken


def test_nobody_waits_longer_than_the_patience():
    """Behind a long verification, a waiting one goes on without a turn instead of stalling."""
    turns = Turns(patience=0.05)
    release = threading.Event()
    went_on = threading.Event()

    def long_verification() -> None:
        with turns.turn():
            release.wait(WAIT)

    holder = threading.Thread(target=long_verification)
    holder.start()
    _until(lambda: turns._taken, "the long verification to take the turn")

    def short_verification() -> None:
        with turns.turn():
            went_on.set()

    waiter = threading.Thread(target=short_verification)
    started = time.monotonic()
    waiter.start()
    assert went_on.wait(WAIT), "the short verification never went on"
    waited = time.monotonic() - started
    assert not release.is_set()  # it went on while the long one still held the turn
    assert 0.04 <= waited < WAIT
    waiter.join(WAIT)
    assert turns._taken and _queued(turns) == 0  # it left no place in the queue, and took nothing back
    release.set()
    holder.join(WAIT)
    assert not turns._taken


def test_a_fetch_runs_without_the_turn_and_queues_again_after():
    turns = Turns(patience=2)
    in_fetch, fetched, other_done = threading.Event(), threading.Event(), threading.Event()
    order: list[str] = []

    def slow_fetch(url: str) -> bytes:
        in_fetch.set()
        assert other_done.wait(WAIT), "the other verification could not run while this one fetched"
        order.append("fetch returned")
        return url.encode()

    fetch = turns.outside(slow_fetch)

    def fetching_verification() -> None:
        with turns.turn():
            assert fetch("https://example.org/status/1") == b"https://example.org/status/1"
            order.append("fetching verification done")
            fetched.set()

    first = threading.Thread(target=fetching_verification)
    first.start()
    assert in_fetch.wait(WAIT)
    with turns.turn():  # the fetching verification gave it up: this one holds it, not just its patience ran out
        assert holds_turn()
        order.append("other verification")
    other_done.set()
    first.join(WAIT)
    assert fetched.is_set()
    assert order == ["other verification", "fetch returned", "fetching verification done"]
    assert not turns._taken


def test_a_fetch_outside_any_turn_is_just_the_fetch():
    turns = Turns()
    assert turns.outside(lambda url: url.encode())("did:web:example.org") == b"did:web:example.org"
    assert not turns._taken



def test_waiting_gives_the_turn_up_for_its_body_and_does_nothing_outside_a_turn():
    turns = Turns(patience=2)
    with waiting():  # outside any turn: nothing to give up
        assert not holds_turn()
    inside_wait, other_done = threading.Event(), threading.Event()
    held_after: list[bool] = []

    def verification() -> None:
        with turns.turn():
            with waiting():
                inside_wait.set()
                other_done.wait(WAIT)
            held_after.append(holds_turn())

    thread = threading.Thread(target=verification)
    thread.start()
    assert inside_wait.wait(WAIT)
    with turns.turn():
        assert holds_turn()  # given up by the waiting thread, not taken after the patience ran out
    other_done.set()
    thread.join(WAIT)
    assert held_after == [True] and not turns._taken
