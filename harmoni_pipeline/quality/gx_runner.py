"""Run expectation suites with Great Expectations 1.x in an ephemeral context.

Room: turning :class:`~harmoni_pipeline.quality.suites.Suite` objects and pandas batches
into GX validations, one outcome per expectation; the Data Docs on disk are
:mod:`.datadocs`' (offline HTML, not GX's CDN-styled site). GX is
imported lazily (≈ 2.5 s) with analytics and progress bars off. ``dagster-ge`` is not
used: it supports only GX < 1.0 and pandas < 3.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from harmoni_pipeline.quality import datadocs
from harmoni_pipeline.quality.suites import Suite

SAMPLE_SIZE = 5


@dataclass
class Outcome:
    """The result of one expectation on one batch."""

    suite: str
    batch: str
    expectation: str
    column: str | None
    guards: str
    success: bool
    unexpected_count: int | None
    unexpected_sample: list[str]
    observed: str | None
    error: str | None = None
    severity: str = "critical"  # GX's FailureSeverity: critical blocks publication, warning does not
    detail: str | None = None   # what failed, in words, where the batch can say more (files named)

    @property
    def table(self) -> str:
        """The table the outcome's suite belongs to (suite ``<schema>.<table>.<batch>``)."""
        return self.suite.rsplit(".", 1)[0]

    @property
    def blocking(self) -> bool:
        return self.severity == "critical"

    def describe(self) -> str:
        if self.detail:
            return f"{self.guards}: {self.detail}"
        what = f"{self.suite}: {self.expectation}" + (f"({self.column})" if self.column else "")
        detail = []
        if self.unexpected_count:
            detail.append(f"{self.unexpected_count} unexpected")
        if self.unexpected_sample:
            detail.append("e.g. " + ", ".join(self.unexpected_sample[:3]))
        if self.observed is not None and not self.unexpected_count:
            detail.append(f"observed {self.observed}")
        if self.error:
            detail.append(f"error: {self.error}")
        return f"{what} — {self.guards}" + (f" [{'; '.join(detail)}]" if detail else "")


@dataclass
class ValidationReport:
    outcomes: list[Outcome] = field(default_factory=list)
    statistics: dict[str, dict] = field(default_factory=dict)   # per suite: GX statistics
    docs_index: Path | None = None
    docs_pages: dict[str, Path] = field(default_factory=dict)   # per suite: its validation page

    @property
    def success(self) -> bool:
        """Every blocking (critical) expectation passed; warnings do not count."""
        return all(o.success for o in self.outcomes if o.blocking)

    def failures(self) -> list[Outcome]:
        """Blocking expectations that failed."""
        return [o for o in self.outcomes if o.blocking and not o.success]

    def warnings(self) -> list[Outcome]:
        """Warning-level expectations that failed (reported, never blocking)."""
        return [o for o in self.outcomes if not o.blocking and not o.success]

    def for_table(self, table: str) -> "ValidationReport":
        """The part of the report about one table's suites."""
        return ValidationReport(
            outcomes=[o for o in self.outcomes if o.table == table],
            statistics={k: v for k, v in self.statistics.items() if k.rsplit(".", 1)[0] == table},
            docs_index=self.docs_index,
            docs_pages={k: v for k, v in self.docs_pages.items() if k.rsplit(".", 1)[0] == table},
        )

    def merge(self, other: "ValidationReport") -> "ValidationReport":
        self.outcomes.extend(other.outcomes)
        self.statistics.update(other.statistics)
        self.docs_pages.update(other.docs_pages)
        self.docs_index = other.docs_index or self.docs_index
        return self

    def write_docs(self, docs_dir: Path | None, run_name: str) -> None:
        """(Re)write the Data Docs of this report into ``docs_dir`` (our own offline
        pages, :mod:`.datadocs`: GX's load CSS/JS from CDNs)."""
        if docs_dir is not None and self.statistics:
            self.docs_index, self.docs_pages = datadocs.write_site(docs_dir, self.outcomes, self.statistics,
                                                                   run_name=run_name)

    def summary(self) -> str:
        failed = self.failures()
        if not failed:
            return f"{len(self.outcomes)} expectations passed"
        first = failed[0].describe()
        more = f" (and {len(failed) - 1} more failed expectations)" if len(failed) > 1 else ""
        return f"{len(failed)} of {len(self.outcomes)} expectations failed: {first}{more}"

    def warning_summary(self) -> str:
        warned = self.warnings()
        if not warned:
            return "no warnings"
        return "; ".join(o.describe() for o in warned)


def load_library() -> None:
    """Import GX now, in the calling thread: a process that forks a child per run
    (:mod:`harmoni_pipeline.local_runs`) imports it once for all of them."""
    _import()


def _import():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier  # noqa: F401 - what _validate uses
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.execution_engine import pandas_execution_engine
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration  # noqa: F401

    return gx, ProgressBarsConfig, pandas_execution_engine


def _context():
    gx, ProgressBarsConfig, pandas_execution_engine = _import()

    # GX fingerprints every pandas batch below HASH_THRESHOLD bytes (pandas' hash of every
    # row, then MD5: ≈ 2 s of CPU over a national month's gates) for its batch markers,
    # which nothing here reads; no batch is that small, so none is fingerprinted.
    pandas_execution_engine.HASH_THRESHOLD = 0

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def _text(value) -> str:
    """A sampled value as text; a missing one is ``<NA>`` whatever its column's type (a
    float's NaN, a category's NaN, a string column's ``pd.NA``)."""
    missing = value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value)
    return "<NA>" if missing else str(value)[:200]


def _outcome(suite: Suite, result) -> Outcome:
    config = result.expectation_config
    kwargs = dict(config.kwargs)
    res = result.result or {}
    meta = config.meta or {}
    observed = res.get("observed_value")
    mismatched = (res.get("details") or {}).get("mismatched")
    if mismatched:  # a schema failure: say which columns, not the whole list present
        observed = "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in mismatched.items() if v)
    sample = [_text(v) for v in (res.get("partial_unexpected_list") or [])[:SAMPLE_SIZE]]
    error = None
    if result.exception_info and result.exception_info.get("raised_exception"):
        error = str(result.exception_info.get("exception_message"))[:300]
    column = kwargs.get("column") or (",".join(kwargs["column_list"]) if kwargs.get("column_list") else None)
    severity = getattr(config, "severity", None)
    return Outcome(
        suite=suite.name,
        batch=suite.batch,
        expectation=config.type,
        column=column,
        guards=str(meta.get("guards", "")),
        success=bool(result.success),
        unexpected_count=None if res.get("unexpected_count") is None else int(res["unexpected_count"]),
        unexpected_sample=sample,
        observed=None if observed is None else _text(observed),
        error=error,
        severity=str(getattr(severity, "value", severity) or "critical"),
    )


def referenced_columns(suite: Suite, frame: pd.DataFrame) -> list[str] | None:
    """The columns a suite's expectations read (``None``: it needs the whole table).
    GX filters the whole batch for every metric; validating only the columns used keeps
    that cost proportional to the rules, not to the table's width."""
    used: set[str] = set()
    for e in suite.expectations:
        if e["type"].startswith("expect_table_"):
            return None
        kwargs = e["kwargs"]
        used.update([kwargs["column"]] if "column" in kwargs else kwargs.get("column_list", []))
        used.update(token for token in re.findall(r"[A-Za-z_]\w*", kwargs.get("row_condition") or "") if token in frame.columns)
    return [c for c in frame.columns if c in used]


def vectorisable(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its integer columns that hold no null as int64: GX's range check
    (``expect_column_values_to_be_between``) compares column by column only when the
    dtype equals ``int`` or ``float`` (int64, float64) and row by row in Python otherwise —
    ≈ 0.35 s CPU per million rows for the survey's ``umur`` (Int16). The same values; a column
    with nulls is left as it is (as float its samples would read ``17.0``)."""
    cast = {name: "int64" for name, dtype in frame.dtypes.items()
            if pd.api.types.is_signed_integer_dtype(dtype) and dtype != "int64" and not frame[name].hasnans}
    return frame.astype(cast) if cast else frame


def suite_jobs(suites: list[Suite], batches: dict[str, pd.DataFrame], parameters: dict) -> list[tuple[Suite, pd.DataFrame, dict]]:
    """Pair each suite with the batch it names (suites whose batch is absent are not run:
    e.g. population totals when no row is of the reference's year)."""
    return [(s, batches[s.batch], parameters) for s in suites if batches.get(s.batch) is not None]


def run_suites(
    jobs: list[tuple[Suite, pd.DataFrame, dict]],
    *,
    docs_dir: Path | None = None,
    run_name: str = "harmoni",
) -> ValidationReport:
    """Validate each (suite, batch, parameters) in one ephemeral GX context, then write
    the Data Docs of all of them (:mod:`.datadocs`: offline pages, one per suite)."""
    context = _context()
    source = context.data_sources.add_pandas("harmoni")
    report = ValidationReport()
    try:
        _validate(context, source, jobs, report, run_name)
    finally:
        _release(context, source)
    report.write_docs(docs_dir, run_name)
    return report


def _release(context, source) -> None:
    """Let go of the validated frames. GX keeps every batch's DataFrame in the data source's
    execution engine, and keeps the last context made by ``gx.get_context`` as its module-level
    current project: in a process that runs several steps (``harmoni run`` runs in process)
    the last gate's batches — the survey partition, the marts' trail of 1 M respondents —
    stayed alive through every later step (≈ 0.7 GB at 300 k responses)."""
    from great_expectations.data_context.data_context.context_factory import project_manager

    _forget_batches(source)
    try:
        current = project_manager.get_current_project()
    except Exception:  # GX raises when there is no current project
        current = None
    if current is context:  # another context made since is someone else's: leave it
        project_manager.set_project(None)


def _forget_batches(source) -> None:
    """Drop the batches (and their DataFrames) the data source's execution engine holds."""
    manager = source.get_execution_engine().batch_manager
    manager.reset_batch_cache()
    manager.batch_data_cache.clear()


def _validate(context, source, jobs, report: ValidationReport, run_name: str) -> None:
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    for n, (suite, frame, parameters) in enumerate(jobs):
        columns = referenced_columns(suite, frame)
        if columns is not None:
            frame = frame[columns]
        frame = vectorisable(frame)
        asset = source.add_dataframe_asset(f"{suite.batch}_{n}")
        batch = asset.add_batch_definition_whole_dataframe("whole")
        gx_suite = context.suites.add(
            gx.ExpectationSuite(
                name=suite.name,
                expectations=[ExpectationConfiguration(**e).to_domain_obj() for e in suite.expectations],
            )
        )
        definition = context.validation_definitions.add(gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite))
        validation = definition.run(
            batch_parameters={"dataframe": frame},
            expectation_parameters=parameters,
            result_format={"result_format": "BASIC", "partial_unexpected_count": SAMPLE_SIZE},
            run_id=RunIdentifier(run_name=run_name, run_time=dt.datetime.now(dt.timezone.utc)),
        )
        report.statistics[suite.name] = dict(validation.statistics)
        report.outcomes.extend(_outcome(suite, r) for r in validation.results)
        _forget_batches(source)  # one job's frame at a time, not all of the gate's
