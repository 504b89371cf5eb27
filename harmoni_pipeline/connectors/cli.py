"""``harmoni pull``: its arguments and what it prints (data-contracts §2).

Room: the command-line face of :func:`harmoni_pipeline.connectors.pull.pull` — wiring
only; ``harmoni_pipeline/cli.py`` registers it.
"""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = (
    "Pulls new records from KoboToolbox (HARMONI_KOBO_*), Google Sheets (HARMONI_SHEETS_URLS) and\n"
    "the BPS WebAPI (HARMONI_BPS_*) into the landing zone as files in the documented formats:\n"
    "survey/YYYY-MM/ and fkdm/YYYY-MM/ of the arrival month, stats/YYYY/ of its year. Only what\n"
    "was not landed before is written; every pull is recorded in audit.pulls. `--source all`\n"
    "pulls the sources that are configured. Then `harmoni run --period YYYY-MM` stages them\n"
    "(or the landing sensor does). Exit 0 also when there was nothing new; 1 when a target\n"
    "failed (the others are still pulled); 2 for settings (a missing token, a placeholder\n"
    "BPS variable id).\n\n"
    "examples:\n  harmoni pull\n  harmoni pull --source kobo --period 2025-12"
)


def add_pull_command(command, common, period_arg) -> None:
    """Register ``pull`` with the parser helpers of ``harmoni_pipeline.cli``."""
    p = command("pull", "pull new records from KoboToolbox, Google Sheets and the BPS WebAPI into the landing zone",
                DESCRIPTION)
    p.add_argument("--source", choices=("kobo", "sheets", "bps", "all"), default="all",
                   help="which source (default all: every configured one)")
    p.add_argument("--period", type=period_arg, metavar="YYYY-MM",
                   help="arrival month the files go under (default: the current month, Asia/Jakarta)")
    common(p)
    p.set_defaults(func=cmd_pull)


def cmd_pull(args: argparse.Namespace) -> int:
    from harmoni_pipeline.cli import _settings
    from harmoni_pipeline.connectors.http import PullError
    from harmoni_pipeline.periods import current_period
    from harmoni_pipeline.connectors.pull import pull
    from harmoni_pipeline.ingest.landing_shape import check_period

    period = check_period(args.period or current_period(), "survey", "--period")
    settings = _settings(args)
    try:
        rows = pull(args.source, settings=settings, period=period, warehouse=settings.warehouse())
    except PullError as exc:
        print(f"harmoni: {exc}", file=sys.stderr)
        return 2
    for row in rows:
        print(row.line(), file=sys.stderr if row.error else sys.stdout)
    written = [r for r in rows if r.path]
    failed = [r for r in rows if r.error]
    print(f"pulled {period}: {len(written)} file(s) written, {sum(r.records for r in written)} records"
          + (f", {len(failed)} target(s) failed" if failed else ""))
    return 1 if failed else 0
