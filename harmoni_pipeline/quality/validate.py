"""Validate a candidate partition before it is published (write-audit-publish).

Room: for a staging candidate or a set of mart candidates, build the batches its suites
name, run them, and say where the Data Docs are. Publishing, and reporting to Dagster,
are the asset checks' (``checks/``).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from functools import partial
from pathlib import Path

import pandas as pd
import pyarrow as pa

from harmoni_pipeline.forking import fork_map
from harmoni_pipeline.methodology import Methodology
from harmoni_pipeline.quality import batches as b
from harmoni_pipeline.quality import explain
from harmoni_pipeline.quality.gx_runner import ValidationReport, run_suites, suite_jobs
from harmoni_pipeline.quality.suites import load_suites
from harmoni_pipeline.regions import Regions
from harmoni_pipeline import registry
from harmoni_pipeline.registry import STAGING_TABLES
from harmoni_pipeline.warehouse import Warehouse


def docs_dir(warehouse: Warehouse, asset: str, partition: str, run_id: str) -> Path:
    """GX Data Docs built for one run's check of one asset partition:
    ``<local dir>/data_docs/<asset>/<partition>/<run_id>/index.html`` (the local dir is
    the warehouse folder when the warehouse is local)."""
    return warehouse.local_dir / "data_docs" / registry.folder(asset) / partition / run_id


def _audit(warehouse: Warehouse, table: str, period: str, part: str) -> pd.DataFrame:
    data = warehouse.read_partition(table, period, part)
    if data is None:
        data = warehouse.tables[table].empty_table()
    return b.as_frame(data)


def staging_batches(source: str, period: str, candidate: pa.Table, warehouse: Warehouse, regions: Regions,
                    scope: str, methodology: Methodology) -> dict[str, pd.DataFrame]:
    frame = b.as_frame(candidate)
    rows = {"survey": lambda: b.survey_rows(frame, period, methodology), "fkdm": lambda: b.fkdm_rows(frame),
            "stats": lambda: b.stats_rows(frame)}[source]()
    files = b.files_frame(_audit(warehouse, "audit.source_files", period, source),
                          _audit(warehouse, "audit.rejected_rows", period, source))
    in_scope = regions.kecamatan_in_scope(scope)["kode"] if source == "survey" else None
    out = {"schema": frame.head(0), "rows": rows, "files": files, "partition": b.partition_frame(files, frame if source == "survey" else None, in_scope)}
    if source == "stats":
        population = b.population_frame(frame, regions, scope, methodology)
        if population is not None:
            out["population"] = population
    return out


def validate_staging(source: str, period: str, candidate: pa.Table, *, warehouse: Warehouse, regions: Regions,
                     scope: str, methodology: Methodology, run_name: str, docs: Path | None) -> ValidationReport:
    table = STAGING_TABLES[source]
    suites = load_suites(table)
    batches = staging_batches(source, period, candidate, warehouse, regions, scope, methodology)
    jobs = suite_jobs(suites, batches, b.staging_parameters(source, period, scope, methodology))
    report = run_suites(jobs, docs_dir=None, run_name=run_name)
    rules = _audit(warehouse, "audit.rejected_rows", period, source)
    for outcome in report.outcomes:
        if not outcome.success and outcome.batch in ("files", "partition"):
            expectation = _expectation(jobs, outcome)
            if expectation is not None:
                outcome.detail = explain.delivery_failure(outcome.batch, expectation, batches[outcome.batch], rules)
    report.write_docs(docs, run_name)  # after the details: the pages say which files failed
    return report


def _expectation(jobs, outcome) -> dict | None:
    """The suite file's expectation an outcome came from (by suite, type and column)."""
    for suite, _, _ in jobs:
        if suite.name == outcome.suite:
            for e in suite.expectations:
                kwargs = e["kwargs"]
                if e["type"] == outcome.expectation and kwargs.get("column") == outcome.column:
                    return e
    return None


def validate_marts(candidates: MutableMapping[str, pa.Table], period: str, *, methodology: Methodology, run_name: str,
                   docs: Path | None, workers: int | None = None) -> ValidationReport:
    """Every candidate's suites into one report (one Data Docs site for them all).

    Each table is validated on its own and taken out of ``candidates`` once done (a dict
    is emptied; the gate's :class:`~harmoni_pipeline.quality.gate.Candidates` reads a
    table only when it is validated), so a process holds one table's frame at a time, not
    all fifteen (the trail of a national month's 2 M respondents alone is ≈ 0.7 GB in
    Arrow; issue 19), and reads a table's repetitive text columns as categories
    (:func:`~harmoni_pipeline.quality.batches.compact`: that trail's validation took
    1.3 GB as strings, 0.75 GB so). The tables are spread over forked
    workers (:func:`~harmoni_pipeline.forking.fork_map`, ``workers``: default one per
    CPU, largest table first) when the candidates can be read from a child — a dict, or
    candidates on a local warehouse; GX's work is Python under the GIL, so two tables
    validate at once only in two processes. The report is the same either way: the
    tables' outcomes merge in the order of ``candidates``."""
    tables = list(candidates)
    if not getattr(candidates, "forkable", True):
        workers = 1
    weights = None if workers == 1 else [_rows(candidates, table) for table in tables]  # only to order the workers
    validate = partial(_validate_table, candidates, period=period, methodology=methodology, run_name=run_name)
    report = ValidationReport()
    for table, part in zip(tables, fork_map(validate, tables, workers=workers, weights=weights)):
        candidates.pop(table, None)
        report.merge(part)
    report.write_docs(docs, run_name)
    return report


def _rows(candidates: MutableMapping[str, pa.Table], table: str) -> int:
    """A candidate's rows without reading it where the mapping can tell (for the order of work)."""
    rows = getattr(candidates, "rows", None)
    return rows(table) if rows is not None else candidates[table].num_rows


def _validate_table(candidates: MutableMapping[str, pa.Table], table: str, *, period: str,
                    methodology: Methodology, run_name: str) -> ValidationReport:
    suites = load_suites(table)
    plain = _matched_columns(suites)
    read = getattr(candidates, "read", None)  # a warehouse's candidates: read the text columns as dictionaries
    data = (read(table, dictionary=b.text_columns(registry.schema(table), plain)) if read is not None
            else candidates[table])
    frame = b.as_frame(b.compact(data, plain))
    del data
    jobs = suite_jobs(suites, {"rows": frame}, b.mart_parameters(table, period, methodology))
    del frame
    return run_suites(jobs, docs_dir=None, run_name=run_name)


def _matched_columns(suites) -> set[str]:
    """The columns the suites match a pattern on: these stay strings (:func:`~harmoni_pipeline.quality.batches.compact`)."""
    return {e["kwargs"]["column"] for suite in suites for e in suite.expectations
            if e["type"] == "expect_column_values_to_match_regex"}
