"""The ``harmoni`` command line (data-contracts §2).

Room: argument parsing, choosing the Dagster instance, launching runs partition by
partition with progress, and printing summaries. Work is done by Dagster jobs and the
domain modules; nothing is computed here.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

EMBEDDED_DAGSTER_YAML = """\
# Embedded instance for `harmoni demo` / `make ui` (SQLite under this folder).
telemetry:
  enabled: false
"""


def _set_env(args: argparse.Namespace) -> None:
    from harmoni_pipeline.storage import is_url

    for attr, var in (("landing", "HARMONI_LANDING_DIR"), ("warehouse", "HARMONI_WAREHOUSE_DIR"), ("scope", "HARMONI_SCOPE")):
        value = getattr(args, attr, None)
        if value:
            os.environ[var] = value if attr == "scope" or is_url(value) else str(Path(value).resolve())


def _instance():
    """The Dagster instance ``DAGSTER_HOME`` points at; without one, an embedded SQLite
    instance in ``./.dagster_home`` (the one ``make ui`` shows)."""
    import dagster as dg

    home = os.environ.get("DAGSTER_HOME")
    if not home:
        home = str(Path(".dagster_home").resolve())
        os.environ["DAGSTER_HOME"] = home
    Path(home).mkdir(parents=True, exist_ok=True)
    config = Path(home) / "dagster.yaml"
    if not config.exists():
        config.write_text(EMBEDDED_DAGSTER_YAML, encoding="utf-8")
    return dg.DagsterInstance.get()


def _failure_reason(result) -> str:
    """One line: a failed blocking check (named, with its summary) first, else the first
    failed step's message."""
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed:
                key = evaluation.asset_check_key
                summary = evaluation.description or "failed"
                return f"blocking check '{key.name}' on {key.asset_key.to_user_string()} failed: {summary}"
    for event in result.all_events:
        if event.is_step_failure:
            data = event.step_failure_data
            if data.user_failure_data is not None and data.user_failure_data.description:
                return data.user_failure_data.description
            return data.error.message.strip().splitlines()[-1] if data.error else "step failed"
    return "run failed"


def run_partitions(plan: list[tuple[str, str]], *, progress=print) -> None:
    """Execute ``(job_name, partition_key)`` runs in order on the current instance.
    Raises ``SystemExit`` with a one-line reason at the first failed run."""
    from harmoni_pipeline.definitions import defs

    instance = _instance()
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    for i, (job_name, key) in enumerate(plan, start=1):
        started = time.monotonic()
        job = defs.resolve_job_def(job_name)
        result = job.execute_in_process(
            partition_key=key, instance=instance, raise_on_error=False, run_config=quiet
        )
        elapsed = time.monotonic() - started
        status = "ok" if result.success else "FAILED"
        progress(f"[{i}/{len(plan)}] {job_name} {key}: {status} ({elapsed:.1f} s)")
        if not result.success:
            raise SystemExit(f"harmoni: {job_name} {key} failed: {_failure_reason(result)}")


def plan_runs(periods: list[str], landing: Path, warehouse: Path | None = None) -> list[tuple[str, str]]:
    """The runs that materialise ``periods``, in order: the statistics years up to the
    last period's year and the landing months before the first period (its windows and
    the response dedup look back) — each only when its staging is not current (its
    landing files changed since it was staged, or it never was) — then every period,
    ingested and scored (``harmoni_monthly``). A month without a landing folder is empty:
    nothing to stage."""
    from harmoni_pipeline.ingest.runner import staging_is_current
    from harmoni_pipeline.partitions import FIRST_MONTH
    from harmoni_pipeline.tables import catalog_tables
    from harmoni_pipeline.warehouse import Warehouse

    first, last_year = min(periods), max(periods)[:4]
    wh = Warehouse(warehouse, catalog_tables()) if warehouse else None

    def stale(sources: tuple[str, ...], period: str) -> bool:
        return wh is None or not all(staging_is_current(s, period, landing=landing, warehouse=wh) for s in sources)

    def folders(source: str, keep) -> set[str]:
        folder = landing / source
        return {p.name for p in folder.iterdir() if p.is_dir() and keep(p.name)} if folder.is_dir() else set()

    years = folders("stats", lambda name: name.isdigit() and FIRST_MONTH[:4] <= name <= last_year)
    months = folders("survey", lambda name: FIRST_MONTH <= name < first) | folders("fkdm", lambda name: FIRST_MONTH <= name < first)
    return (
        [("ingest_statistics", y) for y in sorted(years) if stale(("stats",), y)]
        + [("ingest_monthly", m) for m in sorted(months) if stale(("survey", "fkdm"), m)]
        + [("harmoni_monthly", p) for p in periods]
    )


def cmd_sample(args: argparse.Namespace) -> int:
    from harmoni_pipeline.sample import generate_landing_zone

    summary = generate_landing_zone(
        Path(args.out), start=args.start, end=args.end, seed=args.seed, scope=args.scope or "35.13",
        responses=args.responses, reports=args.reports,
    )
    print(f"wrote {len(summary.files)} files to {Path(args.out).resolve()}")
    return 0


def _periods(args: argparse.Namespace) -> list[str]:
    from harmoni_pipeline.periods import month_range, parse_period

    if args.period:
        parse_period(args.period)
        return [args.period]
    if not (args.start and args.end):
        raise SystemExit("harmoni: give --period YYYY-MM or --from YYYY-MM --to YYYY-MM")
    return month_range(args.start, args.end)


def cmd_run(args: argparse.Namespace) -> int:
    from harmoni_pipeline.settings import Settings

    _set_env(args)
    settings = Settings.from_env()
    periods = _periods(args)
    run_partitions(plan_runs(periods, settings.landing_dir, settings.warehouse_dir))
    print_summary(settings, periods)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    import shutil

    from harmoni_pipeline.sample import generate_landing_zone
    from harmoni_pipeline.settings import Settings

    _set_env(args)
    settings = Settings.from_env()
    landing = settings.landing_dir
    if landing.exists() and any(landing.iterdir()) and not (landing / "README.txt").exists():
        raise SystemExit(f"harmoni: {landing} holds data that `harmoni sample` did not write; refusing to replace it")
    if landing.exists():
        shutil.rmtree(landing)
    print(f"harmoni demo: writing a sample landing zone for {settings.scope} ({args.start}..{args.end}) to {landing}")
    generate_landing_zone(landing, start=args.start, end=args.end, seed=args.seed, scope=settings.scope)
    from harmoni_pipeline.periods import month_range

    periods = month_range(args.start, args.end)
    run_partitions(plan_runs(periods, landing, settings.warehouse_dir))
    print_summary(settings, periods)
    print(f"\nDagster runs are in {os.environ['DAGSTER_HOME']} (`make ui`); "
          f"the catalog is {settings.catalog_path} (duckdb -readonly).")
    return 0


def cmd_catalog(args: argparse.Namespace) -> int:
    from harmoni_pipeline.settings import Settings
    from harmoni_pipeline.tables import catalog_tables
    from harmoni_pipeline.warehouse import Warehouse

    _set_env(args)
    path = Warehouse(Settings.from_env().warehouse_dir, catalog_tables()).build_catalog()
    print(f"catalog rebuilt: {path}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Check one file before it is landed (:mod:`harmoni_pipeline.filecheck`): 0 every
    row accepted, 1 rows rejected, 2 unreadable (one line on stderr)."""
    from harmoni_pipeline.filecheck import check_file, render

    report = check_file(args.file, source=args.source, scope=args.scope, period=args.period)
    if hasattr(sys.stdout, "reconfigure"):  # file values may hold characters the terminal lacks
        sys.stdout.reconfigure(errors="backslashreplace")
    if not report.readable:
        print(f"harmoni: {report.error}", file=sys.stderr)
        return 2
    print(render(report))
    return report.exit_code


def cmd_status(args: argparse.Namespace) -> int:
    """Recent runs and partition status on the instance ``DAGSTER_HOME`` points at."""
    from harmoni_pipeline.definitions import defs
    from harmoni_pipeline.status import render

    print(render(_instance(), defs, limit=args.limit))
    return 0


def print_summary(settings, periods: list[str]) -> None:
    from harmoni_pipeline.summary import ingestion_summary, scores_summary

    print()
    print(ingestion_summary(settings.warehouse_dir, periods))
    print()
    print(scores_summary(settings.warehouse_dir, max(periods)))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harmoni", description="IHaI / IKN pipeline (methodology HM-2026.1)")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p, landing=True):
        if landing:
            p.add_argument("--landing", help="landing zone (default $HARMONI_LANDING_DIR or data/landing)")
        p.add_argument("--warehouse", help="warehouse (default $HARMONI_WAREHOUSE_DIR or data/warehouse)")
        p.add_argument("--scope", help="35.13 | 35 | ALL (default $HARMONI_SCOPE or 35.13)")

    p = sub.add_parser("sample", help="write a realistic sample landing zone")
    p.add_argument("--out", required=True)
    p.add_argument("--from", dest="start", default="2025-01")
    p.add_argument("--to", dest="end", default="2025-12")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scope", default=None)
    p.add_argument("--responses", type=int, default=None, help="survey responses in total")
    p.add_argument("--reports", type=int, default=None, help="FKDM reports in total")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("run", help="materialise one period or a range")
    p.add_argument("--period")
    p.add_argument("--from", dest="start")
    p.add_argument("--to", dest="end")
    common(p)
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo", help="sample + run + summary on an embedded instance")
    p.add_argument("--from", dest="start", default="2025-01")
    p.add_argument("--to", dest="end", default="2025-12")
    p.add_argument("--seed", type=int, default=0)
    common(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("validate", help="check one file before it is dropped into the landing zone")
    p.add_argument("file")
    p.add_argument("--source", choices=("survey", "fkdm", "stats"), help="default: from the path, else detected")
    p.add_argument("--scope", help="35.13 | 35 | ALL (default $HARMONI_SCOPE or 35.13)")
    p.add_argument("--period", help="arrival month YYYY-MM (default: the folder's YYYY-MM, else the current month)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("status", help="recent runs and which partitions are materialised, failed or missing")
    p.add_argument("--limit", type=int, default=10, help="recent runs to show (default 10)")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("catalog", help="rebuild the DuckDB catalog of views")
    common(p, landing=False)
    p.set_defaults(func=cmd_catalog)
    return parser


def main(argv: list[str] | None = None) -> int:
    import warnings

    from harmoni_pipeline.settings import DevelopmentKeyWarning, SettingsError

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    args = build_parser().parse_args(argv)
    if not os.environ.get("HARMONI_PII_KEY") and args.command not in ("sample", "status", "catalog"):
        print("harmoni: HARMONI_PII_KEY is not set: pseudonymising with the development key", file=sys.stderr)
        warnings.filterwarnings("ignore", category=DevelopmentKeyWarning)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except (ValueError, OSError, SettingsError) as exc:
        print(f"harmoni: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
