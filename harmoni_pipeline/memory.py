"""Giving memory back to the operating system between the steps of a run.

Room: :func:`release` between steps, :func:`trim` within one. A month's steps run one
after another in one process (``harmoni run``, the in-process executor); each frees its frames when it ends, but the
C allocators keep what was freed — glibc's heap (millions of small Python objects, pandas)
and Arrow's memory pool — so the next step would start from the last one's high-water
mark and the process's peak would be the sum of steps, not the largest one. Measured on a
national month: after the uncertainty step, 2.4 GB resident with its tables freed, 0.3 GB
after :func:`release`. No Dagster here: the heavy steps (staging, gates, diagnostics, marts, uncertainty, report)
call it first thing, so each starts from what it needs, not from the last step's
high-water mark.

A full garbage collection walks every object the collector tracks, and a run process holds
≈ 375,000 of them once Dagster, pandas and Great Expectations are imported: ≈ 0.26–0.35 s
per collection, a dozen times on a month's core path. What survives the collection at the
start of a step is the process's long-lived state (modules, classes, the run's machinery),
so :func:`release` freezes it (``gc.freeze``: the later collections of the run walk only
what was made since) and :func:`thaw` hands it back to the collector once the run is over
(``local_runs.execute``; a Celery worker after each step's task), so that nothing frozen
outlives the run that froze it.

Within a step, a large frame let go in the middle (the survey window once the marts'
respondents' trail is built) goes back to those allocators, and whether they hand it to
the operating system before the step's next large allocation depends on timing — Arrow's
pool returns pages on a clock. :func:`trim` returns it at once, without a collection, so
the step's next phase (DuckDB's working memory of the trail queries) does not stack on top
of it: December of a twelve-month range peaked 2.10 GB in its marts step when it did not,
≈ 1.7 GB when it did (issue 19, tenth pass).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc

import pyarrow as pa

_LIBC = ctypes.util.find_library("c")


def release() -> None:
    """Collect garbage, freeze what survived (see the module's docstring), then return the
    free memory of Arrow's pool and of the C heap (``malloc_trim``, glibc only; elsewhere
    nothing more happens)."""
    gc.collect()
    gc.freeze()
    trim()


def trim() -> None:
    """Return the free memory of Arrow's pool and of the C heap to the operating system now
    (``malloc_trim``, glibc only; elsewhere only Arrow's pool). No garbage collection: what
    the caller let go by reference counting is what is returned."""
    pa.default_memory_pool().release_unused()
    if _LIBC:
        try:
            malloc_trim = ctypes.CDLL(_LIBC).malloc_trim
        except (OSError, AttributeError):  # not glibc (musl, macOS)
            return
        malloc_trim(0)


def thaw() -> None:
    """Give the objects :func:`release` froze back to the garbage collector (at the end of
    a run: a cycle among them that became garbage since is collected again)."""
    gc.unfreeze()
