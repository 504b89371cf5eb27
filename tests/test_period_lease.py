"""Runs of one period take turns through the Dagster instance (a concurrency slot in its
database), across processes; a holder that died is reaped; a run left ``STARTED`` by a
dead process is marked failed. On the embedded SQLite instance and on PostgreSQL with
the repository's dagster.yaml."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import pytest

ROOT = Path(__file__).resolve().parents[1]

HOLDER = r"""
import sys, time
import dagster as dg
from harmoni_pipeline.local_runs import period_lease
instance = dg.DagsterInstance.get()
run_id, hold = sys.argv[1], float(sys.argv[2])
with period_lease(instance, "2025-11", run_id, progress=lambda line: print(line, flush=True), poll=0.2):
    print("acquired", time.time(), flush=True)
    time.sleep(hold)
    print("released", time.time(), flush=True)
"""


@pytest.fixture(params=["sqlite", "postgres"])
def instance_env(request, tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    if request.param == "sqlite":
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    else:
        db = request.getfixturevalue("postgres_db")
        shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
        env.update(DAGSTER_PG_HOST=db["host"], DAGSTER_PG_PORT=db["port"], DAGSTER_PG_USER=db["user"],
                   DAGSTER_PG_PASSWORD=db["password"], DAGSTER_PG_DB=db["db"])
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def _holder(env, run_id: str, hold: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", HOLDER, run_id, str(hold)], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _times(out: str) -> dict[str, float]:
    return {line.split()[0]: float(line.split()[1]) for line in out.splitlines() if line.split()[0] in ("acquired", "released")}


def test_two_runs_of_one_period_take_turns_across_processes(instance_env):
    first = _holder(instance_env, "run-a", 4.0)
    time.sleep(2.5)  # let the first take the lease
    second = _holder(instance_env, "run-b", 0.1)
    out_a, err_a = first.communicate(timeout=120)
    out_b, err_b = second.communicate(timeout=120)
    assert first.returncode == 0 and second.returncode == 0, err_a + err_b
    a, b = _times(out_a), _times(out_b)
    assert b["acquired"] >= a["released"]
    assert "waiting for run run-a" in out_b


def test_a_holder_killed_with_sigkill_does_not_hold_the_period_forever(instance_env):
    dead = _holder(instance_env, "run-dead", 600.0)
    line = dead.stdout.readline()
    assert line.startswith("acquired"), dead.stderr.read()
    dead.send_signal(signal.SIGKILL)
    dead.wait(timeout=30)
    after = _holder(instance_env, "run-after", 0.1)
    out, err = after.communicate(timeout=120)
    assert after.returncode == 0 and "acquired" in out, err


def test_a_run_left_started_by_a_dead_process_is_marked_failed(instance_env):
    from harmoni_pipeline.local_runs import HOST_TAG, PID_TAG, reap_dead_runs

    instance = dg.DagsterInstance.get()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    job = dg.define_asset_job("j", selection=dg.AssetSelection.assets("a"))
    @dg.asset
    def a():
        return None

    defs = dg.Definitions(assets=[a], jobs=[job])
    stuck = str(uuid.uuid4())
    instance.create_run_for_job(defs.resolve_job_def("j"), run_id=stuck, status=dg.DagsterRunStatus.STARTED,
                                tags={HOST_TAG: socket.gethostname(), PID_TAG: str(gone.pid)})
    assert instance.get_run_by_id(stuck).status == dg.DagsterRunStatus.STARTED
    assert reap_dead_runs(instance) == [stuck]
    record = instance.get_run_by_id(stuck)
    assert record.status == dg.DagsterRunStatus.FAILURE
    messages = [r.message for r in instance.all_logs(stuck)]
    assert any(f"pid {gone.pid}" in m and "died" in m for m in messages)
    instance.dispose()


def _partitioned_defs(step_body):
    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["2025-11"]))
    def step() -> None:
        step_body()

    return dg.Definitions(assets=[step], jobs=[dg.define_asset_job("one_step", selection=[step])])


def test_each_run_executes_in_a_child_process_and_a_child_killed_fails_only_its_run(instance_env, tmp_path):
    """``local_runs.execute`` on a persistent instance runs the job in a forked child (its
    heap goes when it exits); a child killed with SIGKILL (the out-of-memory killer) fails
    its run, marked so in the instance with the reason, frees the period, and the next run
    of the period goes on."""
    from harmoni_pipeline.local_runs import execute

    instance = dg.DagsterInstance.get()
    pid_file = tmp_path / "pid"
    ok = execute(_partitioned_defs(lambda: pid_file.write_text(str(os.getpid()))), "one_step", "2025-11", instance,
                 progress=lambda _: None)
    assert ok.success and ok.reason is None
    assert int(pid_file.read_text()) != os.getpid()
    assert instance.get_run_by_id(ok.run_id).status == dg.DagsterRunStatus.SUCCESS

    killed = execute(_partitioned_defs(lambda: os.kill(os.getpid(), signal.SIGKILL)), "one_step", "2025-11", instance,
                     progress=lambda _: None)
    assert not killed.success
    assert "killed by SIGKILL" in killed.reason
    record = instance.get_run_by_id(killed.run_id)
    assert record.status == dg.DagsterRunStatus.FAILURE
    assert any("killed by SIGKILL" in (r.message or "") for r in instance.all_logs(killed.run_id))

    again = execute(_partitioned_defs(lambda: None), "one_step", "2025-11", instance, progress=lambda _: None)
    assert again.success  # the period was not left leased to the dead run
    instance.dispose()


PRELOAD = r"""
import sys
from harmoni_pipeline.local_runs import preload
preload()
print("great_expectations" in sys.modules)
"""


@pytest.mark.parametrize("executor, loaded", [("", "True"), ("celery", "False")])
def test_the_orchestrating_process_preloads_only_for_runs_it_forks(executor, loaded):
    """``harmoni run`` loads Great Expectations once for the children it forks; with the
    Celery executor the steps run on the workers, so it loads nothing it would not use."""
    env = {**os.environ, "HARMONI_EXECUTOR": executor}
    out = subprocess.run([sys.executable, "-c", PRELOAD], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-1] == loaded


STOPPED = r"""
import os, sys, time
import dagster as dg
from harmoni_pipeline.local_runs import execute, stop_on_sigterm

@dg.asset(partitions_def=dg.StaticPartitionsDefinition(["2025-11"]))
def step() -> None:
    print("child", os.getpid(), flush=True)
    time.sleep(600)

defs = dg.Definitions(assets=[step], jobs=[dg.define_asset_job("one_step", selection=[step])])
try:
    with stop_on_sigterm():
        execute(defs, "one_step", "2025-11", dg.DagsterInstance.get(), progress=lambda _: None)
except KeyboardInterrupt as exc:  # as harmoni's main does
    sys.exit(exc.exit_code)
"""


def test_a_stopped_harmoni_run_fails_its_run_kills_its_child_and_frees_the_period(instance_env):
    """``SIGTERM`` (``kill``, ``timeout``, a service manager stopping the job) to the process
    of ``harmoni run`` while a run's child works: the child is killed, the run is failed in
    the instance with the reason (not left ``STARTED`` until the next ``harmoni`` reaps it,
    which would also hold the daemon's queue for that period), the period is free at once,
    and the process exits 143."""
    from harmoni_pipeline.local_runs import execute
    from tests.processes import alive

    parent = subprocess.Popen([sys.executable, "-c", STOPPED], env=instance_env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    line = parent.stdout.readline().split()
    assert line and line[0] == "child", parent.stderr.read() if not line else line
    child = int(line[1])
    parent.send_signal(signal.SIGTERM)
    assert parent.wait(timeout=60) == 128 + signal.SIGTERM, parent.stderr.read()
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(child), "the run's child outlived the stopped harmoni run"

    instance = dg.DagsterInstance.get()
    [record] = instance.get_run_records()
    assert record.dagster_run.status == dg.DagsterRunStatus.FAILURE
    assert any("harmoni received SIGTERM" in (r.message or "") for r in instance.all_logs(record.dagster_run.run_id))
    started = time.monotonic()
    again = execute(_partitioned_defs(lambda: None), "one_step", "2025-11", instance, progress=lambda _: None)
    assert again.success and time.monotonic() - started < 30  # no wait for a lease still held
    instance.dispose()
