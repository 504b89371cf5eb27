"""Runs driven from this process (``harmoni run``, ``harmoni demo``): one period at a
time per period, each run in a child forked from this process, progress on the terminal,
the full Dagster log in a file, and runs whose process died marked failed.

Room: driving Dagster jobs (each in a forked child) on the instance the CLI chose — the per-period
lease (a concurrency slot in the instance's database, so two ``harmoni run`` of the same
period on any machines take turns, and a run started by the daemon for that period is
waited for), the outcome of each run (its one-line failure reason, its warnings), and
the log file. What to run is :mod:`harmoni_pipeline.runplan`'s; what a run does, the
code location's.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import signal
import socket
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import dagster as dg

from harmoni_pipeline import forking, memory

LEASE_PREFIX = "harmoni_period:"
HOST_TAG, PID_TAG = "harmoni/host", "harmoni/pid"
ACTIVE = (dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
          dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING)
FINISHED = (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED)
POLL_SECONDS = 1.0


@dataclass
class RunOutcome:
    job: str
    partition: str
    run_id: str
    success: bool
    seconds: float
    reason: str | None = None                          # one line, when it failed
    warnings: list[str] = field(default_factory=list)  # the run's warning log lines


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _holder(step_key: str) -> tuple[str, int] | None:
    """``harmoni-run@host:pid`` → (host, pid)."""
    if "@" not in step_key:
        return None
    host, _, pid = step_key.split("@", 1)[1].rpartition(":")
    return (host, int(pid)) if pid.isdigit() else None


def reap_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Runs started in a process of this host that no longer exists (``kill -9``, a
    crash) are marked failed with the reason, and their period leases freed. Returns the
    run ids. Runs of other hosts are left to Dagster's run monitoring."""
    host = socket.gethostname()
    reaped = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=list(ACTIVE), tags={HOST_TAG: host})):
        pid = run.tags.get(PID_TAG, "")
        if pid.isdigit() and not _pid_alive(int(pid)):
            instance.report_run_failed(run, message=f"the process running it (pid {pid} on {host}) died")
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
            reaped.append(run.run_id)
    _free_stale_leases(instance)
    return reaped


def _free_stale_leases(instance: dg.DagsterInstance) -> None:
    """Leases held by finished runs, or by dead processes of this host that never got to
    create their run."""
    storage = instance.event_log_storage
    host = socket.gethostname()
    keys = [k for k in storage.get_concurrency_keys() if k.startswith(LEASE_PREFIX)]
    for key in keys:
        for slot in storage.get_concurrency_info(key).claimed_slots:
            run = instance.get_run_by_id(slot.run_id)
            holder = _holder(slot.step_key)
            dead_here = holder is not None and holder[0] == host and not _pid_alive(holder[1])
            if (run is not None and run.status in FINISHED) or (run is None and dead_here):
                storage.free_concurrency_slot_for_step(slot.run_id, slot.step_key)


def _other_active_run(instance: dg.DagsterInstance, partition: str, run_id: str):
    """A run of the same partition that is queued or running (the daemon's, another
    machine's), if any."""
    runs = instance.get_runs(filters=dg.RunsFilter(statuses=list(ACTIVE), tags={"dagster/partition": partition}), limit=5)
    return next((r for r in runs if r.run_id != run_id), None)


@contextmanager
def period_lease(instance: dg.DagsterInstance, partition: str, run_id: str, *, progress: Callable[[str], None] = print,
                 poll: float = POLL_SECONDS):
    """Hold the lease of ``partition`` for ``run_id``: runs of one period take turns
    across processes and machines sharing the instance; a holder that died is reaped.
    Waiting is announced once, with the run it waits for."""
    storage = instance.event_log_storage
    key = LEASE_PREFIX + partition
    step = f"harmoni-run@{socket.gethostname()}:{os.getpid()}"
    if storage.get_concurrency_info(key).slot_count != 1:
        storage.set_concurrency_slots(key, 1)
    announced = False
    while True:
        claim = storage.claim_concurrency_slot(key, run_id, step)
        if claim.is_claimed:
            other = _other_active_run(instance, partition, run_id)
            if other is None:
                break
            storage.free_concurrency_slot_for_step(run_id, step)
            holder = other.run_id
        else:
            storage.free_concurrency_slot_for_step(run_id, step)  # never left waiting in the queue
            holder = ", ".join(s.run_id[:8] for s in storage.get_concurrency_info(key).claimed_slots) or "another run"
        if not announced:
            progress(f"  waiting for run {holder[:8]} of {partition} to finish (runs of one period take turns)")
            announced = True
        reap_dead_runs(instance)
        time.sleep(poll)
    try:
        yield
    finally:
        storage.free_concurrency_slot_for_step(run_id, step)


def _warnings(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The run's own warning lines (``context.log.warning``), in order, without repeats."""
    lines = []
    for record in instance.all_logs(run_id):
        if record.dagster_event is None and record.level >= 30 and record.user_message:
            lines.append(record.user_message)
    return list(dict.fromkeys(lines))


def write_log(instance: dg.DagsterInstance, run_ids: list[str], path: Path) -> Path:
    """Every event of the runs, as text (stack traces of failed steps included)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as out:
        for run_id in run_ids:
            for record in instance.all_logs(run_id):
                stamp = dt.datetime.fromtimestamp(record.timestamp, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
                event = record.dagster_event
                what = event.event_type_value if event else "LOG"
                out.write(f"{stamp} {run_id[:8]} {record.step_key or '-'} {what}: {record.user_message or record.message}\n")
                if event is not None and event.is_step_failure and event.step_failure_data.error:
                    out.write(event.step_failure_data.error.to_string() + "\n")
    return path


class Stopped(KeyboardInterrupt):
    """This process was asked to stop (``SIGTERM``: ``kill``, ``timeout``, a service
    manager). A kind of ``KeyboardInterrupt``, so it unwinds the same way; the command
    line exits with ``exit_code`` (128 + SIGTERM, as the shell reports a process it ended)."""

    exit_code = 128 + signal.SIGTERM


@contextmanager
def stop_on_sigterm():
    """Within the block, ``SIGTERM`` raises :class:`Stopped` in this (main) thread instead
    of ending the process on the spot: the run under way is killed and marked failed with
    the reason, its period freed (:func:`execute`), and the log written."""
    def stop(signum, frame):
        raise Stopped("SIGTERM")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interruption(exc: BaseException) -> str:
    if isinstance(exc, Stopped):
        return "the run was stopped: harmoni received SIGTERM"
    if isinstance(exc, KeyboardInterrupt):
        return "the run was interrupted (Ctrl-C)"
    return f"the run ended with an error in the process running it: {type(exc).__name__}: {exc}"


def _on_celery() -> bool:
    from harmoni_pipeline.defs.build import executor_name

    return executor_name() == "celery"


def preload() -> None:
    """Load in this process what each run's forked child would otherwise load again: the
    packaged region list and Great Expectations (≈ 4 s of CPU together, measured). Nothing
    with ``HARMONI_EXECUTOR=celery``: the steps run on the workers, which load their own."""
    from harmoni_pipeline.quality import gx_runner
    from harmoni_pipeline.regions import Regions

    if _on_celery():
        return
    Regions.load()
    gx_runner.load_library()


def execute(defs: dg.Definitions, job_name: str, partition: str, instance: dg.DagsterInstance, *,
            progress: Callable[[str], None] = print, settings=None,
            extra_tags: dict[str, str] | None = None) -> RunOutcome:
    """One run of ``job_name`` for ``partition`` from this process, under the period's
    lease; nothing is printed by Dagster (its log stays in the instance and goes to the log
    file).

    On a persistent instance the run executes in a child forked from this process
    (:func:`~harmoni_pipeline.forking.call_in_child`): it starts with this process's imports
    and loaded data, and what its steps leave in the C heap goes with it, so the runs of a
    range do not pile up in one process (a twelve-month range had grown by ≈ 0.7 GB). A
    child that dies (``kill -9``, out of memory) fails its run, marked so in the instance,
    and the caller goes on. An ephemeral instance lives in this process's memory, so its
    runs execute here. With ``HARMONI_EXECUTOR=celery`` this process orchestrates and the
    steps run on the Celery workers (:mod:`harmoni_pipeline.celery_workers`), which get
    ``settings`` (the caller's, built once) through the run's configuration."""
    from harmoni_pipeline.run_outcome import failure_reason

    run_id = str(uuid.uuid4())
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    tags = {**(extra_tags or {}), HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid()), "harmoni/trigger": "cli"}
    with period_lease(instance, partition, run_id, progress=progress):
        started = time.monotonic()
        if _on_celery():  # steps on the workers
            from harmoni_pipeline import celery_workers

            if settings is None:
                raise ValueError("HARMONI_EXECUTOR=celery: execute() needs the run's settings for the workers")
            config = {**quiet, **celery_workers.run_config(settings)}
            result = celery_workers.execute(job_name, partition, instance, run_id=run_id, tags=tags, run_config=config)
            success, reason = result.success, (None if result.success else failure_reason(result.all_events))
        else:
            here = functools.partial(_execute_here, defs, job_name, partition, instance, run_id, tags, quiet)
            if forking.can_fork() and instance.is_persistent:
                try:
                    success, reason = forking.call_in_child(here)
                except forking.ChildDied as exc:
                    success, reason = False, f"the run died: {exc}"
                    _mark_failed(instance, run_id, reason)
                except BaseException as exc:  # stopped here (SIGTERM, Ctrl-C): the child was killed with it
                    _mark_failed(instance, run_id, _interruption(exc))
                    raise
            else:
                success, reason = here()
        elapsed = time.monotonic() - started
    return RunOutcome(job_name, partition, run_id, success, elapsed, reason, _warnings(instance, run_id))


def _execute_here(defs: dg.Definitions, job_name: str, partition: str, instance: dg.DagsterInstance, run_id: str,
                  tags: dict[str, str], run_config: dict) -> tuple[bool, str | None]:
    """The run in this process: whether it succeeded, and its one-line failure reason."""
    from harmoni_pipeline.run_outcome import failure_reason

    try:
        result = defs.resolve_job_def(job_name).execute_in_process(
            partition_key=partition, instance=instance, raise_on_error=False, run_config=run_config, run_id=run_id,
            tags=tags,
        )
    finally:
        memory.thaw()  # what the run's steps froze is the collector's again (memory.py)
    return result.success, (None if result.success else failure_reason(result.all_events))


def _mark_failed(instance: dg.DagsterInstance, run_id: str, reason: str) -> None:
    """A run whose process died is failed in the instance, with the reason, and whatever
    concurrency slots it held are freed."""
    run = instance.get_run_by_id(run_id)
    if run is not None and run.status in ACTIVE:
        instance.report_run_failed(run, message=reason)
    instance.event_log_storage.free_concurrency_slots_for_run(run_id)
