"""A roster run's two worker processes: they sign a share of each batch and bake and write the files.

They are started once a run knows it has enough new rows to sign, and this
process signs whole batches alone until both have started (importing
Badgesmith takes a worker about half a second): their start-up then costs the
run almost nothing.

forkserver (spawn where there is none): workers never inherit the registry's
open connections or the progress bar's thread, unlike fork. Each worker gets
the read end of a pipe whose only write end stays here: when this process
dies, even by SIGKILL, the worker reads end-of-file and exits, instead of
waiting forever on a task queue it holds open itself. (The forkserver exits on
its own when this process dies.)
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Executor, Future
from typing import Any

# Below this many new credentials, starting worker processes costs more than it saves.
POOL_MIN_ROWS = 20


class RosterWorkers:
    """The pool of two worker processes, its lifeline, and whether both have started."""

    def __init__(self) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        self._reader, self._writer = context.Pipe(duplex=False)
        size = min(2, os.cpu_count() or 1)
        self.pool: Executor = ProcessPoolExecutor(max_workers=size, mp_context=context,
                                                  initializer=_exit_with_parent, initargs=(self._reader,))
        # One task per worker: each submit starts a process while none is idle, so both start now.
        self._started = [self.pool.submit(os.getpid) for _ in range(size)]

    def ready(self) -> Executor | None:
        """The pool once every worker has started (until then, this process signs whole batches)."""
        return self.pool if all(started.done() for started in self._started) else None

    def wait_started(self) -> None:
        """Return once every worker has started (the first tasks they were given are done)."""
        for started in self._started:
            started.result()

    def close(self, *, wait: bool = True) -> None:
        """Stop the workers: after the tasks given to them (``wait``), or at once, dropping what is queued."""
        try:
            self.pool.shutdown(wait=wait, cancel_futures=not wait)
        finally:
            for end in (self._reader, self._writer):
                end.close()


def chain(halves: list[Future], written: Future) -> None:
    """Resolve ``written`` with the halves' results in order once all are done (or with the first error)."""
    left = [len(halves)]

    def done(_: Future) -> None:
        left[0] -= 1
        if left[0]:
            return
        failed = next((h.exception() for h in halves if h.exception() is not None), None)
        if failed is not None:
            written.set_exception(failed)
        else:
            written.set_result([files for half in halves for files in half.result()])

    for half in halves:
        half.add_done_callback(done)


class Syncing:
    """``os.sync`` in a thread: the files the workers wrote without a sync each reach the disk while the
    summary is made; ``wait`` before saying the run is done."""

    def __init__(self) -> None:
        self._thread = threading.Thread(target=os.sync, name="sync-roster-files", daemon=True)
        self._thread.start()

    def wait(self) -> None:
        self._thread.join()


def _exit_with_parent(lifeline: Any) -> None:
    """Worker initializer: a daemon thread that ends the worker once the lifeline's writer is gone."""

    def watch() -> None:
        try:
            lifeline.recv_bytes()
        except (EOFError, OSError):
            pass
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
    # What the tasks run, imported at start-up rather than by the first task this process waits for.
    import issuer.awarding.issuing  # noqa: F401
    import issuer.awarding.outputs  # noqa: F401


__all__ = ["POOL_MIN_ROWS", "RosterWorkers", "Syncing", "chain"]
