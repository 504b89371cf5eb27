"""``harmoni form``: its arguments (data-contracts §2); ``harmoni_pipeline/cli.py``
registers it."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_form_command(command) -> None:
    p = command("form", "write the survey instrument as a KoboToolbox XLSForm or a Google Forms question list",
                "From the methodology's item catalog and the region reference of the scope: --kind kobo writes\n"
                "harmoni_survey.xlsx (sheets survey, choices, settings) to import into KoboToolbox; --kind google\n"
                "writes google_form.json, the questions with their exact titles and options. Their exports are\n"
                "the layouts `harmoni run` reads.\n\nexample:\n  harmoni form --kind kobo --out forms/")
    p.add_argument("--kind", required=True, choices=("kobo", "google"))
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write")
    p.add_argument("--scope", help="35.13 | 35 | ALL (default $HARMONI_SCOPE or 35.13)")
    p.set_defaults(func=cmd_form)


def cmd_form(args: argparse.Namespace) -> int:
    import os

    from harmoni_pipeline.instrument.forms import write_google, write_kobo

    scope = (args.scope or os.environ.get("HARMONI_SCOPE") or "35.13").strip()
    path = (write_kobo if args.kind == "kobo" else write_google)(scope, Path(args.out))
    print(f"wrote {path.resolve()}")
    return 0
