"""The benchmark's reading of a `harmoni run` log: the step timeline, and the core path
(every step up to the marts gate) split from the extras (uncertainty, notifications,
report) that issue 19 times separately. Made-up log lines, no run."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_under_test", ROOT / "benchmarks" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _log(events: list[tuple[str, str, str, str]]) -> list[str]:
    lines = []
    for clock, step, what, took in events:
        text = f'Started execution of step "{step}".' if what == "STEP_START" else f'Finished execution of step "{step}" in {took}.'
        lines.append(f"2026-12-03 {clock} 662eeaf5 {step} {what}: {text}")
    return lines


EVENTS = [
    ("06:16:53", "staging__statistics", "STEP_START", ""),
    ("06:16:56", "staging__statistics", "STEP_SUCCESS", "3.29s"),
    ("06:17:02", "staging__survey_responses", "STEP_START", ""),
    ("06:17:30", "staging__survey_responses", "STEP_SUCCESS", "27.5s"),
    ("06:17:30", "notifications__red_reports", "STEP_START", ""),
    ("06:17:32", "notifications__red_reports", "STEP_SUCCESS", "1.5s"),
    ("06:17:32", "marts", "STEP_START", ""),
    ("06:17:50", "marts", "STEP_SUCCESS", "18s"),
    ("06:17:50", "marts__gate", "STEP_START", ""),
    ("06:17:53", "marts__gate", "STEP_SUCCESS", "464ms"),
    ("06:17:53", "marts_uncertainty", "STEP_START", ""),
    ("06:19:07", "marts_uncertainty", "STEP_SUCCESS", "1m14s"),
    ("06:19:07", "marts_uncertainty__gate", "STEP_START", ""),
    ("06:19:09", "marts_uncertainty__gate", "STEP_SUCCESS", "2.15s"),
    ("06:19:09", "report", "STEP_START", ""),
    ("06:19:27", "report", "STEP_SUCCESS", "17.71s"),
]


def test_step_timeline_reads_starts_ends_and_dagster_durations(bench):
    steps = bench.step_timeline(["noise line", *_log(EVENTS)], samples=[(0.0, 10.0)])
    assert [s["step"] for s in steps] == [e[1] for e in EVENTS if e[2] == "STEP_SUCCESS"]
    by = {s["step"]: s for s in steps}
    assert by["marts__gate"]["seconds"] == pytest.approx(0.464)
    assert by["marts_uncertainty"]["seconds"] == pytest.approx(74.0)
    assert by["staging__statistics"]["seconds"] == pytest.approx(3.29)
    assert by["marts"]["end"] - by["marts"]["start"] == 18
    assert all(s["peak_rss_mb"] == 0.0 for s in steps)  # the only sample is far before the run


def test_core_path_ends_at_the_marts_gate_and_leaves_out_the_extras(bench):
    split = bench.core_and_extras(bench.step_timeline(_log(EVENTS)))
    # 06:16:53 → 06:17:53 is 60 s; the red-report notification (1.5 s) ran inside it
    assert split["core"] == pytest.approx(58.5)
    assert split["extra_steps"] == pytest.approx(
        {"notifications__red_reports": 1.5, "marts_uncertainty": 74.0, "marts_uncertainty__gate": 2.15, "report": 17.71}
    )
    assert split["extras"] == pytest.approx(1.5 + 74.0 + 2.15 + 17.71)
    assert split["after_core"] == 94  # 06:17:53 → 06:19:27


def test_a_duration_missing_from_the_line_falls_back_to_the_clock(bench):
    lines = _log(EVENTS[:2])
    lines[1] = lines[1].replace(" in 3.29s.", ".")
    (step,) = bench.step_timeline(lines)
    assert step["seconds"] == 3


def test_no_split_without_a_marts_gate(bench):
    assert bench.core_and_extras(bench.step_timeline(_log(EVENTS[:4]))) is None
    assert bench.core_and_extras([]) is None


def _at(clock: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(f"2026-12-03T{clock}+00:00").timestamp()


def test_cpu_per_step_and_of_the_core_path_from_the_samples(bench):
    """Samples (time, RSS, process-tree CPU) every second, the tree burning 1.5 CPU-seconds
    a second: a step's CPU spans its start to the second after its end; the core path's
    leaves out the red-report notification inside it."""
    t0 = _at("06:16:50")
    samples = [(t0 + i, 100.0, 1.5 * i) for i in range(200)]
    steps = bench.step_timeline(_log(EVENTS), samples=samples)
    by = {s["step"]: s for s in steps}
    assert by["marts"]["cpu"] == pytest.approx(1.5 * 19)  # 06:17:32 → 06:17:51
    assert by["notifications__red_reports"]["cpu"] == pytest.approx(1.5 * 3)
    split = bench.core_and_extras(steps, samples)
    assert split["core_cpu"] == pytest.approx(1.5 * 61 - 1.5 * 3)  # 06:16:53 → 06:17:54, less the notification
    assert bench.core_and_extras(steps)["core_cpu"] is None  # no samples: no CPU figure
    assert bench.step_timeline(_log(EVENTS), samples=[(t0, 100.0)])[0]["cpu"] is None  # RSS-only samples


def test_cpu_of_a_live_process_tree_is_read_from_proc(bench):
    import os
    import sys

    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc")
    before = bench._cpu_s(os.getpid())
    sum(i * i for i in range(3_000_000))
    assert bench._cpu_s(os.getpid()) > before
    assert bench._cpu_s(2**22 + 7) is None  # no such process


def test_the_process_tree_reaches_grandchildren_with_their_depth(bench):
    """The run's steps execute in a child of ``harmoni`` (one per Dagster run) and their
    workers are that child's: the sampler must see them, each at its depth."""
    import subprocess
    import sys
    import time

    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc")
    nested = "import subprocess, sys, time; p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)']); print(p.pid, flush=True); time.sleep(30)"
    child = subprocess.Popen([sys.executable, "-c", nested], stdout=subprocess.PIPE, text=True)
    try:
        grandchild = int(child.stdout.readline())
        tree = dict(bench._tree(os.getpid()))
        assert tree[os.getpid()] == 0 and tree[child.pid] == 1 and tree[grandchild] == 2
    finally:
        child.kill()
        child.wait()
        os.kill(grandchild, 9)


def test_a_range_of_months_sums_each_step_over_the_months(bench):
    two_months = _log(EVENTS) + _log([(c.replace("06:", "07:", 1), s, w, t) for c, s, w, t in EVENTS])
    rows = {r["step"]: r for r in bench.by_step(bench.step_timeline(two_months))}
    assert list(rows) == list(dict.fromkeys(e[1] for e in EVENTS))
    assert rows["marts_uncertainty"]["count"] == 2
    assert rows["marts_uncertainty"]["seconds"] == pytest.approx(148.0)
    assert rows["marts__gate"]["seconds"] == pytest.approx(0.928)


def test_the_progress_lines_give_each_run_of_a_range(bench):
    output = "\n".join([
        "harmoni: …/dagster_home had no dagster.yaml: created one for an embedded SQLite instance",
        "[1/13] ingest_statistics 2025: ok (7.9 s)",
        "  warning: survey/2025-01/x.csv: something",
        "[2/13] harmoni_monthly 2025-01: ok (104.2 s)",
        "[3/13] harmoni_monthly 2025-02: FAILED (12 s)",
    ])
    runs = [(j, k, s, float(t)) for j, k, s, t in bench.RUN_LINE.findall(output)]
    assert runs == [("ingest_statistics", "2025", "ok", 7.9), ("harmoni_monthly", "2025-01", "ok", 104.2),
                    ("harmoni_monthly", "2025-02", "FAILED", 12.0)]


def test_the_extras_of_a_range_are_summed_over_its_months(bench):
    two_months = _log(EVENTS) + _log([(c.replace("06:", "07:", 1), s, w, t) for c, s, w, t in EVENTS])
    split = bench.core_and_extras(bench.step_timeline(two_months))
    assert split["extra_steps"]["marts_uncertainty"] == pytest.approx(148.0)
    assert split["extras"] == pytest.approx(sum(split["extra_steps"].values()))


def test_a_range_sums_each_steps_cpu_too(bench):
    t0 = _at("06:16:50")
    samples = [(t0 + i, 100.0, 1.5 * i) for i in range(4000)]
    two_months = _log(EVENTS) + _log([(c.replace("06:", "07:", 1), s, w, t) for c, s, w, t in EVENTS])
    rows = {r["step"]: r for r in bench.by_step(bench.step_timeline(two_months, samples=samples))}
    assert rows["marts"]["cpu"] == pytest.approx(2 * 1.5 * 19)
    assert bench.by_step(bench.step_timeline(two_months))[0]["cpu"] is None  # no CPU samples


def _cli_result(core: float, floor: float, peak: float, workers: list[float]) -> dict:
    return {"floor": floor, "run": {"wall": core + 60, "cpu": core * 1.3, "peak_rss_mb": peak, "worker_peak_rss_mb": workers,
                                    "steps": [{"step": "marts", "seconds": 8.0}]},
            "split": {"core": core, "core_cpu": core * 1.2, "extras": 60.0, "extra_steps": {"report": 60.0}}}


def test_the_cli_runs_targets_are_counted_run_by_run(bench):
    """Issue 19 asks for its targets in three runs of three: each is counted over the runs
    (the 45 s only where the floor is 15–20 s; the peak of any process, workers included)."""
    runs = [_cli_result(44.0, 15.6, 1800.0, [700.0]), _cli_result(48.7, 15.6, 1870.0, [2100.0]),
            _cli_result(60.0, 25.0, 1900.0, [650.0])]
    targets = {name: (met, of) for name, met, of, _ in bench.cli_targets(runs)}
    assert targets == {"core path ≤ 3 × the floor": (2, 3), "core path ≤ 45 s (floor 15–20 s)": (1, 2),
                       "peak RSS of any process ≤ 2 GB": (2, 3)}
    text = "\n".join(bench.cli_markdown({"period": "2025-12", "scope": "ALL", "runs": runs}))
    assert "| 2 | 108.7 s | 63.3 s | 15.6 s | 48.7 s (58.4 s) | 3.12 × | 60.0 s | 1.83 GB | 2.05 GB |" in text
    assert "core path ≤ 3 × the floor: met in 2 of 3 (2.82 ×, 3.12 ×, 2.40 ×)" in text
    assert "core path ≤ 45 s (floor 15–20 s): met in 1 of 2 (44.0 s, 48.7 s)" in text
    assert "peak RSS of any process ≤ 2 GB: met in 2 of 3 (1.76 GB, 2.05 GB, 1.86 GB)" in text


def test_the_year_block_judges_the_core_path_and_every_process(bench):
    """Twelve months: the core path against 4 minutes with the extras beside it (as for one
    month), the whole run's wall, the peak of any process against 2 GB, the steps summed
    over the months with their peak."""
    steps = [{"step": "marts", "seconds": 10.0, "peak_rss_mb": 1700.0, "cpu": 12.0},
             {"step": "report", "seconds": 20.0, "peak_rss_mb": 900.0, "cpu": 20.0},
             {"step": "marts", "seconds": 14.0, "peak_rss_mb": 2150.0, "cpu": 15.0}]
    one = {"floor": 130.0, "run": {"wall": 1600.0, "cpu": 1800.0, "peak_rss_mb": 2150.0, "worker_peak_rss_mb": [1500.0],
                                   "steps": steps, "runs": [{"job": "harmoni_monthly", "key": "2025-01", "seconds": 107.0}]},
           "split": {"core": 230.0, "core_cpu": 300.0, "extras": 1100.0, "extra_steps": {"report": 1100.0}}}
    text = "\n".join(bench.cli_year_markdown({"period": "2025-01..2025-12", "scope": "ALL", "runs": [one]}))
    assert "230.0 s (CPU 300.0 s) = 1.8 × the floor — twelve months ≤ 4 min: met; extras beside it 1100.0 s (report 1100 s)" in text
    assert "whole run: wall 1600.0 s, CPU 1800.0 s" in text
    assert "run process 2.10 GB, largest other process 1.46 GB — any process ≤ 2 GB: NOT met" in text
    assert "marts ×2 24 s (2,150 MB), report 20 s (900 MB)" in text
    assert "runs: harmoni_monthly 2025-01 107 s." in text
    one["split"]["core"], one["run"]["peak_rss_mb"], steps[2]["peak_rss_mb"] = 500.0, 1900.0, 1900.0
    text = "\n".join(bench.cli_year_markdown({"period": "2025-01..2025-12", "scope": "ALL", "runs": [one]}))
    assert "twelve months ≤ 4 min: NOT met" in text and "any process ≤ 2 GB: met" in text


def test_a_part_rewrites_only_its_own_block_of_the_results(bench):
    """`--only cli` replaces the cli block and keeps the domain stages' table beside it."""
    page = ("# Perf\n\n## Results\n\n<!-- bench:stages -->\nold stages\n<!-- /bench:stages -->\n\n"
            "<!-- bench:cli -->\nold cli\n<!-- /bench:cli -->\n\n## Reading\n\ntext\n")
    new = bench.rewrite_doc({"cli": "<!-- bench:cli -->\nnew cli\n<!-- /bench:cli -->"}, page)
    assert "old stages" in new and "new cli" in new and "old cli" not in new
    assert new.index("new cli") < new.index("## Reading") and new.endswith("## Reading\n\ntext\n")
    added = bench.rewrite_doc({"cli-year": "<!-- bench:cli-year -->\nyear\n<!-- /bench:cli-year -->"}, new)
    assert added.index("new cli") < added.index("year") < added.index("## Reading")
    assert bench.rewrite_doc({}, "# Perf\n").endswith("## Results\n")
    m = {"date": "2026-12-03 13:00 UTC", "cpu": "x", "cores": 2, "ram_gb": 23.5, "python": "3.11", "duckdb": "2",
         "gx": "1", "pandas": "3", "pyarrow": "26"}
    blocks = bench.results_blocks({"cli": {"period": "2025-12", "scope": "ALL", "runs": [_cli_result(44.0, 15.6, 1800.0, [700.0])]}}, m, 180.0)
    assert list(blocks) == ["cli"] and blocks["cli"].startswith("<!-- bench:cli -->\n*Written by `benchmarks/bench.py` on 2026-12-03")
