"""Steps on Celery workers: ``HARMONI_EXECUTOR=celery`` and ``harmoni worker``.

Room: the wiring between harmoni and Dagster's Celery executor (``dagster-celery``) — the
broker, the executor's configuration, a worker process listening on the broker, and
running one job so that its steps go to the workers. What a step does is the code
location's; where a step's data goes is the warehouse's (steps hand nothing to each other
through a worker's own disk: outputs go through :mod:`harmoni_pipeline.step_io`, landing
files are read from the landing zone, every table from the warehouse).

Choices
- Broker ``HARMONI_CELERY_BROKER`` (default RabbitMQ on this machine, guest/guest); the
  results come back over the same broker (``rpc://``), so a deployment needs nothing else.
- **A worker that dies mid-step loses nothing**: tasks are acknowledged only when they
  end (``task_acks_late``) and a task whose worker process was lost is rejected back to
  the queue (``task_reject_on_worker_lost``), so the broker hands the step to another
  worker, which runs it again from the start; every step writes its results
  write-audit-publish, so a half-done first attempt leaves nothing behind. Each worker
  takes one task at a time per process (``worker_prefetch_multiplier=1``): a long step
  never holds back queued ones.
- Every worker loads the same code location (``harmoni_pipeline.definitions``) from its
  own environment, so it needs the same ``HARMONI_SPLIT``, ``HARMONI_PII_KEY`` and
  ``HARMONI_*`` locations as the process that starts the run — the landing zone, the
  warehouse and the scope also travel in the run's configuration (:func:`run_config`),
  and the Dagster instance is the run's own (its reference travels with each task).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

import dagster as dg

DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672//"
QUEUE = "dagster"  # dagster-celery's queue: steps without a queue tag go there
CODE_LOCATION = "harmoni_pipeline.definitions"

# Celery settings the executor and the workers share (the workers' must match).
CELERY_SETTINGS = {
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    "worker_prefetch_multiplier": 1,
    "broker_connection_retry_on_startup": True,
}


def broker_url(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    return (env.get("HARMONI_CELERY_BROKER") or "").strip() or DEFAULT_BROKER


def executor_config(environ: Mapping[str, str] | None = None) -> dict:
    """The configuration of dagster-celery's executor (and of the workers' app)."""
    return {"broker": broker_url(environ), "backend": "rpc://", "config_source": dict(CELERY_SETTINGS)}


def celery_executor(environ: Mapping[str, str] | None = None) -> dg.ExecutorDefinition:
    from dagster_celery import celery_executor as executor

    quiet_step_task_reregistration()
    return executor.configured(executor_config(environ), name="celery")


def quiet_step_task_reregistration() -> None:
    """dagster-celery defines its step task anew (the same code, a new closure) for every
    step it submits, so Celery warns once per run process that the name ``execute_plan``
    is "already registered to a different callable". Harmless: every copy is the same
    function, and submitting only uses the name (the workers run their own registration).
    Only that warning for that one name is silenced; any other name still warns."""
    import warnings

    from celery.exceptions import CeleryWarning

    warnings.filterwarnings("ignore", message=r"Task name 'execute_plan' is already registered", category=CeleryWarning)


def worker_app(environ: Mapping[str, str] | None = None):
    """The Celery app a worker runs: dagster-celery's, on our broker, with its step task."""
    from dagster_celery.executor import CeleryExecutor
    from dagster_celery.make_app import make_app
    from dagster_celery.tasks import create_task

    from celery.signals import task_postrun

    config = executor_config(environ)
    app = make_app(CeleryExecutor.for_cli(**config).app_args())
    create_task(app)
    task_postrun.connect(thaw_after_step, weak=False)
    return app


def thaw_after_step(**_) -> None:
    """A worker process runs step after step: what a step's memory release froze goes back
    to the garbage collector when the step's task ends (:mod:`harmoni_pipeline.memory`)."""
    from harmoni_pipeline import memory

    memory.thaw()


def worker_argv(concurrency: int = 1, queues: str | None = None, name: str | None = None,
                loglevel: str = "INFO") -> list[str]:
    """The ``celery worker`` arguments of ``harmoni worker``."""
    if concurrency < 1:
        raise ValueError(f"--concurrency must be at least 1, got {concurrency}")
    name = name or f"harmoni-{os.getpid()}@{socket.gethostname()}"
    return ["worker", f"--concurrency={concurrency}", f"--queues={queues or QUEUE}", f"--hostname={name}",
            f"--loglevel={loglevel}", "--pool=prefork", "--without-gossip", "--without-mingle"]


def start_worker(concurrency: int = 1, queues: str | None = None, name: str | None = None) -> None:
    """Listen on the broker and run steps until stopped (SIGTERM: finish the running
    steps, then stop; SIGKILL: the broker gives the running steps to another worker)."""
    import importlib

    importlib.import_module(CODE_LOCATION)  # fail here, not on the first task, if it cannot load
    worker_app().worker_main(argv=worker_argv(concurrency, queues, name))


def run_config(settings) -> dict:
    """The run's resource configuration: where the landing zone and the warehouse are
    and the scope, as this process resolved them, so that every worker uses the same."""
    return {"resources": {"harmoni": {"config": {
        "landing_dir": str(settings.landing_dir),
        "warehouse_dir": str(settings.warehouse_dir),
        "scope": settings.scope,
    }}}}


def execute(job_name: str, partition: str, instance: dg.DagsterInstance, *, run_id: str,
            tags: Mapping[str, str], run_config: Mapping | None = None) -> dg.ExecuteJobResult:
    """One run of ``job_name`` for ``partition`` whose steps the Celery executor sends to
    the workers; this process only orchestrates. The job is loaded from the code
    location by name (a reconstructable job), as the workers load it."""
    from dagster._core.definitions.reconstruct import ReconstructableRepository
    from dagster._core.execution.api import execute_run

    job = ReconstructableRepository.for_module(CODE_LOCATION, "defs").get_reconstructable_job(job_name)
    run = instance.create_run_for_job(
        job_def=job.get_definition(),
        run_id=run_id,
        run_config=dict(run_config or {}),
        tags={**tags, "dagster/partition": partition},
        job_code_origin=job.get_python_origin(),
    )
    return execute_run(job, run, instance, raise_on_error=False)
