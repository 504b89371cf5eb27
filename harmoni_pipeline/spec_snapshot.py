"""A snapshot of every asset spec of the code location, compared by a test, so that a
change of keys, dependencies, partitions, owners, metadata keys or checks is a
deliberate, reviewed change (as Dagster Open Platform does).

Room: describing the definitions as plain JSON; the comparison is
tests/test_spec_snapshot.py. Regenerate after a deliberate change with::

    .venv/bin/python -m harmoni_pipeline.spec_snapshot --write

(writes tests/fixtures/asset_specs.json; review the diff before committing). Values that
depend on the machine (``dagster/uri`` of a folder) are recorded by key only.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import dagster as dg

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "asset_specs.json"


def _partitions(partitions_def) -> str | None:
    if partitions_def is None:
        return None
    if isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        return f"{partitions_def.cron_schedule} from {partitions_def.start.strftime(partitions_def.fmt)} " \
               f"({partitions_def.timezone})"
    return type(partitions_def).__name__


def snapshot(defs: dg.Definitions | None = None) -> dict:
    """``{"assets": {key: spec}}`` for every asset of ``defs`` (default: the code location)."""
    if defs is None:
        from harmoni_pipeline.definitions import defs as location

        defs = location
    graph = defs.get_repository_def().asset_graph
    checks: dict[str, list[str]] = {}
    for check_key in graph.asset_check_keys:
        checks.setdefault(check_key.asset_key.to_user_string(), []).append(check_key.name)
    assets = {}
    for node in sorted(graph.asset_nodes, key=lambda n: n.key.to_user_string()):
        key = node.key.to_user_string()
        assets[key] = {
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "partitions": _partitions(node.partitions_def),
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "owners": sorted(node.owners),
            "tags": {k: v for k, v in sorted(node.tags.items()) if not k.startswith("dagster/kind/")},
            "code_version": node.code_version,
            "metadata_keys": sorted(node.metadata),
            "checks": sorted(checks.get(key, [])),
            "external": not node.is_executable,
        }
    return {"assets": assets}


def render(data: dict) -> str:
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help=f"write {FIXTURE.name} (else print)")
    args = parser.parse_args(argv)
    text = render(snapshot())
    if args.write:
        FIXTURE.write_text(text, encoding="utf-8")
        print(f"wrote {FIXTURE}")
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
