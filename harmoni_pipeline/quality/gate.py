"""The publication gate of write-audit-publish: validate a run's pending candidates,
record every expectation's outcome, and publish the candidates only when all pass.

Room: the order of that work and its audit trail (``audit.validation_results``). What is
validated is :mod:`.validate`'s; how results reach Dagster is the checks' (``checks/``).
A blocked candidate stays under ``.pending/<run_id>/`` for inspection; the last good
partition stays published, byte for byte.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from collections.abc import Iterator, MutableMapping
from typing import Callable

import pyarrow as pa

from harmoni_pipeline import registry
from harmoni_pipeline.quality.gx_runner import ValidationReport
from harmoni_pipeline.quality.results import results_table
from harmoni_pipeline.warehouse import Published, Warehouse

VALIDATION_RESULTS = "audit.validation_results"


class MissingCandidate(RuntimeError):
    """The run has no pending candidate to validate (the asset did not run in this run)."""


class Candidates(MutableMapping):
    """A run's pending candidates of ``tables`` for one period, each read from the
    warehouse when it is asked for, not before: a validation that takes one table at a
    time (``pop``) holds one table, not the period's fifteen (issue 19). Taking a table
    out forgets it; nothing can be put in."""

    def __init__(self, warehouse: Warehouse, tables: list[str], period: str, run_id: str):
        self._warehouse, self._period, self._run_id = warehouse, period, run_id
        self._left = list(tables)

    def __getitem__(self, table: str) -> pa.Table:
        return self.read(table)

    def read(self, table: str, dictionary: list[str] | None = None) -> pa.Table:
        """The candidate of ``table``; ``dictionary``: columns read as Arrow dictionaries."""
        if table not in self._left:
            raise KeyError(table)
        data = self._warehouse.read_pending(table, self._period, self._run_id, dictionary=dictionary)
        if data is None:  # it was there when the gate began
            raise MissingCandidate(f"{table} {self._period}: the candidate of run {self._run_id} is gone")
        return data

    def rows(self, table: str) -> int:
        """The candidate's rows, from its footer (nothing read but the metadata); 0 when
        it is gone (reading it then says so: :class:`MissingCandidate`)."""
        try:
            return self._warehouse.pending_rows(table, self._period, self._run_id)
        except FileNotFoundError:
            return 0

    @property
    def forkable(self) -> bool:
        """Whether a forked worker may read the candidates: on a local warehouse; an
        object store is read through fsspec's client and its event-loop thread, which a
        forked child does not get, so those candidates are validated in this process."""
        return self._warehouse.storage.is_local

    def __delitem__(self, table: str) -> None:
        self._left.remove(table)

    def __setitem__(self, table: str, data: pa.Table) -> None:
        raise TypeError("candidates are read from the warehouse, not set")

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._left))

    def __len__(self) -> int:
        return len(self._left)


@dataclass
class GateResult:
    passed: bool
    report: ValidationReport
    published: dict[str, Published] = field(default_factory=dict)


def record(warehouse: Warehouse, outcomes, *, run_id: str, asset: str, partition: str, check_name: str,
           blocking: bool, docs_by_suite: dict[str, str] | None = None) -> None:
    """Append the outcomes to ``audit.validation_results`` (one part per asset and run)."""
    table = results_table(outcomes, run_id=run_id, asset=asset, partition=partition, check_name=check_name,
                          blocking=blocking, docs_by_suite=docs_by_suite)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    warehouse.write_partition(VALIDATION_RESULTS, partition, table, part=f"{registry.folder(asset)}__{check_name}__{stamp}")


def gate(
    tables: list[str],
    period: str,
    *,
    run_id: str,
    warehouse: Warehouse,
    validate: Callable[[Candidates], ValidationReport],
    check_name: str,
    candidate_runs: list[str] | None = None,
) -> GateResult:
    """Validate the candidates of ``tables`` for ``period`` and publish them together if
    every blocking expectation passes (warning-level ones are recorded, never blocking).
    ``candidate_runs``: where to look for them, first found wins (default: ``run_id``; a
    retry of a failed run passes its own id, then its parent's and root's — a retry
    re-executes only the failed steps, so the candidates are the original run's)."""
    owner = next((r for r in dict.fromkeys(candidate_runs or [run_id])
                  if all(warehouse.has_pending(t, period, r) for t in tables)), None)
    if owner is None:
        raise MissingCandidate(
            f"{', '.join(tables)} {period}: no candidate written by run {run_id} (materialise the asset and its check together)"
        )
    report = validate(Candidates(warehouse, tables, period, owner))  # each read when validated
    docs = {suite: page.as_uri() for suite, page in report.docs_pages.items()}
    with warehouse.one_catalog_refresh():  # the results and the publication: one catalog rebuild
        for table in tables:
            record(warehouse, report.for_table(table).outcomes, run_id=run_id, asset=registry.asset_slug(table), partition=period,
                   check_name=check_name, blocking=True, docs_by_suite=docs)
        if not report.success:
            return GateResult(False, report)
        return GateResult(True, report, warehouse.publish_pending(tables, period, owner))
