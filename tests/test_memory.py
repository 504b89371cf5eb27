"""Giving freed memory back between steps (harmoni_pipeline/memory.py), on Linux."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from harmoni_pipeline import memory


def _resident_mb() -> float:
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_release_returns_what_a_freed_step_kept():
    """A step's Arrow work (many mid-sized buffers, freed when the step ends) stays
    resident in the allocator's pool until released: release gives most of it back."""
    before = _resident_mb()
    kept = []
    for i in range(40):  # ≈ 400 MB of Arrow buffers in pieces, as a scoring step makes them
        column = pa.array(np.arange(i, i + 1_250_000, dtype=np.int64))
        kept.append(pc.add(column, 1))
    grown = _resident_mb() - before
    del kept, column
    held = _resident_mb() - before
    memory.release()
    after = _resident_mb() - before
    assert grown > 300
    assert after < held - 200, (grown, held, after)  # without the release the pool keeps it
