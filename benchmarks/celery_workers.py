"""Measure one sample month run with ``HARMONI_EXECUTOR=celery`` on one and on two
``harmoni worker`` processes, and print each run's wall time and per-step timeline.

    .venv/bin/python benchmarks/celery_workers.py [--responses 3000] [--reports 300] [--period 2025-12]
        [--scope 35.13|35|ALL] [--province-folders]

``--province-folders`` delivers each survey and FKDM file of the month in the folder of
its province (``survey/2025-12/35/…``, the sample names each file after its province),
as a national delivery would come, so that ``HARMONI_SPLIT=province`` has one parse step
per province; without it every file is in the month folder (one shard ``all``).

Starts what it needs (a RabbitMQ virtual host, the workers; folders for the landing
zone and the warehouse, so that the figure is the workers' and not an S3 server's) with
the helpers of the scale-out tests, and stops it all at the end. Each configuration
runs on a fresh warehouse and Dagster instance. Prints Markdown for docs/deployment.md §3.5.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.scaleout_services import HARMONI, rabbitmq_vhost, start_workers, stop  # noqa: E402


def timeline(dagster_home: Path) -> list[tuple[str, str, float, float, str]]:
    """(run, step, start, end, worker) of every step of every run, seconds from the first run's start."""
    import dagster as dg

    rows = []
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        records = sorted(instance.get_run_records(), key=lambda r: r.start_time or 0)
        t0 = records[0].start_time
        for record in records:
            run = record.dagster_run
            steps: dict[str, list] = {}
            for entry in instance.all_logs(run.run_id):
                event = entry.dagster_event
                if event is None or entry.step_key is None:
                    continue
                row = steps.setdefault(entry.step_key, [None, None, ""])
                if event.is_step_start:
                    row[0] = entry.timestamp - t0
                elif event.is_step_success or event.is_step_failure:
                    row[1] = entry.timestamp - t0
                elif "in celery worker" in (event.message or ""):
                    row[2] = str(event.event_specific_data.metadata["Celery worker"].value).split("@")[0]
            label = f"{run.job_name} {run.tags.get('dagster/partition', '')}"
            rows += [(label, key, s, e, w) for key, (s, e, w) in steps.items() if s is not None and e is not None]
    return sorted(rows, key=lambda r: r[2])


def province_folders(landing: Path, period: str) -> int:
    """Move each survey/FKDM file of ``period`` into the folder of the province its name
    carries (``…_prov_<slug of the province's name>…``); returns the folders made."""
    from harmoni_pipeline.regions import Regions
    from harmoni_pipeline.sample.context import slug

    provinces = Regions.load().provinsi
    # longest first: prov_papua_barat_daya before prov_papua_barat before prov_papua
    tags = sorted(((f"prov_{slug(str(n))}", str(k)) for k, n in zip(provinces["kode"], provinces["nama"])),
                  key=lambda t: -len(t[0]))
    made = set()
    for source in ("survey", "fkdm"):
        month = landing / source / period
        for f in sorted(p for p in month.iterdir() if p.is_file()):
            code = next((k for tag, k in tags if f"{tag}_" in f.name or f.stem.endswith(tag)), None)
            if code is not None:
                (month / code).mkdir(exist_ok=True)
                f.rename(month / code / f.name)
                made.add((source, code))
    return len(made)


def measure(workers: int, landing: Path, period: str, env: dict, tmp: Path) -> tuple[float, list]:
    home = tmp / f"dagster_home_{workers}"
    home.mkdir()
    env = {**env, "DAGSTER_HOME": str(home)}
    started = []
    try:
        started = start_workers([f"w{i}" for i in range(1, workers + 1)], tmp / f"workers_{workers}", env)
        t = time.monotonic()
        subprocess.run([HARMONI, "run", "--period", period, "--landing", str(landing),
                        "--warehouse", str(tmp / f"warehouse_{workers}")],
                       env={**env, "HARMONI_EXECUTOR": "celery"}, check=True, capture_output=True, cwd=tmp)
        return time.monotonic() - t, timeline(home)
    finally:
        for worker in started:
            stop(worker.proc)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=3000)
    parser.add_argument("--reports", type=int, default=300)
    parser.add_argument("--period", default="2025-12")
    parser.add_argument("--scope", default="35.13")
    parser.add_argument("--province-folders", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="harmoni-celery-bench-"))
    base = {k: v for k, v in os.environ.items() if not k.startswith(("HARMONI_", "DAGSTER_"))}
    base.update({"HARMONI_PII_KEY": "bench-key-for-harmoni", "GX_ANALYTICS_ENABLED": "false",
                 "HARMONI_SPLIT": "province", "HARMONI_SCOPE": args.scope})
    landing = tmp / "landing"
    t = time.monotonic()
    subprocess.run([HARMONI, "sample", "--out", str(landing), "--from", args.period, "--to", args.period,
                    "--scope", args.scope, "--responses", str(args.responses), "--reports", str(args.reports)],
                   env=base, check=True, capture_output=True)
    folders = province_folders(landing, args.period) if args.province_folders else 0
    print(f"sample written in {time.monotonic() - t:.0f} s ({folders} province folders)", flush=True)
    with rabbitmq_vhost() as broker:
        base["HARMONI_CELERY_BROKER"] = broker
        results = {n: measure(n, landing, args.period, base, tmp) for n in (1, 2)}
    print(f"sample month {args.period}: {args.responses} responses, {args.reports} FKDM reports, scope {args.scope}, "
          f"{folders} province folders\n")
    print("| workers | `harmoni run` wall time | sum of step times | steps |")
    print("|---|---|---|---|")
    for n, (wall, rows) in results.items():
        print(f"| {n} | {wall:.1f} s | {sum(e - s for *_, s, e, _ in rows):.1f} s | {len(rows)} |")
    for n, (wall, rows) in results.items():
        print(f"\nTimeline, {n} worker(s) (seconds from the first run's start):\n")
        print("| run | step | start | end | worker |")
        print("|---|---|---|---|---|")
        for run, step, s, e, w in rows:
            print(f"| {run} | `{step}` | {s:.1f} | {e:.1f} | {w} |")


if __name__ == "__main__":
    main()
