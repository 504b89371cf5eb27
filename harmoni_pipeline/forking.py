"""Spreading the independent pieces of one step's work over forked worker processes.

Room: :func:`fork_map` — call a function on each item in worker processes forked from this
one, results back in the items' order. A forked worker inherits the step's state as it is
(imported modules — Great Expectations' import alone is ≈ 2.5 s —, settings, the objects
the function closes over), so nothing is pickled on the way in but the item's position,
and only the results travel back. Work that holds the GIL (pandas, GX) gets one core per
worker this way, which threads cannot give it. No domain knowledge here: callers decide
what is worth a worker and that their function is safe to run in a child (it must not
write what the parent will also write).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Iterator, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_TASK: tuple[Callable, Sequence] | None = None  # (function, items), inherited by the forked workers


def cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _call(position: int):
    fn, items = _TASK
    return fn(items[position])


def fork_map(fn: Callable[[T], R], items: Sequence[T], *, workers: int | None = None,
             weights: Sequence[float] | None = None) -> Iterator[R]:
    """``fn(item)`` for each of ``items``, yielded in the items' order.

    With ``workers`` (default: one per CPU, never more than the items) of at least two and
    ``fork`` available, the calls run in forked worker processes, heaviest first when
    ``weights`` are given (the largest piece does not start last and finish alone);
    otherwise one after the other in this process, each only when its result is asked for.
    An exception raised by ``fn`` is raised here, when its item's result is reached."""
    global _TASK
    count = min(len(items), cpus() if workers is None else workers)
    if count < 2 or not can_fork():
        for item in items:
            yield fn(item)
        return
    order = sorted(range(len(items)), key=lambda i: -weights[i]) if weights is not None else range(len(items))
    _TASK = (fn, items)
    try:
        with ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("fork")) as pool:
            futures = {i: pool.submit(_call, i) for i in order}
            for i in range(len(items)):
                yield futures[i].result()
    finally:
        _TASK = None
