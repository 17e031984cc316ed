"""Process-level helpers for bulk work (no RBAC meaning here)."""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = ["gc_paused", "can_fork_workers", "run_concurrently"]

T = TypeVar("T")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a bulk computation runs.

    Loading a cluster or building its escalation graph allocates millions of objects without reference
    cycles; each full collection then walks the whole heap, which cost 20-30% of those computations on a
    60,000-object cluster. Reference counting still frees everything; collection resumes afterwards.
    Nested uses are fine: only the outermost one re-enables the collector.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# Threads of our own that may run while a worker is forked: the YAML parser's idle big-stack thread
# (the workers never parse).
OWN_THREAD_PREFIX = "rbac-analyzer-"


def can_fork_workers() -> bool:
    """Can work be handed to forked worker processes safely and usefully here? Needs ``fork`` (Linux),
    more than one CPU, and no thread besides the main one and our own idle ones (forking a threaded
    process, such as the dashboard's server, can copy locks that other threads hold)."""
    if "fork" not in multiprocessing.get_all_start_methods() or (os.cpu_count() or 1) < 2:
        return False
    main = threading.main_thread()
    return threading.current_thread() is main and all(
        t is main or t.name.startswith(OWN_THREAD_PREFIX) for t in threading.enumerate())


_TASKS: Sequence[Callable[[], Any]] = ()


def _run_task(i: int) -> Any:
    return _TASKS[i]()


def run_concurrently(tasks: Sequence[Callable[[], T]], *, parallel: bool) -> list[T]:
    """Results of ``tasks`` in order. With ``parallel`` the first runs in this process while each other one
    runs in a forked worker process (which inherits everything already loaded, copy-on-write); their
    results come back pickled, so those tasks should return little. Otherwise they run one after another.

    >>> run_concurrently([lambda: 1, lambda: 2], parallel=False)
    [1, 2]
    """
    global _TASKS
    if not parallel or len(tasks) < 2:
        return [t() for t in tasks]
    _TASKS = tasks  # the workers are forked when the pool starts, so they see these (no pickling)
    try:
        with ProcessPoolExecutor(max_workers=len(tasks) - 1, mp_context=multiprocessing.get_context("fork")) as pool:
            futures = [pool.submit(_run_task, i) for i in range(1, len(tasks))]
            first = tasks[0]()
            return [first, *(f.result() for f in futures)]
    finally:
        _TASKS = ()
