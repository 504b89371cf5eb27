"""Giving freed memory back between steps (harmoni_pipeline/memory.py), on Linux."""

from __future__ import annotations

import gc
import os
import sys
import weakref
from pathlib import Path

import dagster as dg
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from harmoni_pipeline import memory


def _resident_mb() -> float:
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
@pytest.mark.parametrize("give_back", [memory.release, memory.trim], ids=["release", "trim"])
def test_release_returns_what_a_freed_step_kept(give_back):
    """A step's Arrow work (many mid-sized buffers, freed when the step ends) stays
    resident in the allocator's pool until released: release gives most of it back, and
    so does trim, which a step calls between its phases."""
    frozen = gc.get_freeze_count()
    before = _resident_mb()
    kept = []
    for i in range(40):  # ≈ 400 MB of Arrow buffers in pieces, as a scoring step makes them
        column = pa.array(np.arange(i, i + 1_250_000, dtype=np.int64))
        kept.append(pc.add(column, 1))
    grown = _resident_mb() - before
    del kept, column
    held = _resident_mb() - before
    give_back()
    after = _resident_mb() - before
    assert grown > 300
    assert after < held - 200, (grown, held, after)  # without the release the pool keeps it
    if give_back is memory.trim:  # no collection, nothing frozen: safe in the middle of a step
        assert gc.get_freeze_count() == frozen
    memory.thaw()


class _Node:
    """An object in a reference cycle: only the garbage collector can free it."""

    def __init__(self):
        self.me = self


def test_release_collects_earlier_garbage_and_freezes_what_survives():
    """Cycles dropped before a release are freed by it; what is alive at the release is
    frozen (the run's later collections skip it) until :func:`memory.thaw` gives it back."""
    gone = _Node()
    gone_ref = weakref.ref(gone)
    kept = _Node()
    kept_ref = weakref.ref(kept)
    del gone
    try:
        memory.release()
        assert gone_ref() is None
        assert gc.get_freeze_count() > 0
        del kept
        gc.collect()
        assert kept_ref() is not None  # frozen: left alone until the run is over
    finally:
        memory.thaw()
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert kept_ref() is None


def test_a_run_in_this_process_thaws_what_its_steps_froze():
    """``local_runs.execute`` runs a job of an ephemeral instance (which lives in this
    process's memory) here, not in a forked child: when the run ends, what its steps'
    releases froze is the collector's again — nothing frozen outlives its run."""
    from harmoni_pipeline.local_runs import execute

    seen = {}

    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["2025-12"]))
    def step() -> None:
        memory.release()
        seen["frozen"] = gc.get_freeze_count()
        seen["pid"] = os.getpid()

    defs = dg.Definitions(assets=[step], jobs=[dg.define_asset_job("one_step", selection=[step])])
    instance = dg.DagsterInstance.ephemeral()
    outcome = execute(defs, "one_step", "2025-12", instance, progress=lambda _: None)
    assert outcome.success
    assert seen["frozen"] > 0 and seen["pid"] == os.getpid()
    assert gc.get_freeze_count() == 0


def test_a_celery_worker_thaws_after_each_step():
    """A Celery worker process runs step after step: the end of each step's task thaws."""
    from celery.signals import task_postrun

    from harmoni_pipeline import celery_workers

    celery_workers.worker_app()
    memory.release()
    assert gc.get_freeze_count() > 0
    task_postrun.send(sender=None, task_id="step", task=None, args=(), kwargs={}, retval=None, state="SUCCESS")
    assert gc.get_freeze_count() == 0
