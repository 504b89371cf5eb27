"""Beyond one machine, for real: a landing zone and a warehouse on an S3 endpoint (moto's
standalone server, over HTTP), steps on two ``harmoni worker`` processes over RabbitMQ.

- The same small landing zone run in one process (folder landing zone and warehouse) and
  with ``HARMONI_EXECUTOR=celery HARMONI_SPLIT=province`` on two workers with the landing
  zone and the warehouse on S3 gives the same ``content_sha256`` for every mart; the
  workers ran every step; one worker is killed (SIGKILL, its whole process group) while it
  runs a step: the broker hands that step to the other worker and the run still succeeds.
- The landing sensor over ``s3://`` sees a new object and ignores a hidden one.
- A landing zone at a URL follows the same rules as the same files in a folder.

Everything is started by the fixtures and stopped in their ``finally``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import dagster as dg
import pytest

from tests.scaleout_services import HARMONI, moto_s3, rabbitmq_vhost, start_workers, stop, wait_for

pytestmark = pytest.mark.slow

PERIOD = "2025-12"
BUCKET = "harmoni"
LANDING_URL = f"s3://{BUCKET}/landing"
WAREHOUSE_URL = f"s3://{BUCKET}/warehouse"
RUN_TIMEOUT = 900


def _base_env(tmp: Path, aws: dict) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HARMONI_", "DAGSTER_", "AWS_"))}
    env.update(aws)
    env.update({"HARMONI_PII_KEY": "test-key-for-harmoni", "HARMONI_SCOPE": "35.13", "GX_ANALYTICS_ENABLED": "false",
                "DAGSTER_HOME": str(tmp / "dagster_home")})
    (tmp / "dagster_home").mkdir(exist_ok=True)
    return env


def _sample(landing: Path, env: dict) -> None:
    """A small month, half of its survey files in a province folder (two shards), plus
    entries the landing rules refuse (a hidden file, a folder that is not a period)."""
    subprocess.run([HARMONI, "sample", "--out", str(landing), "--from", PERIOD, "--to", PERIOD,
                    "--responses", "150", "--reports", "30"], env=env, check=True, capture_output=True)
    month = landing / "survey" / PERIOD
    (month / "35").mkdir()
    for f in sorted(month.glob("*.csv"))[:2]:
        shutil.move(f, month / "35" / f.name)
    (month / ".draft.csv").write_bytes((month / "35" / sorted(p.name for p in (month / "35").iterdir())[0]).read_bytes())
    (landing / "survey" / f"{PERIOD}-copy").mkdir()
    (landing / "survey" / f"{PERIOD}-copy" / "x.csv").write_text("a,b\n1,2\n", encoding="utf-8")


def _upload(fs, local: Path, url: str) -> None:
    base = url.split("://", 1)[1]
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        fs.put_file(str(path), f"{base}/{path.relative_to(local).as_posix()}")


def _mart_hashes(root) -> dict[str, str]:
    from harmoni_pipeline.registry import catalog_tables
    from harmoni_pipeline.warehouse import Warehouse

    manifest = Warehouse(root, catalog_tables()).manifest("marts", PERIOD)
    assert manifest is not None, f"no mart snapshot of {PERIOD} in {root}"
    return {table: entry.sha256 for table, entry in manifest.tables.items()}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """moto S3 and a RabbitMQ virtual host for the module, with the sample landing zone
    in a folder and on S3; the in-process environment points s3fs at moto."""
    tmp = tmp_path_factory.mktemp("scaleout")
    with pytest.MonkeyPatch.context() as mp, moto_s3(tmp / "moto.log") as aws, rabbitmq_vhost() as broker:
        for key, value in aws.items():
            mp.setenv(key, value)
        import s3fs

        fs = s3fs.S3FileSystem(skip_instance_cache=True)
        fs.mkdir(BUCKET)
        env = _base_env(tmp, aws)
        landing = tmp / "landing"
        _sample(landing, env)
        _upload(fs, landing, LANDING_URL)
        yield {"tmp": tmp, "env": env, "broker": broker, "fs": fs, "landing": landing, "mp": mp}


@pytest.fixture(scope="module")
def one_process_run(stack):
    """(a) the month in one process — landing zone and warehouse in folders, no split —
    started in the background (it runs while the workers run (b))."""
    tmp, env = stack["tmp"], stack["env"]
    (tmp / "a").mkdir()
    with open(tmp / "a" / "run.log", "wb") as out:
        run = subprocess.Popen([HARMONI, "run", "--period", PERIOD, "--landing", str(stack["landing"]),
                                "--warehouse", str(tmp / "a" / "warehouse")],
                               cwd=tmp / "a", env={**env, "HARMONI_EXECUTOR": "in_process"},
                               stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield run
    finally:
        stop(run)


@pytest.fixture(scope="module")
def one_process(stack, one_process_run):
    rc = one_process_run.wait(timeout=RUN_TIMEOUT)
    log = (stack["tmp"] / "a" / "run.log").read_text(encoding="utf-8", errors="replace")
    assert rc == 0, log[-4000:]
    return _mart_hashes(stack["tmp"] / "a" / "warehouse")


@pytest.fixture(scope="module")
def celery_run(stack, one_process_run):
    """(b) the same month with HARMONI_EXECUTOR=celery and HARMONI_SPLIT=province on two
    workers, landing zone and warehouse on S3; worker 1 is killed while it runs a step."""
    tmp = stack["tmp"]
    env = {**stack["env"], "HARMONI_CELERY_BROKER": stack["broker"], "HARMONI_SPLIT": "province"}
    workers = []
    run = None
    try:
        workers = start_workers(["w1", "w2"], tmp, env)
        (tmp / "b").mkdir()
        run = subprocess.Popen([HARMONI, "run", "--period", PERIOD, "--landing", LANDING_URL, "--warehouse", WAREHOUSE_URL],
                               cwd=tmp / "b", env={**env, "HARMONI_EXECUTOR": "celery"},
                               stdout=open(tmp / "b" / "run.log", "wb"), stderr=subprocess.STDOUT,
                               start_new_session=True)
        w1, w2 = workers
        # once worker 1 has finished a step, kill it during its next one
        wait_for(lambda: w1.finished() or run.poll() is not None, RUN_TIMEOUT, "worker 1's first step")
        killed = wait_for(lambda: w1.running() or run.poll() is not None, RUN_TIMEOUT, "worker 1's second step")
        assert run.poll() is None, "the run ended before worker 1 ran a second step"
        stop(w1.proc)
        rc = run.wait(timeout=RUN_TIMEOUT)
        log = (tmp / "b" / "run.log").read_text(encoding="utf-8", errors="replace")
        yield {"rc": rc, "log": log, "killed": killed, "workers": workers, "env": env}
    finally:
        if run is not None and run.poll() is None:
            stop(run)
        for worker in workers:
            stop(worker.proc)


def test_two_celery_workers_on_s3_give_the_one_process_marts_even_when_one_dies(stack, celery_run, one_process):
    assert celery_run["rc"] == 0, celery_run["log"][-4000:]
    w1, w2 = celery_run["workers"]
    # the killed step was handed to the other worker, which ran it to the end
    (task,) = celery_run["killed"]
    assert task not in w1.finished()
    assert task in w2.received() and task in w2.finished(), w2.text()[-3000:]
    assert "succeeded" in w2.text() and w1.finished()
    # every step of the run ran on a worker (none in the process that started it)
    with dg.DagsterInstance.from_config(stack["env"]["DAGSTER_HOME"]) as instance:
        (record,) = instance.get_run_records(limit=1)
        events = instance.all_logs(record.dagster_run.run_id)
        succeeded = {e.step_key for e in events if e.dagster_event and e.dagster_event.is_step_success}
        on_workers = {e.step_key for e in events if e.dagster_event and "in celery worker" in (e.dagster_event.message or "")}
        assert record.dagster_run.status == dg.DagsterRunStatus.SUCCESS
        assert any("__parse_shard" in key for key in succeeded)  # HARMONI_SPLIT=province
        assert succeeded and succeeded <= on_workers
    # identical marts: one process, folders, no split  ==  two workers, S3, split, a kill
    hashes = _mart_hashes(WAREHOUSE_URL)
    assert len(hashes) >= 5 and hashes == one_process


def test_the_landing_sensor_sees_a_new_s3_object_and_not_a_hidden_one(stack, celery_run, tmp_path, monkeypatch):
    from harmoni_pipeline.definitions import build_defs
    from harmoni_pipeline.defs.resources import HarmoniResource

    assert celery_run["rc"] == 0
    fs = stack["fs"]
    for key, value in {"HARMONI_LANDING_DIR": LANDING_URL, "HARMONI_WAREHOUSE_DIR": WAREHOUSE_URL,
                       "HARMONI_LOCAL_DIR": str(tmp_path / "daemon"), "HARMONI_PII_KEY": "test-key-for-harmoni"}.items():
        monkeypatch.setenv(key, value)
    defs = build_defs()
    defs.get_repository_def()
    sensor = defs.resolve_sensor_def("harmoni_landing_sensor")

    def tick(instance, cursor):
        with dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=defs.get_repository_def(),
                                     resources={"harmoni": HarmoniResource()}) as ctx:
            result = sensor.evaluate_tick(ctx)
        return [(r.job_name, r.partition_key) for r in result.run_requests or []], result.cursor

    base = LANDING_URL.split("://", 1)[1]
    source = next(p for p in sorted(stack["landing"].rglob("survey/*/*.csv")) if not p.name.startswith("."))
    with dg.instance_for_test() as instance:
        requests, cursor = tick(instance, None)  # a baseline: the month is staged from these objects
        assert requests == [] and cursor
        fs.pipe(f"{base}/survey/{PERIOD}/.hidden.csv", source.read_bytes())
        requests, cursor = tick(instance, cursor)
        assert requests == []
        lines = source.read_bytes().splitlines(keepends=True)
        fs.pipe(f"{base}/survey/{PERIOD}/susulan.csv", b"".join(lines[: max(2, len(lines) // 2)]))
        requests, _ = tick(instance, cursor)
        assert requests == [("ingest_monthly", PERIOD)]


def test_a_landing_zone_at_a_url_follows_the_folder_rules(stack, tmp_path):
    """Listing, issues, SHA-256 snapshot of the S3 copy == those of the folder; a changed
    object is fetched again, a removed one leaves the copy."""
    from harmoni_pipeline.ingest.landing import HashCache
    from harmoni_pipeline.ingest.landing_mirror import sync
    from harmoni_pipeline.ingest.landing_shape import scan
    from harmoni_pipeline.landing_watch import snapshot

    fs, landing = stack["fs"], stack["landing"]
    url = f"s3://{BUCKET}/rules-{time.monotonic_ns()}"
    _upload(fs, landing, url)

    def described(root: Path):
        listing = scan(root)
        files = {k: [p.relative_to(root).as_posix() for p in v] for k, v in listing.files.items()}
        return files, listing.issues, snapshot(listing, HashCache(None))

    first = sync(url, tmp_path)
    assert described(first.root) == described(landing)
    assert any(".draft.csv" in str(i) for i in scan(first.root).issues)
    assert any(f"{PERIOD}-copy" in str(i) for i in scan(first.root).issues)
    assert set(first.fetched) == {p.relative_to(landing).as_posix() for p in landing.rglob("*") if p.is_file()}
    base = url.split("://", 1)[1]
    readme = landing / "README.txt"
    fs.pipe(f"{base}/README.txt", readme.read_bytes() + b"\nchanged\n")
    fs.rm(f"{base}/survey/{PERIOD}-copy/x.csv")
    fs.pipe(f"{base}/survey/{PERIOD}/35", b"x")  # a key that is also a "folder": cannot be a path
    second = sync(url, tmp_path)
    assert second.fetched == ["README.txt"] and second.removed == [f"survey/{PERIOD}-copy/x.csv"]
    assert second.skipped == [f"survey/{PERIOD}/35"]
    assert (second.root / "README.txt").read_bytes().endswith(b"changed\n")
    assert not (second.root / "survey" / f"{PERIOD}-copy").exists()
    assert fs.exists(f"{base}/README.txt")  # the landing objects are only read


def test_celery_settings_and_the_landing_location_from_the_environment(tmp_path):
    """No service needed: the executor's broker and task settings, the worker's
    arguments, a landing zone given as a URL or as a folder."""
    from harmoni_pipeline import celery_workers
    from harmoni_pipeline.definitions import executor_from_env
    from harmoni_pipeline.settings import Settings

    env = {"HARMONI_EXECUTOR": "celery", "HARMONI_CELERY_BROKER": "amqp://u:p@broker:5672/harmoni"}
    assert executor_from_env(env).name == "celery"
    config = celery_workers.executor_config(env)
    assert config["broker"] == "amqp://u:p@broker:5672/harmoni"
    assert config["config_source"]["task_acks_late"] and config["config_source"]["task_reject_on_worker_lost"]
    assert celery_workers.broker_url({}) == "amqp://guest:guest@127.0.0.1:5672//"
    argv = celery_workers.worker_argv(2, "dagster,big", "w@host")
    assert {"--concurrency=2", "--queues=dagster,big", "--hostname=w@host"} <= set(argv)
    with pytest.raises(ValueError):
        celery_workers.worker_argv(0)
    with pytest.raises(ValueError):
        executor_from_env({"HARMONI_EXECUTOR": "celeri"})
    remote = Settings.from_env(environ={"HARMONI_PII_KEY": "k", "HARMONI_LANDING_DIR": "s3://bucket/landing/",
                                        "HARMONI_LOCAL_DIR": str(tmp_path)})
    assert remote.landing_dir == "s3://bucket/landing"
    assert celery_workers.run_config(remote)["resources"]["harmoni"]["config"]["landing_dir"] == "s3://bucket/landing"
    local = Settings.from_env(environ={"HARMONI_PII_KEY": "k", "HARMONI_LANDING_DIR": str(tmp_path / "l")})
    assert local.landing_dir == tmp_path / "l" and local.landing_root() == tmp_path / "l"
