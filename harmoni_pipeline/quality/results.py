"""``audit.validation_results``: one row per expectation evaluated, per run, asset and
partition — what auditors query to see why a partition was published or blocked.

Room: the schema and the rows built from a :class:`~.gx_runner.ValidationReport` (or
diagnostics). Unexpected values come from staging or marts, where personal data is
already a pseudonym; they are samples, never whole columns.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

VALIDATION_RESULTS_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("asset", pa.string()),             # e.g. staging/survey_responses
        ("partition", pa.string()),         # the partition key (YYYY-MM, statistics YYYY)
        ("check_name", pa.string()),
        ("suite", pa.string()),
        ("expectation", pa.string()),
        ("column", pa.string()),
        ("guards", pa.string()),            # the rule the expectation guards
        ("success", pa.bool_()),
        ("blocking", pa.bool_()),
        ("unexpected_count", pa.int64()),
        ("unexpected_sample", pa.string()),  # up to 5 values, '; '-joined
        ("observed", pa.string()),
        ("data_docs", pa.string()),         # the Data Docs page of the suite's validation (offline HTML)
        ("checked_at", pa.timestamp("us", tz="UTC")),
    ]
)


def results_table(outcomes, *, run_id: str, asset: str, partition: str, check_name: str, blocking: bool,
                  docs_by_suite: dict[str, str] | None = None) -> pa.Table:
    now = dt.datetime.now(dt.timezone.utc)
    docs_by_suite = docs_by_suite or {}
    rows = [
        {
            "run_id": run_id, "asset": asset, "partition": partition, "check_name": check_name,
            "suite": o.suite, "expectation": o.expectation, "column": o.column, "guards": o.guards,
            "success": o.success, "blocking": blocking and o.blocking, "unexpected_count": o.unexpected_count,
            "unexpected_sample": "; ".join(o.unexpected_sample) or None, "observed": o.detail or o.observed,
            "data_docs": docs_by_suite.get(o.suite), "checked_at": now,
        }
        for o in outcomes
    ]
    return pa.Table.from_pylist(rows, schema=VALIDATION_RESULTS_SCHEMA)
