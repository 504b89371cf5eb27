"""Check one file before it is dropped into the landing zone (``harmoni validate``).

Room: a dry run of ingestion for a single file — which source and layout it is, how
many rows the pipeline would accept or reject and why — without a landing zone, a
warehouse or Dagster. The file is parsed by exactly the code ingestion uses
(:func:`harmoni_pipeline.ingest.runner.parse_one` and the parsers behind it, with
``Regions.load()``, the scope and a :class:`~harmoni_pipeline.pii.Pseudonymizer` from
the settings), so a file that validates here parses the same way once landed. The file
is only ever opened for reading; nothing is written anywhere.

Choices
- **Source**: ``source`` when given. Otherwise the path decides when the file lies
  under a folder named ``survey``, ``fkdm`` or ``stats`` (the nearest such folder among
  the file's parents, as in the landing layout ``<source>/<period>/<file>``): that is
  the parser ingestion would use, so it is the only one tried. Otherwise every source
  whose extensions include the file's (``.json`` → statistics only) is tried in the
  order survey, FKDM, statistics, and the first whose parser recognises the layout wins
  (each parser's own format detection decides: required columns / content). When none
  does, the file is unreadable; the reason is the one given by more than one parser
  (they failed before looking at the layout: an empty file, binary content, a broken
  workbook …), else one clause per source saying what each layout lacks.
- **Period** (survey and FKDM): ``period`` when given, else the month of the folder the
  file lies in when that is named ``YYYY-MM`` (a file already in the landing layout),
  else the current month in Asia/Jakarta — the month the file would arrive in if landed now. It matters for the
  survey rule "timestamp later than the end of its arrival month"; the report says
  which month was assumed. Statistics do not use it.
- **Scope**: ``scope`` when given, else ``HARMONI_SCOPE`` (default ``35.13``), as for
  ingestion.
- **Outcome** (:attr:`FileReport.exit_code`): ``0`` readable and no row rejected
  (warnings, and a header-only file, do not fail it), ``1`` at least one row rejected —
  ``out_of_scope`` rows included, although they do not count against data-quality
  thresholds — and ``2`` the file cannot be read at all (``error`` holds the one-line
  reason, naming the file).
- **What is not read**: the columns of the file that no rule reads and nothing stores
  (an unknown column, a misspelt item header, FKDM ``ringkasan``) are named — their
  values are never shown — and for Google Forms ``a/b/yyyy`` timestamps the report says
  which order was read (day- or month-first) and why (the whole column decides). The
  same two notes go to ``audit.source_files.warnings`` when the file is ingested.
- **Per rule**: ``rows`` is the number of input rows breaking the rule (a row can
  have several audit rows for one rule, e.g. a statistics row with two bad cells), and
  up to three example rows, first lines first, each with the line, column and value of
  its first audit row for that rule (as the audit stores them: personal values are
  already pseudonyms). A JSON entry has no line; its ``column`` is the datacontent key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from harmoni_pipeline.ingest.common import UnreadableFile, ignored_column_names
from harmoni_pipeline.ingest.landing import EXTENSIONS, LandingFile, sha256_file
from harmoni_pipeline.periods import current_period, parse_period

SOURCES = ("survey", "fkdm", "stats")
EXAMPLES_PER_RULE = 3


@dataclass
class RuleExample:
    line: int | None  # NULL for JSON: ``column`` then holds the datacontent key
    column: str | None
    value: str | None
    message: str | None


@dataclass
class RuleSummary:
    rule: str
    rows: int  # audit rows for this rule = input rows breaking it
    examples: list[RuleExample] = field(default_factory=list)


@dataclass
class FileReport:
    path: str  # as given
    source: str | None = None
    source_from: str = ""  # how the source was chosen (for the report)
    format: str | None = None
    period: str | None = None  # None for statistics
    period_assumed: bool = False  # True: the current month, not given
    scope: str = ""
    sha256: str | None = None
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rules: list[RuleSummary] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)  # headers never read nor stored
    date_order: str | None = None  # a/b/yyyy timestamps: the order read, and why
    error: str | None = None  # one line ``<file>: <reason>`` when unreadable

    @property
    def readable(self) -> bool:
        return self.error is None

    @property
    def exit_code(self) -> int:
        if not self.readable:
            return 2
        return 1 if self.rows_rejected else 0


def source_from_path(path: Path) -> str | None:
    """The source named by the nearest parent folder called survey/fkdm/stats."""
    for parent in Path(path).resolve().parents:
        if parent.name.casefold() in SOURCES:
            return parent.name.casefold()
    return None


def _one_line(text: str) -> str:
    return " ".join(str(text).split()) or "unknown reason"


def check_file(
    path: str | Path,
    *,
    source: str | None = None,
    scope: str | None = None,
    period: str | None = None,
    settings=None,
    regions=None,
    now: dt.datetime | None = None,
) -> FileReport:
    """Parse ``path`` as ingestion would and report what would be accepted/rejected.

    Never raises :class:`UnreadableFile`: an unreadable file gives a report with
    ``error`` set (exit code 2). Raises ``ValueError`` for a bad ``source``/``period``."""
    from harmoni_pipeline.ingest.runner import parse_one
    from harmoni_pipeline.pii import Pseudonymizer
    from harmoni_pipeline.regions import Regions
    from harmoni_pipeline.settings import Settings

    display = str(path)
    path = Path(path)
    if source is not None and source not in SOURCES:
        raise ValueError(f"unknown source {source!r}: expected one of {', '.join(SOURCES)}")
    if period is not None:
        parse_period(period)
    settings = settings or Settings.from_env(scope=scope)
    if scope and settings.scope != scope:
        settings = replace(settings, scope=scope)
    report = FileReport(path=display, scope=settings.scope)

    if not path.exists():
        report.error = f"{display}: no such file"
        return report
    if not path.is_file():
        report.error = f"{display}: not a regular file"
        return report

    if source is not None:
        candidates, report.source_from = [source], "given"
    elif (hinted := source_from_path(path)) is not None:
        candidates, report.source_from = [hinted], f"from the folder {hinted}/"
    else:
        suffix = path.suffix.lower()
        candidates = [s for s in SOURCES if suffix in EXTENSIONS[s]]
        report.source_from = "detected from the content"
        if not candidates:
            expected = sorted({e for exts in EXTENSIONS.values() for e in exts})
            report.error = f"{display}: unsupported file type {suffix or '(none)'}; expected {', '.join(expected)}"
            return report

    folder_month = path.parent.name if period is None else None
    if folder_month is not None:
        try:
            parse_period(folder_month)
        except ValueError:
            folder_month = None
    month = period or folder_month or current_period(now)
    try:
        digest = sha256_file(path)
    except OSError as exc:
        report.error = f"{display}: cannot open: {exc.strerror or exc}"
        return report
    report.sha256 = digest
    regions = regions or Regions.load()
    pseudonymizer = Pseudonymizer(settings.pii_key)

    failures: list[tuple[str, UnreadableFile]] = []
    parsed = None
    for candidate in candidates:
        file = LandingFile(
            source=candidate,
            period=month[:4] if candidate == "stats" else month,
            path=path,
            rel_path=display,
            sha256=digest,
            bytes=path.stat().st_size,
        )
        try:
            parsed = parse_one(file, settings, regions, pseudonymizer)
        except UnreadableFile as exc:
            failures.append((candidate, exc))
            continue
        report.source = candidate
        break

    if parsed is None:
        reasons = [_one_line(exc.reason) for _, exc in failures]
        common = max(set(reasons), key=reasons.count)
        if len(reasons) == 1 or reasons.count(common) > 1:
            reason = common  # parsers agreeing failed before any layout: the file itself
        else:  # layouts differ: say what each lacks, without the repeated column listings
            parts = [f"{src}: {r.split(' (found: ')[0]}" for (src, _), r in zip(failures, reasons)]
            reason = "not a known survey, FKDM or statistics layout (" + "; ".join(parts) + ")"
        report.error = f"{display}: {reason}"
        if len(candidates) == 1:
            report.source = candidates[0]
        return report

    if report.source != "stats":
        report.period, report.period_assumed = month, period is None and folder_month is None
    report.format = parsed.format
    report.rows_read = int(parsed.rows_read)
    report.rows_accepted = int(parsed.rows_accepted)
    report.rows_rejected = int(parsed.rows_rejected)
    report.warnings = [_one_line(w) for w in parsed.warnings]  # a file without rows says so here
    report.ignored_columns = list(parsed.ignored_columns)
    report.date_order = parsed.date_order
    rejected = parsed.rejected
    if not rejected.empty:
        rejected = rejected.assign(_row=_row_keys(rejected, parsed.format))
        for rule, group in rejected.groupby("rule", sort=True, observed=True):
            first = group.drop_duplicates(subset="_row")
            examples = [
                RuleExample(
                    line=None if _missing(row.line) else int(row.line),
                    column=None if _missing(row.column) else str(row.column),
                    value=None if _missing(row.value) else str(row.value),
                    message=None if _missing(row.message) else str(row.message),
                )
                for row in first.head(EXAMPLES_PER_RULE).itertuples(index=False)
            ]
            report.rules.append(RuleSummary(rule=str(rule), rows=len(first), examples=examples))
        report.rules.sort(key=lambda r: (-r.rows, r.rule))
    return report


def _row_keys(rejected, fmt: str):
    """One key per input row: the line (with the sheet of a Dalam Angka cell ``Sheet!C12``),
    or for JSON entries (no line) the datacontent key."""
    column = rejected["column"].astype("string").fillna("")
    line = rejected["line"].astype("string")
    if fmt == "dalam_angka":
        line = line + "|" + column.str.extract(r"^(.*)!", expand=False).fillna("")
    return line.fillna("key:" + column)


def _missing(value) -> bool:
    return value is None or bool(pd.isna(value))


# --------------------------------------------------------------------------- rendering


def _cell(value, width: int = 40) -> str:
    if value is None:
        return "-"
    text = "".join(ch if ch.isprintable() else "?" for ch in str(value))
    return text if len(text) <= width else text[: width - 1] + "…"


def render(report: FileReport) -> str:
    """The report as a short text table (``harmoni validate`` prints it)."""
    out = [f"harmoni validate: {report.path}"]
    source = report.source or "?"
    out.append(f"  source   {source} ({report.source_from})" if report.source_from else f"  source   {source}")
    out.append(f"  format   {report.format}")
    if report.period:
        note = " (assumed: the current month; give --period YYYY-MM for another arrival month)" if report.period_assumed else ""
        out.append(f"  period   {report.period}{note}")
    out.append(f"  scope    {report.scope}")
    if report.sha256:
        out.append(f"  sha256   {report.sha256}")
    out.append(
        f"  rows     {report.rows_read} read, {report.rows_accepted} accepted, {report.rows_rejected} rejected"
    )
    if report.ignored_columns:
        names = _cell(ignored_column_names(report.ignored_columns), 400)
        out.append(f"  ignored  {len(report.ignored_columns)} column(s), never stored: {names}")
    if report.date_order:
        out.append(f"  dates    {report.date_order}")
    if report.rules:
        table = [("rule", "rows", "line", "column", "value")]
        for summary in report.rules:
            for i, ex in enumerate(summary.examples or [RuleExample(None, None, None, None)]):
                table.append(
                    (
                        summary.rule if i == 0 else "",
                        str(summary.rows) if i == 0 else "",
                        "-" if ex.line is None else str(ex.line),
                        _cell(ex.column, 32),
                        _cell(ex.value),
                    )
                )
        widths = [max(len(row[j]) for row in table) for j in range(5)]
        out.append("")
        for row in table:
            cells = [
                row[0].ljust(widths[0]),
                row[1].rjust(widths[1]),
                row[2].rjust(widths[2]),
                row[3].ljust(widths[3]),
                row[4],
            ]
            out.append("  " + "  ".join(cells).rstrip())
    if report.warnings:
        out.append("")
        out.append("  warnings")
        out.extend(f"  - {_cell(w, 200)}" for w in report.warnings)
    out.append("")
    if report.rows_rejected:
        out.append(f"{report.path}: {report.rows_rejected} of {report.rows_read} rows would be rejected")
    else:
        out.append(f"{report.path}: ok, every row would be accepted")
    return "\n".join(out)
