"""fork_map: the pieces of one step's work in forked workers, results in the items' order;
call_in_child: one call in one forked child, whose heap goes with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from harmoni_pipeline.forking import ChildDied, call_in_child, fork_map
from tests.processes import outlive_killed_parent


def _where(item: int) -> tuple[int, int]:
    return item * item, os.getpid()


def test_results_come_back_in_the_items_order_from_forked_workers():
    items = list(range(12))
    weights = [item % 5 for item in items]  # dispatched heaviest first, yielded in order all the same
    results = list(fork_map(_where, items, workers=2, weights=weights))
    assert [square for square, _ in results] == [item * item for item in items]
    pids = {pid for _, pid in results}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2


def test_one_worker_runs_in_this_process_and_only_when_asked():
    called = []

    def record(item):
        called.append(item)
        return item, os.getpid()

    results = fork_map(record, [1, 2, 3], workers=1)
    assert called == []  # nothing ran yet: each result is made when it is reached
    assert next(results) == (1, os.getpid()) and called == [1]
    assert list(results) == [(2, os.getpid()), (3, os.getpid())]


def test_a_closure_runs_in_the_workers_with_what_it_closes_over():
    """Nothing is pickled on the way in: the workers inherit the function and its state."""
    table = {"a": 1, "b": 2, "c": 3}
    assert list(fork_map(lambda key: table[key] * 10, ["c", "a", "b"], workers=2)) == [30, 10, 20]


def _fails_on_three(item: int) -> int:
    if item == 3:
        raise ValueError(f"item {item} is bad")
    return item


def test_a_workers_exception_is_raised_when_its_item_is_reached():
    results = fork_map(_fails_on_three, [1, 2, 3, 4], workers=2)
    assert next(results) == 1 and next(results) == 2
    with pytest.raises(ValueError, match="item 3 is bad"):
        next(results)


def test_one_call_in_a_child_returns_its_result_and_leaves_nothing_here():
    kept = []

    def grow(size: int) -> tuple[int, int]:
        kept.append(bytearray(size))  # held in the child's copy of ``kept`` only
        return len(kept[-1]), os.getpid()

    size, pid = call_in_child(grow, 50_000_000)
    assert size == 50_000_000 and pid != os.getpid()
    assert kept == []


def _kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would


def test_a_childs_exception_is_raised_here_and_a_killed_child_is_reported():
    with pytest.raises(ValueError, match="item 3 is bad"):
        call_in_child(_fails_on_three, 3)
    with pytest.raises(ChildDied, match="killed by SIGKILL"):
        call_in_child(_kill_self)


PARENT = r"""
import os, sys, time
from harmoni_pipeline.forking import call_in_child
def work():
    print(os.getpid(), flush=True)
    time.sleep(600)
call_in_child(work)
"""


def test_a_child_dies_with_its_parent():
    """``kill -9`` of the process that forked the child leaves no orphan working on."""
    assert outlive_killed_parent(PARENT) == [], "the child outlived its killed parent"


POOL = r"""
import multiprocessing, time
from harmoni_pipeline.forking import fork_map
def work(item):
    time.sleep(0.2 if item == 0 else 600)
    return item
results = fork_map(work, [0, 1, 2, 3], workers=2)
next(results)  # one worker is busy with a long item, the other idles or starts the next
print(" ".join(str(child.pid) for child in multiprocessing.active_children()), flush=True)
time.sleep(600)
"""


def test_a_pools_workers_die_with_their_parent():
    """``kill -9`` of a step using :func:`fork_map` leaves neither a working nor an idle worker."""
    assert outlive_killed_parent(POOL) == [], "pool workers outlived their killed parent"
