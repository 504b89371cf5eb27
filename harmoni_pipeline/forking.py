"""Work done in processes forked from this one.

Room: :func:`fork_map` — call a function on each item in worker processes forked from this
one, results back in the items' order — and :func:`call_in_child` — one call in one forked
child, whose heap goes when it exits. A forked worker inherits the step's state as it is
(imported modules — Great Expectations' import alone is ≈ 2.5 s —, settings, the objects
the function closes over), so nothing is pickled on the way in but the item's position,
and only the results travel back. Work that holds the GIL (pandas, GX) gets one core per
worker this way, which threads cannot give it. No domain knowledge here: callers decide
what is worth a worker and that their function is safe to run in a child (it must not
write what the parent will also write).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import traceback
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
    An exception raised by ``fn`` is raised here, when its item's result is reached. The
    workers die with this process (:func:`die_with_parent`)."""
    global _TASK
    count = min(len(items), cpus() if workers is None else workers)
    if count < 2 or not can_fork():
        for item in items:
            yield fn(item)
        return
    order = sorted(range(len(items)), key=lambda i: -weights[i]) if weights is not None else range(len(items))
    _TASK = (fn, items)
    try:
        with ProcessPoolExecutor(max_workers=count, mp_context=multiprocessing.get_context("fork"),
                                 initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
            futures = {i: pool.submit(_call, i) for i in order}
            for i in range(len(items)):
                yield futures[i].result()
    finally:
        _TASK = None


class ChildDied(RuntimeError):
    """A forked child ended without handing back a result (killed, out of memory)."""


def _how(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


def die_with_parent(parent: int) -> None:
    """Ask Linux to kill this child when its parent dies (``PR_SET_PDEATHSIG``), so that a
    ``kill -9`` of the parent leaves no orphan working on or idling; elsewhere nothing
    happens. ``parent`` is the pid of the process that started this one; if it is already
    gone, this child exits at once. Linux sends the signal when the *thread* that started the
    child ends: callers start children from the thread that outlives them (a pool used within
    one ``with`` block does). Used as the ``initializer`` of process pools too."""
    if sys.platform.startswith("linux"):  # the process's own symbols include libc's prctl
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)


def _child(writer, parent: int, fn: Callable, args: tuple) -> None:
    die_with_parent(parent)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler: a SIGTERM ends the child
    try:
        out = ("ok", fn(*args))
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which raises it
        out = ("error", exc)
    try:
        writer.send(out)
    except Exception:  # noqa: BLE001 - a result or exception that cannot be pickled
        text = "".join(traceback.format_exception(out[1])) if out[0] == "error" else f"unpicklable result {out[1]!r}"
        writer.send(("error", RuntimeError(text)))
    writer.close()


def call_in_child(fn: Callable[..., R], *args) -> R:
    """``fn(*args)`` in one child forked from this process; its result comes back, or the
    exception it raised is raised here. The child starts from this process's state (its
    imports, its loaded data) and takes everything it allocates with it when it exits, so a
    caller that calls this again and again does not accumulate what each call left in the
    heap. Raises :class:`ChildDied` when the child ends without an answer (``kill -9``, the
    kernel's out-of-memory killer); the child is killed if this process is interrupted or
    dies. Needs ``fork`` (:func:`can_fork`)."""
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(writer, os.getpid(), fn, args), name="harmoni-call")
    child.start()
    writer.close()
    try:
        try:
            kind, value = reader.recv()
        except EOFError:
            child.join()
            raise ChildDied(f"its process (pid {child.pid}) ended without a result: {_how(child.exitcode)}") from None
        child.join()
    except BaseException:
        if child.is_alive():
            child.kill()
            child.join()
        raise
    finally:
        reader.close()
    if kind == "error":
        raise value
    return value
