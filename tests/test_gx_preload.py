"""GX imported in the background while a run starts (gx_runner.preload): the gate finds it
imported, and a fork made meanwhile waits for the import, so the child is whole."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent("""
    import os, sys, time
    from harmoni_pipeline.quality import gx_runner
    assert "great_expectations" not in sys.modules
    gx_runner.preload()
    gx_runner.preload()  # once per process
    assert gx_runner._PRELOAD.is_alive()  # under way in the background
    pid = os.fork()  # made at once: the fork hook waits for the import first
    if pid == 0:
        ok = "great_expectations" in sys.modules and gx_runner._context() is not None
        os._exit(0 if ok else 3)
    assert not gx_runner._PRELOAD.is_alive() and "great_expectations" in sys.modules
    _, status = os.waitpid(pid, 0)
    print("child", os.waitstatus_to_exitcode(status))
    from harmoni_pipeline.quality.suites import Suite
    import pandas as pd
    suite = Suite(name="t.rows", batch="rows", expectations=({"type": "expect_column_values_to_not_be_null",
                                                             "kwargs": {"column": "a"}},))
    report = gx_runner.run_suites([(suite, pd.DataFrame({"a": [1, None]}), {})])
    print("outcome", report.outcomes[0].success, report.outcomes[0].unexpected_count)
""")


def test_preload_imports_gx_in_the_background_and_a_fork_waits_for_it():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "GX_ANALYTICS_ENABLED": "false", "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["child", "0", "outcome", "False", "1"]
