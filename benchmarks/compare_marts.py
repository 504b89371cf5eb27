"""Byte-identity check for restructurings: run the same small sample through two checkouts
and compare the content hash of every published table partition.

    .venv/bin/python benchmarks/compare_marts.py BASELINE_CHECKOUT [CANDIDATE_CHECKOUT]
        [--from 2025-11] [--to 2025-12] [--period 2025-12] [--seed 0] [--keep DIR]

Each checkout must have its own ``.venv`` (``make install``). For each, in a fresh
temporary folder with its own ``DAGSTER_HOME``: ``harmoni sample`` writes the landing zone
(months ``--from`` … ``--to``, seed ``--seed``), ``harmoni run --period`` materialises the
month into a new warehouse with the same PII key. Then every mart's ``content_sha256`` (the
period manifest's ``sha256``) and every other table partition's content hash (the Parquet
footer key ``harmoni.content_sha256``; run ids and timestamps are not part of it) are
listed and compared. Exit 0 when every table partition of both runs has the same hash.

The candidate defaults to the checkout this script is in. Small sample only: one month of
one kabupaten takes about a minute per checkout.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq

HASH_KEY = b"harmoni.content_sha256"
PII_KEY = "compare-marts-key-0123456789abcdef0123456789"


def run_checkout(checkout: Path, work: Path, args) -> dict[str, str]:
    """Sample + run in ``work`` with ``checkout``'s own harmoni; the hashes of its warehouse."""
    harmoni = checkout / ".venv" / "bin" / "harmoni"
    env = {**os.environ, "DAGSTER_HOME": str(work / "dagster_home"), "GX_ANALYTICS_ENABLED": "false",
           "HARMONI_PII_KEY": PII_KEY}
    for name in ("HARMONI_WAREHOUSE_DIR", "HARMONI_LANDING_DIR", "HARMONI_LOCAL_DIR", "HARMONI_SCOPE", "HARMONI_ENV"):
        env.pop(name, None)
    (work / "dagster_home").mkdir(parents=True, exist_ok=True)
    landing, warehouse = work / "landing", work / "warehouse"
    subprocess.run([str(harmoni), "sample", "--out", str(landing), "--from", args.from_, "--to", args.to,
                    "--seed", str(args.seed)], env=env, cwd=checkout, check=True, capture_output=True)
    proc = subprocess.run([str(harmoni), "run", "--period", args.period, "--landing", str(landing),
                           "--warehouse", str(warehouse)], env=env, cwd=checkout, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{checkout}: harmoni run failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return hashes(warehouse)


def hashes(warehouse: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for manifest in sorted((warehouse / "snapshots").glob("*/period=*.json")):
        doc = json.loads(manifest.read_text())
        for table, entry in doc["tables"].items():
            out[f"{table} {doc['period']}"] = entry["sha256"]
    for path in sorted((warehouse / "parquet").glob("*/*/period=*/*.parquet")):
        schema, table, partition = path.parts[-4], path.parts[-3], path.parts[-2]
        if schema == "marts" or partition == "period=0000-00":
            continue
        meta = pq.read_metadata(path).metadata or {}
        part = path.name.split("~")[0]
        out[f"{schema}.{table} {partition[len('period='):]} {part}"] = meta.get(HASH_KEY, b"?").decode()
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("baseline", type=Path)
    parser.add_argument("candidate", type=Path, nargs="?", default=Path(__file__).resolve().parents[1])
    parser.add_argument("--from", dest="from_", default="2025-11")
    parser.add_argument("--to", default="2025-12")
    parser.add_argument("--period", default="2025-12")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="keep the two runs' folders under DIR")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="compare-marts-") as tmp:
        root = args.keep or Path(tmp)
        base = run_checkout(args.baseline.resolve(), root / "baseline", args)
        cand = run_checkout(args.candidate.resolve(), root / "candidate", args)
    audit = {k for k in base.keys() | cand.keys() if k.startswith("audit.")}
    differ = sorted(k for k in base.keys() | cand.keys() if base.get(k) != cand.get(k) and k not in audit)
    marts = sorted(k for k in base if k.startswith("marts."))
    for key in sorted(base.keys() | cand.keys()):
        if key in audit:
            continue
        mark = "differs" if key in differ else "same"
        print(f"{mark:8} {key:48} {base.get(key, '-')[:16]} {cand.get(key, '-')[:16]}")
    print(f"{len(marts)} mart partitions, {len(base) - len(marts) - len(audit & base.keys())} staging partitions compared; "
          f"{len(differ)} differ (audit tables carry run ids and times: listed by neither)")
    return 1 if differ or not marts else 0


if __name__ == "__main__":
    sys.exit(main())
