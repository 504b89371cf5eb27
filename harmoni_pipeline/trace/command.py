"""``harmoni trace``: its arguments, and running it (the CLI module only delegates here).

Room: argument wiring, opening the warehouse the settings name, adding what the Dagster
instance knows of the runs when one is reachable (job, status, asset code versions), and
printing text or JSON. The trail itself is read by :mod:`.query`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from harmoni_pipeline.trace.query import INDICES, trace

DESCRIPTION = (
    "Prints, for one kecamatan's published score of a month: value, status and category; the methodology\n"
    "version and SHA-256; the window months; every landing file whose rows were used (path, SHA-256,\n"
    "arrival period, format, rows used, rows rejected in the file by rule); the respondents counted\n"
    "(response id, file and line of the copy that counts, weight); the FKDM report versions and the\n"
    "statistics values used; the runs that produced each layer. Read from the published snapshot\n"
    "(marts and audit.score_*), nothing is recomputed. Exit 2 when the score is not published.\n\n"
    "examples:\n  harmoni trace --period 2025-12 --kecamatan 35.13.19\n"
    "  harmoni trace --period 2025-12 --kecamatan 35.13.19 --index ikn --json > trace.json"
)


def add_arguments(parser: argparse.ArgumentParser, period_type) -> None:
    parser.add_argument("--period", required=True, type=period_type, metavar="YYYY-MM")
    parser.add_argument("--kecamatan", required=True, metavar="KODE", help="Kemendagri code PP.KK.CC, e.g. 35.13.19")
    parser.add_argument("--index", choices=INDICES, help="one index (default: all three)")
    parser.add_argument("--json", action="store_true", help="print one JSON document (fields: docs/data-contracts.md)")


def _instance_runs(run_ids: list[str]) -> dict[str, dict]:
    """Job, status and asset code versions of each run, from the Dagster instance
    ``DAGSTER_HOME`` names when it has one (``{}`` otherwise: the warehouse's own records
    are enough for the trail)."""
    home = os.environ.get("DAGSTER_HOME")
    if not home or not (Path(home) / "dagster.yaml").exists():
        return {}
    import dagster as dg

    out = {}
    try:
        instance = dg.DagsterInstance.get()
        for run_id in run_ids:
            run = instance.get_run_by_id(run_id)
            if run is None:
                continue
            versions = {}
            records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
            for record in records:
                event = record.event_log_entry.asset_materialization
                if event is not None and event.tags and event.tags.get("dagster/code_version"):
                    versions["/".join(event.asset_key.path)] = event.tags["dagster/code_version"]
            out[run_id] = {"job": run.job_name, "status": run.status.value, "code_versions": versions}
    except Exception as exc:  # an unreachable instance (a database elsewhere) leaves the warehouse's records
        print(f"harmoni: the Dagster instance in {home} could not be read ({exc}); runs from the warehouse only",
              file=sys.stderr)
    return out


def run(args: argparse.Namespace, settings) -> int:
    warehouse = settings.warehouse()
    doc = trace(warehouse, args.period, args.kecamatan.strip(), args.index)
    known = _instance_runs(sorted({r["run_id"] for r in doc["runs"] if r["run_id"]}))
    for r in doc["runs"]:
        found = known.get(r["run_id"])
        if found:  # the code version of the layer's own asset(s) in that run
            prefix = r["layer"].replace(".", "/") if r["layer"] != "marts" else "marts/"
            versions = {v for asset, v in found["code_versions"].items() if asset.startswith(prefix)}
            r.update(job=found["job"], status=found["status"], code_version=", ".join(sorted(versions)) or None)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    if args.json:
        print(json.dumps(doc, indent=1, ensure_ascii=False))
    else:
        from harmoni_pipeline.trace.render import render

        print(render(doc))
    return 0
