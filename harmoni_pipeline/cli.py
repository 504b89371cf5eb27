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

from harmoni_pipeline.runplan import plan_runs

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
        # A DAGSTER_HOME without dagster.yaml becomes an embedded SQLite instance — say so:
        # in production that usually means the file was not deployed there.
        config.write_text(EMBEDDED_DAGSTER_YAML, encoding="utf-8")
        if os.environ.get("DAGSTER_HOME") and Path(home) != Path(".dagster_home").resolve():
            print(f"harmoni: {home} had no dagster.yaml: created one for an embedded SQLite instance", file=sys.stderr)
    return dg.DagsterInstance.get()


def run_partitions(plan: list[tuple[str, str]], *, progress=print) -> None:
    """Execute ``(job_name, partition_key)`` runs in order on the current instance.
    Raises ``SystemExit`` with a one-line reason at the first failed run."""
    from harmoni_pipeline.definitions import defs
    from harmoni_pipeline.run_outcome import failure_reason

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
            raise SystemExit(f"harmoni: {job_name} {key} failed: {failure_reason(result.all_events)}")


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


def cmd_backfill(args: argparse.Namespace) -> int:
    """Submit a range of months as asset backfills — staging, then, once it is published,
    the marts (:mod:`harmoni_pipeline.backfill`); ``--wait`` follows the last one too."""
    from harmoni_pipeline import backfill
    from harmoni_pipeline.definitions import defs
    from harmoni_pipeline.runplan import asset_partitions
    from harmoni_pipeline.settings import Settings
    from harmoni_pipeline.status import ranges

    _set_env(args)
    settings = Settings.from_env()
    periods = _periods(args)
    if args.scores_only:
        plan = [("score_monthly", p) for p in periods]
    else:
        plan = plan_runs(periods, settings.landing_dir, settings.warehouse_dir, restage_periods=False)
    targets = asset_partitions(plan, backfill.job_assets(defs, {job for job, _ in plan}))
    explicit = {
        field: os.environ[var]
        for field, var, given in (("landing_dir", "HARMONI_LANDING_DIR", args.landing),
                                  ("warehouse_dir", "HARMONI_WAREHOUSE_DIR", args.warehouse),
                                  ("scope", "HARMONI_SCOPE", args.scope))
        if given
    }
    run_config = {"resources": {"harmoni": {"config": explicit}}} if explicit else None
    instance = _instance()
    if not backfill.daemon_alive(instance):
        raise SystemExit(
            f"harmoni: no dagster-daemon has reported on {instance.root_directory} in the last 2 minutes; backfills "
            "are executed by it (dagster-daemon run -m harmoni_pipeline.definitions) — or use `harmoni run --from "
            "--to` to run the months in this process"
        )
    title = f"harmoni backfill {periods[0]}..{periods[-1]}" + (" (scores only)" if args.scores_only else "")
    steps = backfill.layers(targets)
    for i, layer in enumerate(steps, start=1):
        name = f"{title} [{'/'.join(sorted({p[0] for p in layer}))}]"
        backfill_id = backfill.submit(instance, defs, layer, title=name, tags={"harmoni/trigger": "backfill"},
                                      run_config=run_config)
        print(f"{name}: submitted backfill {backfill_id} ({i}/{len(steps)}) on {instance.root_directory}")
        for keys, paths in _by_partitions(layer).items():
            print(f"  {', '.join(paths)}: {ranges(list(keys))}")
        if i == len(steps) and not args.wait:
            print("Follow it in the UI (Backfills) or with `harmoni status`.")
            return 0
        outcome = backfill.follow(instance, backfill_id, timeout_seconds=args.timeout)
        for run_id, reason in outcome.failures.items():
            print(f"harmoni: run {run_id[:8]} failed: {reason}", file=sys.stderr)
        print(f"backfill {backfill_id}: {outcome.status} ({len(outcome.runs)} runs)")
        if not outcome.succeeded:
            if i < len(steps):
                print("harmoni: the marts are not backfilled: a staging partition failed or was blocked", file=sys.stderr)
            return 1
    return 0


def _by_partitions(targets: dict[tuple[str, ...], list[str]]) -> dict[tuple[str, ...], list[str]]:
    """Asset names grouped by the partitions they target (for a short listing)."""
    out: dict[tuple[str, ...], list[str]] = {}
    for path, keys in targets.items():
        out.setdefault(tuple(keys), []).append("/".join(path))
    return out


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
    print(_latest_report_line(settings))
    return 0


def _latest_report_line(settings) -> str:
    from harmoni_pipeline.report.publish import latest_report

    found = latest_report(settings.warehouse_dir)
    return (f"Latest report: {found[1]} (`harmoni report --period {found[0]} --open`)" if found
            else "No report was published (see the report asset's check in `make ui`).")


def cmd_report(args: argparse.Namespace) -> int:
    """(Re)render one month's report from the published marts (no rescoring), check it
    and publish it to ``reports/period=YYYY-MM/``; ``--open`` opens the HTML."""
    from harmoni_pipeline.periods import parse_period
    from harmoni_pipeline.report.boundaries import boundaries_dir
    from harmoni_pipeline.report.build import ReportCheckError, file_names, render_and_publish
    from harmoni_pipeline.report.content import ReportDataError
    from harmoni_pipeline.settings import Settings
    from harmoni_pipeline.tables import catalog_tables
    from harmoni_pipeline.warehouse import Warehouse

    _set_env(args)
    parse_period(args.period)
    settings = Settings.from_env()
    warehouse = Warehouse(settings.warehouse_dir, catalog_tables(), local_dir=settings.local_dir)
    try:
        outcome = render_and_publish(warehouse, args.period, settings.scope, boundaries_dir=boundaries_dir())
    except (ReportDataError, ReportCheckError) as exc:
        print(f"harmoni: {exc}", file=sys.stderr)
        return 1
    facts, seconds = outcome.rendered.facts, sum(outcome.rendered.seconds.values())
    levels = ", ".join(f"{label} {n}" for label, n in facts["tingkat_kerawanan"].items())
    print(f"report {args.period} ({settings.scope}, {facts['kecamatan']} kecamatan; {levels}; "
          f"alert merah {facts['alert_merah']}; {outcome.rendered.pages} pages, {seconds:.1f} s)")
    for name in file_names(args.period).values():
        path = outcome.published.files[name]
        print(f"  {path if isinstance(path, Path) else outcome.published.urls[name]}")
    if args.open:
        import webbrowser

        webbrowser.open(outcome.published.urls[file_names(args.period)["html"]])
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

    p = sub.add_parser("backfill", help="submit a range of months as asset backfills (staging, then marts; dagster-daemon runs them)")
    p.add_argument("--from", dest="start", required=True)
    p.add_argument("--to", dest="end", required=True)
    p.add_argument("--scores-only", action="store_true", help="only the marts (re-score from what is staged)")
    p.add_argument("--wait", action="store_true", help="follow the marts backfill too until it ends; exit 1 if a run failed")
    p.add_argument("--timeout", type=float, default=None, help="stop following a backfill after this many seconds")
    common(p)
    p.set_defaults(func=cmd_backfill, period=None)

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

    p = sub.add_parser("report", help="(re)render a month's report and peta kerawanan from the published marts")
    p.add_argument("--period", required=True, help="YYYY-MM")
    p.add_argument("--open", action="store_true", help="open the HTML report afterwards")
    common(p, landing=False)
    p.set_defaults(func=cmd_report)

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
