"""The ``harmoni`` command line (data-contracts §2).

Room: argument parsing, choosing the Dagster instance, launching runs partition by
partition with progress, and printing summaries. Work is done by Dagster jobs and the
domain modules; nothing is computed here.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from harmoni_pipeline.connectors.cli import add_pull_command
from harmoni_pipeline.instrument.cli import add_form_command
from harmoni_pipeline.runplan import plan_runs

EMBEDDED_DAGSTER_YAML = """\
# Embedded instance for `harmoni demo` / `make ui` (SQLite under this folder).
telemetry:
  enabled: false
"""


def _settings(args: argparse.Namespace):
    """The process's settings, built once from the arguments (``--landing``,
    ``--warehouse``, ``--scope``), the environment filling what they do not give."""
    from harmoni_pipeline.settings import Settings

    return Settings.from_env(landing_dir=getattr(args, "landing", None), warehouse_dir=getattr(args, "warehouse", None),
                             scope=getattr(args, "scope", None))


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


def run_partitions(plan: list[tuple[str, str]], periods: list[str], settings, *, progress=print) -> list[str]:
    """Execute ``(job_name, partition_key)`` runs in order on the current instance, from
    this process, each in a child forked from it (:mod:`harmoni_pipeline.local_runs`). A run that stages an earlier month
    or a statistics year for the windows may be blocked: that is a warning (the periods'
    scores use the last published staging of it) and the plan goes on. A period's own run
    that fails fails that period only; the others still run. Dagster's log goes to a
    file, the terminal shows progress, warnings (once each) and one-line reasons.
    Returns the warnings; raises ``SystemExit`` naming every failed period."""
    import datetime as dt

    from harmoni_pipeline.definitions import build_defs
    from harmoni_pipeline.defs.resources import HarmoniResource
    from harmoni_pipeline.local_runs import execute, preload, reap_dead_runs, stop_on_sigterm, write_log
    from harmoni_pipeline.notify.triggers import RANGE_END_TAG

    defs = build_defs({"harmoni": HarmoniResource.from_settings(settings)})  # the runs use these settings
    instance = _instance()
    for run_id in reap_dead_runs(instance):
        progress(f"harmoni: run {run_id[:8]} was left running by a process that died: marked failed")
    settings.warehouse().prune_scratch()  # temporary files of processes that died
    preload()  # once here, not in each run's child
    log = settings.local_dir / "logs" / f"harmoni-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    warnings: list[str] = []
    failed: list[str] = []
    run_ids: list[str] = []
    try:
        with stop_on_sigterm():  # a SIGTERM fails the run under way (marked, period freed), then stops
            for i, (job_name, key) in enumerate(plan, start=1):
                outcome = execute(defs, job_name, key, instance, progress=progress, settings=settings,
                                  extra_tags={RANGE_END_TAG: max(periods)})  # digests: the range's last month only
                run_ids.append(outcome.run_id)
                status = "ok" if outcome.success else ("FAILED" if key in periods else "BLOCKED")
                progress(f"[{i}/{len(plan)}] {job_name} {key}: {status} ({outcome.seconds:.1f} s)")
                new = [w for w in outcome.warnings if w not in warnings]
                for line in new:
                    progress(f"  warning: {line}")
                warnings += new
                if outcome.success:
                    continue
                if key in periods:
                    failed.append(f"{job_name} {key} failed: {outcome.reason}")
                    progress(f"  {outcome.reason}")
                else:
                    line = (f"{job_name} {key} is blocked ({outcome.reason}); the periods' scores use its last "
                            "published staging")
                    progress(f"  warning: {line}")
                    warnings.append(line)
    finally:
        if run_ids:
            write_log(instance, run_ids, log)
            progress(f"Dagster log of these runs: {log}")
    if failed:
        raise SystemExit("\n".join(f"harmoni: {line}" for line in failed))
    return warnings


def cmd_sample(args: argparse.Namespace) -> int:
    from harmoni_pipeline.sample import generate_landing_zone

    summary = generate_landing_zone(
        Path(args.out), start=args.start, end=args.end, seed=args.seed, scope=args.scope or "35.13",
        responses=args.responses, reports=args.reports,
    )
    print(f"wrote {len(summary.files)} files to {Path(args.out).resolve()}")
    return 0


def _periods(args: argparse.Namespace) -> list[str]:
    """The months asked for, each a partition (else ``ValueError``: one line, exit 2)."""
    from harmoni_pipeline.ingest.landing_shape import check_period
    from harmoni_pipeline.periods import month_range

    if args.period:
        return [check_period(args.period, option="--period")]
    if not (args.start and args.end):
        raise SystemExit("harmoni: give --period YYYY-MM or --from YYYY-MM --to YYYY-MM")
    return month_range(check_period(args.start, option="--from"), check_period(args.end, option="--to"))


def _landing_issues(settings) -> None:
    """Record the landing zone's issues (``audit.landing_issues``) and print each as a
    warning: they never stop a run."""
    from harmoni_pipeline.ingest.landing_shape import record_issues, scan

    issues = scan(settings.landing_root()).issues
    record_issues(settings.warehouse(), issues)
    for issue in issues:
        print(f"harmoni: warning: {issue}", file=sys.stderr)


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    periods = _periods(args)
    _landing_issues(settings)
    _run_and_summarise(settings, periods)
    return 0


def _run_and_summarise(settings, periods: list[str]) -> None:
    """Run the periods, print the summary (also when a period failed), then fail if one did."""
    try:
        plan = plan_runs(periods, settings.landing_root(), settings.warehouse_dir, pii_key_id=settings.pii_key_id)
        run_partitions(plan, periods, settings)
    except SystemExit:
        print_summary(settings, periods)
        raise
    print_summary(settings, periods)


def cmd_backfill(args: argparse.Namespace) -> int:
    """Submit a range of months as asset backfills — staging, then the marts of the months
    not blocked, then the reports (:mod:`harmoni_pipeline.backfill`); ``--wait`` follows
    the last one too."""
    from harmoni_pipeline import backfill
    from harmoni_pipeline.definitions import defs
    from harmoni_pipeline.registry import SCORE_MONTHLY
    from harmoni_pipeline.runplan import asset_partitions
    from harmoni_pipeline.status import ranges

    settings = _settings(args)
    periods = _periods(args)
    _landing_issues(settings)
    if args.scores_only:
        plan = [(SCORE_MONTHLY, p) for p in periods]
    else:
        plan = plan_runs(periods, settings.landing_root(), settings.warehouse_dir, restage_periods=False,
                         pii_key_id=settings.pii_key_id)
    targets = asset_partitions(plan, backfill.job_assets(defs, {job for job, _ in plan}))
    explicit = {
        field: str(value)
        for field, value, given in (("landing_dir", settings.landing_dir, args.landing),
                                    ("warehouse_dir", settings.warehouse_dir, args.warehouse),
                                    ("scope", settings.scope, args.scope))
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
    failed_periods: set[str] = set()
    for i, layer in enumerate(steps, start=1):
        layer = {path: [k for k in keys if k not in failed_periods] for path, keys in layer.items()}
        layer = {path: keys for path, keys in layer.items() if keys}
        if not layer:
            break
        name = f"{title} [{'/'.join(sorted({backfill.layer_of(p) for p in layer}))}]"
        backfill_id = backfill.submit(instance, defs, layer, title=name, tags={"harmoni/trigger": "backfill"},
                                      run_config=run_config)
        print(f"{name}: submitted backfill {backfill_id} ({i}/{len(steps)}) on {instance.root_directory}")
        for keys, paths in _by_partitions(layer).items():
            print(f"  {', '.join(paths)}: {ranges(list(keys))}")
        if i == len(steps) and not args.wait:
            print("Follow it in the UI (Backfills) or with `harmoni status`.")
            return 0
        outcome = backfill.follow(instance, backfill_id, timeout_seconds=args.timeout)
        print(f"backfill {backfill_id}: {outcome.status} ({len(outcome.runs)} runs)")
        if outcome.status not in backfill.DONE:
            print("harmoni: stopped following the backfill (--timeout); it goes on in the daemon", file=sys.stderr)
            return 1
        for run in outcome.runs:
            if run.run_id not in outcome.failures:
                continue
            key, reason = run.tags.get("dagster/partition", ""), outcome.failures[run.run_id]
            if key in periods:  # a period's own staging or marts: that period fails
                failed_periods.add(key)
                print(f"harmoni: {key} failed: {reason}", file=sys.stderr)
            else:  # an earlier month or a statistics year the windows read: a warning
                print(f"warning: {key} is blocked ({reason}); the marts use its last published staging")
    return 1 if failed_periods else 0


def _by_partitions(targets: dict[tuple[str, ...], list[str]]) -> dict[tuple[str, ...], list[str]]:
    """Asset names grouped by the partitions they target (for a short listing)."""
    out: dict[tuple[str, ...], list[str]] = {}
    for path, keys in targets.items():
        out.setdefault(tuple(keys), []).append("/".join(path))
    return out


def cmd_demo(args: argparse.Namespace) -> int:
    import shutil

    from harmoni_pipeline.sample import generate_landing_zone

    settings = _settings(args)
    landing = settings.landing_dir
    if not isinstance(landing, Path):
        raise SystemExit(f"harmoni: the demo writes its sample into a local folder, not {landing}")
    if landing.exists() and any(landing.iterdir()) and not (landing / "README.txt").exists():
        raise SystemExit(f"harmoni: {landing} holds data that `harmoni sample` did not write; refusing to replace it")
    if landing.exists():
        shutil.rmtree(landing)
    print(f"harmoni demo: writing a sample landing zone for {settings.scope} ({args.start}..{args.end}) to {landing}")
    generate_landing_zone(landing, start=args.start, end=args.end, seed=args.seed, scope=settings.scope)
    from harmoni_pipeline.periods import month_range

    periods = month_range(args.start, args.end)
    _run_and_summarise(settings, periods)
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

    parse_period(args.period)
    settings = _settings(args)
    warehouse = settings.warehouse()
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


def cmd_trace(args: argparse.Namespace) -> int:
    """One kecamatan's published score back to its rows, files and runs (:mod:`harmoni_pipeline.trace`)."""
    from harmoni_pipeline.trace.command import run

    return run(args, _settings(args))


def cmd_catalog(args: argparse.Namespace) -> int:
    path = _settings(args).warehouse().build_catalog()
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


def cmd_worker(args: argparse.Namespace) -> int:
    from harmoni_pipeline.celery_workers import start_worker

    start_worker(args.concurrency, args.queues, args.name)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Recent runs and partition status on the instance ``DAGSTER_HOME`` points at, the
    staging partitions blocked or warned, and the landing zone's issues."""
    import warnings

    from harmoni_pipeline.definitions import defs
    from harmoni_pipeline.settings import DevelopmentKeyWarning
    from harmoni_pipeline.status import landing_issues, render

    with warnings.catch_warnings():  # status pseudonymises nothing
        warnings.simplefilter("ignore", DevelopmentKeyWarning)
        settings = _settings(args)
    warehouse = settings.warehouse()
    warehouse.prune_scratch()
    print(render(_instance(), defs, limit=args.limit, warehouse=warehouse, issues=landing_issues(settings)))
    return 0


def print_summary(settings, periods: list[str]) -> None:
    from harmoni_pipeline.summary import ingestion_summary, scores_summary, warnings_summary

    print()
    print(ingestion_summary(settings.warehouse_dir, periods))
    warned = warnings_summary(settings.warehouse_dir, periods)
    if warned:
        print()
        print(warned)
    print()
    print(scores_summary(settings.warehouse_dir, max(periods)))


# Commands that pseudonymise personal data with HARMONI_PII_KEY — in this process (run,
# demo, validate) or in the runs they submit (backfill): only these say that the
# development key is in use.
PSEUDONYMISING_COMMANDS = ("run", "demo", "backfill", "validate", "worker")
DEV_KEY_NOTICE = "harmoni: HARMONI_PII_KEY is not set: pseudonymising with the development key"


def version_text() -> str:
    """``harmoni <package version> (methodology <version>)``."""
    from importlib.metadata import PackageNotFoundError, version

    from harmoni_pipeline import methodology

    try:
        package = version("harmoni")
    except PackageNotFoundError:  # run from a source tree that was never installed
        package = "(not installed)"
    return f"harmoni {package} (methodology {methodology.load().version})"


class _Version(argparse.Action):
    """``--version``: computed only when asked (it reads the methodology YAML)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(version_text())
        parser.exit()


def period_arg(text: str) -> str:
    """An argparse ``type`` for ``--period``/``--from``/``--to``: a month ``YYYY-MM``."""
    from harmoni_pipeline.periods import parse_period

    try:
        parse_period(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a month YYYY-MM (e.g. 2025-12), got {text!r}") from None
    return text.strip()


def build_parser() -> argparse.ArgumentParser:
    from harmoni_pipeline.methodology import DEFAULT_VERSION

    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="harmoni",
        description=f"IHaI / IKN pipeline (methodology {DEFAULT_VERSION}): survey exports, FKDM reports and BPS statistics\n"
                    "in a landing zone -> staging and marts (Parquet) with a DuckDB catalog of views.",
        epilog="Months are written YYYY-MM (2025-12), Asia/Jakarta. `harmoni COMMAND --help` describes a command.\n"
               "Interfaces: docs/data-contracts.md; scoring rules: docs/methodology.md.",
        formatter_class=formatter,
    )
    parser.add_argument("--version", action=_Version, help="print the package and methodology versions and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, summary: str, description: str):
        return sub.add_parser(name, help=summary, description=f"{summary[0].upper()}{summary[1:]}.\n\n{description}",
                              formatter_class=formatter)

    def months(p, required: bool = False, defaults: tuple[str | None, str | None] = (None, None), period: bool = False):
        if period:
            p.add_argument("--period", type=period_arg, metavar="YYYY-MM", help="one month, e.g. 2025-12")
        start, end = defaults
        p.add_argument("--from", dest="start", type=period_arg, metavar="YYYY-MM", required=required, default=start,
                       help="first month of a range" + (f" (default {start})" if start else ""))
        p.add_argument("--to", dest="end", type=period_arg, metavar="YYYY-MM", required=required, default=end,
                       help="last month of the range, inclusive" + (f" (default {end})" if end else ""))

    def common(p, landing=True):
        if landing:
            p.add_argument("--landing", metavar="DIR", help="landing zone (default $HARMONI_LANDING_DIR or data/landing)")
        p.add_argument("--warehouse", metavar="DIR|URL", help="warehouse (default $HARMONI_WAREHOUSE_DIR or data/warehouse)")
        p.add_argument("--scope", help="35.13 | 35 | ALL (default $HARMONI_SCOPE or 35.13)")

    p = command("sample", "write a realistic sample landing zone",
                "Writes survey exports (canonical, Google Forms, Kobo), FKDM reports, statistics (long CSV,\n"
                "BPS WebAPI JSON, Dalam Angka XLSX) and the penanggung_jawab table for the months given,\n"
                "with a realistic share of defects. Deterministic for a seed. All data is synthetic.")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write (the landing zone layout)")
    months(p, defaults=("2025-01", "2025-12"))
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--scope", default=None, help="35.13 | 35 | ALL (default 35.13)")
    p.add_argument("--responses", type=int, default=None, help="survey responses in total")
    p.add_argument("--reports", type=int, default=None, help="FKDM reports in total")
    p.set_defaults(func=cmd_sample)

    p = command("run", "materialise one month or a range of months in this process",
                "Stages the month's survey and FKDM files (and the statistics years up to the month's year,\n"
                "and the earlier months its 12-month windows read), checks them, then scores the month.\n"
                "Give --period YYYY-MM, or --from YYYY-MM --to YYYY-MM for a range (month by month).\n"
                "Exit 0 on success; otherwise one line naming what failed.\n\n"
                "examples:\n  harmoni run --period 2025-12\n  harmoni run --from 2025-01 --to 2025-12")
    months(p, period=True)
    common(p)
    p.set_defaults(func=cmd_run)

    p = command("backfill", "submit a range of months as asset backfills (staging, then marts)",
                "The backfills are executed by dagster-daemon on the instance DAGSTER_HOME points at;\n"
                "`harmoni run --from --to` runs the months in this process instead.\n\n"
                "example:\n  harmoni backfill --from 2025-01 --to 2025-12 --wait")
    months(p, required=True)
    p.add_argument("--scores-only", action="store_true", help="only the marts (re-score from what is staged)")
    p.add_argument("--wait", action="store_true", help="follow the marts backfill too until it ends; exit 1 if a run failed")
    p.add_argument("--timeout", type=float, default=None, help="stop following a backfill after this many seconds")
    common(p)
    p.set_defaults(func=cmd_backfill, period=None)

    p = command("demo", "sample + run + summary on an embedded instance",
                "Writes a sample landing zone into the landing folder (refusing one it did not write),\n"
                "runs every month of it and prints the ingestion summary and the latest month's scores.")
    months(p, defaults=("2025-01", "2025-12"))
    p.add_argument("--seed", type=int, default=0, help="random seed of the sample (default 0)")
    common(p)
    p.set_defaults(func=cmd_demo)

    p = command("validate", "check one file before it is dropped into the landing zone",
                "Parses the file exactly as ingestion would, without a warehouse, and reports its source and\n"
                "format, the rows that would be accepted or rejected and why, the columns that would be\n"
                "ignored (never stored) and, for Google Forms a/b/yyyy timestamps, the date order read.\n"
                "Nothing is written. Exit 0: every row accepted; 1: rows rejected; 2: unreadable.")
    p.add_argument("file")
    p.add_argument("--source", choices=("survey", "fkdm", "stats"), help="default: from the path, else detected")
    p.add_argument("--scope", help="35.13 | 35 | ALL (default $HARMONI_SCOPE or 35.13)")
    p.add_argument("--period", type=period_arg, metavar="YYYY-MM",
                   help="arrival month (default: the folder's YYYY-MM, else the current month)")
    p.set_defaults(func=cmd_validate)

    p = command("status", "recent runs and which partitions are materialised, failed or missing",
                "Reads the Dagster instance DAGSTER_HOME points at (default ./.dagster_home).")
    p.add_argument("--limit", type=int, default=10, help="recent runs to show (default 10)")
    common(p)
    p.set_defaults(func=cmd_status)

    p = command("report", "(re)render a month's report and peta kerawanan from the published marts",
                "Renders laporan_YYYY-MM.html/.pdf and the maps from the published marts (no rescoring),\n"
                "checks them and publishes them to $HARMONI_WAREHOUSE_DIR/reports/period=YYYY-MM/.")
    p.add_argument("--period", required=True, type=period_arg, metavar="YYYY-MM")
    p.add_argument("--open", action="store_true", help="open the HTML report afterwards")
    common(p, landing=False)
    p.set_defaults(func=cmd_report)

    add_pull_command(command, common, period_arg)
    add_form_command(command)
    from harmoni_pipeline.trace.command import DESCRIPTION, add_arguments

    p = command("trace", "trace one kecamatan's published score to its respondents, reports, statistics, files and runs",
                DESCRIPTION)
    add_arguments(p, period_arg)
    common(p, landing=False)
    p.set_defaults(func=cmd_trace)

    p = command("catalog", "rebuild the DuckDB catalog of views",
                "Rewrites $HARMONI_WAREHOUSE_DIR/harmoni.duckdb over the current Parquet files, e.g. after the\n"
                "warehouse folder moved (views hold absolute paths). Open it read-only:\n"
                "  .venv/bin/duckdb -readonly data/warehouse/harmoni.duckdb")
    common(p, landing=False)
    p.set_defaults(func=cmd_catalog)

    p = command("worker", "run steps of HARMONI_EXECUTOR=celery runs (a Celery worker)",
                "Listens on $HARMONI_CELERY_BROKER (default amqp://guest:guest@127.0.0.1:5672//) and runs the\n"
                "steps that runs started with HARMONI_EXECUTOR=celery send there, until stopped. Needs the same\n"
                "HARMONI_SPLIT and HARMONI_PII_KEY as the runs; see docs/deployment.md.")
    p.add_argument("--concurrency", type=int, default=1, help="steps at a time (default 1)")
    p.add_argument("--queues", default=None, help="comma-separated queues to take steps from (default dagster)")
    p.add_argument("--name", default=None, help="the worker's name (default harmoni-PID@HOST)")
    p.set_defaults(func=cmd_worker)
    from harmoni_pipeline.notify.commands import add_commands
    add_commands(command, common, period_arg)
    return parser


def main(argv: list[str] | None = None) -> int:
    import warnings

    from harmoni_pipeline.settings import DevelopmentKeyWarning, SettingsError, check_environment

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    args = build_parser().parse_args(argv)
    try:
        check_environment()  # HARMONI_ENV and production's key: refused before any work or key notice
    except SettingsError as exc:
        print(f"harmoni: {exc}", file=sys.stderr)
        return 2
    # Settings warn (a Python warning) each time they fall back to the development key;
    # the command line says it once, in its own words, and only where personal data is
    # pseudonymised. In production the settings refuse to start instead.
    warnings.filterwarnings("ignore", category=DevelopmentKeyWarning)
    production = os.environ.get("HARMONI_ENV", "").strip().lower() == "production"
    if args.command in PSEUDONYMISING_COMMANDS and not os.environ.get("HARMONI_PII_KEY") and not production:
        print(DEV_KEY_NOTICE, file=sys.stderr)
    try:
        return args.func(args)
    except KeyboardInterrupt as exc:  # Ctrl-C; or SIGTERM during runs (local_runs.Stopped, exit 143)
        if getattr(exc, "exit_code", None):
            print(f"harmoni: stopped ({exc})", file=sys.stderr)
        return getattr(exc, "exit_code", 130)
    except (ValueError, OSError, SettingsError) as exc:
        print(f"harmoni: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
