"""The expectation suites, kept as declarative JSON files under ``checks/suites/``.

Room: reading a table's suite file. One file per table; it holds one GX suite per
*batch* the table is checked on (``rows`` — the candidate partition itself; ``files`` and
``partition`` — summaries of the delivery; ``population`` — totals against the
reference). Every expectation's ``meta.guards`` names the rule it guards; an expectation
with ``"severity": "warning"`` (GX's own field) is reported and never blocks publication.
Thresholds (coverage 50 %, rejected share 20 %, population 2 %) are written in the files:
changing one is a reviewed change of configuration, not of code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

# The package that ships the checks' data files (suites, diagnostics thresholds). They are
# found as package data, never imported: the checks (Dagster declarations) stand above
# this module and use it.
CHECKS_PACKAGE = "harmoni_pipeline.checks"


def checks_data(name: str) -> Path:
    """A data file of the checks package (``suites``, ``diagnostics.yaml``)."""
    return Path(str(resources.files(CHECKS_PACKAGE) / name))


SUITES_DIR = checks_data("suites")


@dataclass(frozen=True)
class Suite:
    name: str            # e.g. "staging.survey_responses.rows"
    batch: str           # rows | files | partition | population
    expectations: tuple  # GX expectation configurations as dicts: {type, kwargs, meta}


def suite_file(table: str) -> Path:
    return SUITES_DIR / f"{table}.json"


def load_suites(table: str) -> list[Suite]:
    """The suites of ``table`` from its file (a missing file is an error: every checked
    table has one)."""
    path = suite_file(table)
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("table") != table:
        raise ValueError(f"{path}: declares table {data.get('table')!r}, expected {table!r}")
    out = []
    for s in data["suites"]:
        for e in s["expectations"]:
            if "guards" not in e.get("meta", {}):
                raise ValueError(f"{path}: {s['name']}: an expectation of type {e['type']} has no meta.guards")
        out.append(Suite(name=s["name"], batch=s["batch"], expectations=tuple(s["expectations"])))
    return out


def has_warnings(table: str) -> bool:
    """Whether the table's suites hold warning-level expectations (``"severity":
    "warning"``): they are reported by a non-blocking check and never block publication."""
    return any(e.get("severity") == "warning" for s in load_suites(table) for e in s.expectations)
