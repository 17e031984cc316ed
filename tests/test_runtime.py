"""runtime: the garbage-collector pause and the forked workers of large audits."""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading

import pytest

from analyzer.runtime import can_fork_workers, gc_paused, run_concurrently

HAS_FORK = "fork" in multiprocessing.get_all_start_methods()


def test_gc_paused_restores_the_collector_and_nests() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # only the outermost one resumes it
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError
    assert gc.isenabled()


def test_run_concurrently_in_order_sequentially() -> None:
    assert run_concurrently([lambda: "a", lambda: "b", lambda: "c"], parallel=False) == ["a", "b", "c"]
    assert run_concurrently([lambda: "only"], parallel=True) == ["only"]


@pytest.mark.skipif(not HAS_FORK, reason="no fork on this platform")
def test_run_concurrently_uses_another_process_and_raises_its_errors() -> None:
    parent = os.getpid()
    first, second = run_concurrently([os.getpid, os.getpid], parallel=True)
    assert first == parent and second != parent

    def fail() -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        run_concurrently([lambda: 1, fail], parallel=True)


@pytest.mark.skipif(not HAS_FORK or (os.cpu_count() or 1) < 2, reason="needs fork and two CPUs")
def test_no_forked_workers_while_a_foreign_thread_runs() -> None:
    release = threading.Event()
    t = threading.Thread(target=release.wait, name="someone-else")
    before = can_fork_workers()
    t.start()
    try:
        assert not can_fork_workers()
    finally:
        release.set()
        t.join()
    assert can_fork_workers() == before
