"""Ingest one partition of one source: landing files → staging Parquet + audit rows.

Room: the order of work for a partition — list and hash files, skip copies of bytes
already counted, parse each file with its source's parser, assemble the canonical
staging table with provenance, and publish staging and audit atomically. Parsing rules
live in the parser modules; file layout in :mod:`harmoni_pipeline.warehouse`.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from harmoni_pipeline import forking
from harmoni_pipeline.ingest import audit
from harmoni_pipeline.ingest.common import ParsedFile, UnreadableFile
from harmoni_pipeline.ingest.landing import EXTENSIONS, HashCache, LandingFile, first_copies, partition_files
from harmoni_pipeline.ingest.masking import mask_personal, mask_rejected
from harmoni_pipeline.ingest.schemas import FREE_TEXT, staging_schema
from harmoni_pipeline.pii import Pseudonymizer
from harmoni_pipeline.regions import Regions
from harmoni_pipeline.settings import Settings
from harmoni_pipeline.registry import STAGING_TABLES
from harmoni_pipeline.warehouse import Published, Warehouse



class IngestError(RuntimeError):
    """A partition could not be ingested; the message is one line naming the file."""


@dataclass
class IngestReport:
    source: str
    period: str
    files: list[dict]
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rejected_by_rule: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    staging: Published | None = None
    candidate: Path | None = None      # when not published directly: the pending file
    schema: pa.Schema | None = None


def _parser(source: str) -> Callable[..., ParsedFile]:
    if source == "survey":
        from harmoni_pipeline.ingest.survey import parse_survey_file

        return parse_survey_file
    if source == "fkdm":
        from harmoni_pipeline.ingest.fkdm import parse_fkdm_file

        return parse_fkdm_file
    from harmoni_pipeline.ingest.stats import parse_stats_file

    return lambda path, *, display_path, regions, scope, period, pseudonymizer, limits: parse_stats_file(
        path, display_path=display_path, regions=regions, scope=scope, limits=limits
    )


NO_ROWS = "the file has no data rows (header only)"


def parse_one(file: LandingFile, settings: Settings, regions: Regions, pseudonymizer: Pseudonymizer) -> ParsedFile:
    """Parse one landing file with its source's parser, within ``settings.limits``; what
    it returns is ready to store: personal-looking text masked in free-text columns and
    echoed values (:mod:`~harmoni_pipeline.ingest.masking`), a warning when the file has
    no data rows. Raises :class:`UnreadableFile` (one line naming the file) otherwise."""
    if file.path.suffix.lower() not in EXTENSIONS[file.source]:
        raise UnreadableFile(
            file.rel_path,
            f"unsupported file type {file.path.suffix or '(none)'}; expected {', '.join(EXTENSIONS[file.source])}",
        )
    try:
        parsed = _parser(file.source)(
            file.path,
            display_path=file.rel_path,
            regions=regions,
            scope=settings.scope,
            period=file.period,
            pseudonymizer=pseudonymizer,
            limits=settings.limits,
        )
    except UnreadableFile:
        raise
    except Exception as exc:  # a parser bug must still name the file, never lose it
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        raise UnreadableFile(file.rel_path, f"could not be parsed ({reason})") from exc
    for name in FREE_TEXT[file.source]:
        if len(parsed.accepted):
            parsed.accepted[name] = mask_personal(parsed.accepted[name])
    parsed.rejected = mask_rejected(parsed.rejected)
    if parsed.rows_read == 0:
        parsed.warnings.append(NO_ROWS)
    return parsed


#: a partition with at least this many bytes to parse is parsed by one worker process per
#: CPU; smaller ones in-process, where starting workers would cost more than it saves
PARALLEL_MIN_BYTES = 48 * 2**20
_WORKER_ARGS: tuple | None = None  # (settings, regions, pseudonymizer), set in each worker by _init_worker


def _worker_context():
    """Parse workers are fresh interpreters (``spawn``), not forks of the calling process:
    a worker forked from the caller counts every page the caller holds in its own resident
    set (a ``harmoni run`` process late in a twelve-month range: ≈ 1 GB before the worker
    has read a byte); a spawned one holds the parsers' imports (≈ 0.14 GB) and what it
    parses. So the parse does not use :func:`~harmoni_pipeline.forking.fork_map`. A script
    that stages a large partition must guard its entry point (``if __name__ ==
    "__main__":``), as multiprocessing requires for ``spawn``."""
    return multiprocessing.get_context("spawn")


def _parse_or_error(file: LandingFile, settings, regions, pseudonymizer) -> ParsedFile | UnreadableFile:
    try:
        return parse_one(file, settings, regions, pseudonymizer)
    except UnreadableFile as exc:
        return exc


def _init_worker(parent: int, settings: Settings, regions: Regions, pseudonymizer: Pseudonymizer) -> None:
    global _WORKER_ARGS
    forking.die_with_parent(parent)  # a kill -9 of the step leaves no idle worker behind
    _WORKER_ARGS = (settings, regions, pseudonymizer)


def _parse_in_worker(file: LandingFile) -> ParsedFile | UnreadableFile:
    return _parse_or_error(file, *_WORKER_ARGS)


def parse_files(
    files: list[LandingFile], settings: Settings, regions: Regions, pseudonymizer: Pseudonymizer,
    *, min_bytes: int | None = None,
) -> Iterator[ParsedFile | UnreadableFile]:
    """Each file's :class:`ParsedFile` (or its :class:`UnreadableFile`), in the order given.

    Parsing is CPU-bound Python/pandas work per file and files are independent, so a
    partition of at least ``min_bytes`` (default ``PARALLEL_MIN_BYTES``) is spread over
    one worker process per CPU (:func:`_worker_context`; each gets ``settings``,
    ``regions`` and ``pseudonymizer`` pickled once); results come back in order."""
    threshold = PARALLEL_MIN_BYTES if min_bytes is None else min_bytes
    workers = min(len(files), forking.cpus())
    if workers < 2 or sum(f.bytes for f in files) < threshold:
        for file in files:
            yield _parse_or_error(file, settings, regions, pseudonymizer)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=_worker_context(), initializer=_init_worker,
                             initargs=(os.getpid(), settings, regions, pseudonymizer)) as pool:
        yield from pool.map(_parse_in_worker, files)


def _with_provenance(parsed: ParsedFile, file: LandingFile, order: int, key_id: str, run_id: str) -> pd.DataFrame:
    df = parsed.accepted.copy()
    df["period"] = file.period
    df["source_sha256"] = file.sha256
    df["source_path"] = file.rel_path
    df["file_order"] = order
    df["format"] = parsed.format
    df["pii_key_id"] = key_id
    df["run_id"] = run_id
    return df


def _to_arrow(frame: pd.DataFrame, source: str) -> pa.Table:
    """One file's staging rows as Arrow in the staging schema. Each file is converted as
    soon as it is parsed, so the partition is never held as pandas frames (peak memory)."""
    schema = staging_schema(source)
    return pa.Table.from_pandas(frame.reindex(columns=schema.names), schema=schema, preserve_index=False)


def _staging_table(tables: list[pa.Table], source: str) -> pa.Table:
    return pa.concat_tables(tables) if tables else staging_schema(source).empty_table()


def plan_partition(source: str, period: str, *, settings: Settings, warehouse: Warehouse
                   ) -> tuple[list[LandingFile], dict[int, str]]:
    """The partition's files in path order, and which of them (by position) are copies of
    an earlier-counted file (same SHA-256): position → path of the copy that counts."""
    cache = HashCache.in_folder(warehouse.local_dir)
    landing = settings.landing_root()
    files = partition_files(landing, source, period, cache)
    counted = first_copies(landing, source, period, cache)
    cache.save()
    duplicate_of: dict[int, str] = {}
    for order, file in enumerate(files):
        if file.sha256 in counted:
            duplicate_of[order] = counted[file.sha256]
        else:
            counted[file.sha256] = file.rel_path
    return files, duplicate_of


def ingest_partition(
    source: str,
    period: str,
    *,
    settings: Settings,
    run_id: str,
    warehouse: Warehouse | None = None,
    regions: Regions | None = None,
    publish: bool = True,
    parsed: Mapping[str, ParsedFile | UnreadableFile] | None = None,
) -> IngestReport:
    """Replace exactly the ``period`` partition of ``source`` in staging and audit.

    ``parsed``: the files' parse outcomes by relative path, when the parse was split over
    steps (:mod:`harmoni_pipeline.ingest.shards`); by default the files are parsed here.

    The audit is published at once (it records what was delivered, also when the
    partition is later blocked). Staging is published too, or — with ``publish=False``
    (write-audit-publish) — written as the run's pending candidate, which the
    data-quality check publishes only if it passes.

    Raises :class:`IngestError` (after recording the audit) when a file cannot be read
    at all; staging then keeps its last good partition."""
    warehouse = warehouse or settings.warehouse()
    regions = regions or Regions.load()
    pseudonymizer = Pseudonymizer(settings.pii_key)
    files, duplicate_of = plan_partition(source, period, settings=settings, warehouse=warehouse)

    report = IngestReport(source=source, period=period, files=[])
    accepted_tables: list[pa.Table] = []
    rejected_frames: list[pd.DataFrame] = []
    to_parse = [f for i, f in enumerate(files) if i not in duplicate_of]
    if parsed is None:
        outcomes = parse_files(to_parse, settings, regions, pseudonymizer)
    else:  # parsed elsewhere (one step per province shard): every file's outcome, by path
        by_path = parsed
        missing = [f.rel_path for f in to_parse if f.rel_path not in by_path]
        if missing:
            raise IngestError(f"{source} {period}: no parse outcome for {', '.join(missing[:3])} (a shard step is missing)")
        outcomes = (by_path[f.rel_path] for f in to_parse)
    for order, file in enumerate(files):
        record = {
            "sha256": file.sha256,
            "path": file.rel_path,
            "source": source,
            "period": period,
            "bytes": file.bytes,
            "format": None,
            "rows_read": 0,
            "rows_accepted": 0,
            "rows_rejected": 0,
            "duplicate_of": None,
            "error": None,
            "warnings": None,
        }
        if order in duplicate_of:
            record["duplicate_of"] = duplicate_of[order]
            report.files.append(record)
            continue
        parsed = next(outcomes)
        if isinstance(parsed, UnreadableFile):
            exc = parsed
            record.update(rows_read=None, rows_accepted=None, rows_rejected=None, error=exc.reason)
            report.errors.append(str(exc))
            report.files.append(record)
            continue
        rejected_count = parsed.rows_rejected
        record.update(
            format=parsed.format,
            rows_read=parsed.rows_read,
            rows_accepted=parsed.rows_accepted,
            rows_rejected=rejected_count,
            warnings="; ".join(parsed.audit_notes()) or None,
        )
        if parsed.rows_read != parsed.rows_accepted + rejected_count:
            report.errors.append(
                f"{file.rel_path}: row accounting broken (read {parsed.rows_read}, "
                f"accepted {parsed.rows_accepted}, rejected {rejected_count})"
            )
        report.files.append(record)
        report.warnings.extend(f"{file.rel_path}: {w}" for w in parsed.warnings)
        accepted_tables.append(_to_arrow(_with_provenance(parsed, file, order, pseudonymizer.key_id, run_id), source))
        if not parsed.rejected.empty:
            rej = parsed.rejected.copy()
            rej["sha256"], rej["path"], rej["source"], rej["period"] = file.sha256, file.rel_path, source, period
            rejected_frames.append(rej)

    outcomes.close()  # shuts the worker processes down, if any
    for record in report.files:
        report.rows_read += record["rows_read"] or 0
        report.rows_accepted += record["rows_accepted"] or 0
        report.rows_rejected += record["rows_rejected"] or 0
    if rejected_frames:
        counts = pd.concat(rejected_frames)["rule"].value_counts()
        report.rejected_by_rule = {str(k): int(v) for k, v in counts.items()}

    with warehouse.one_catalog_refresh():
        _publish(report, accepted_tables, rejected_frames, warehouse, run_id, pseudonymizer.key_id, publish)
    return report



def staged_key_ids(source: str, period: str, warehouse: Warehouse) -> set[str]:
    """The ``pii_key_id`` of every pseudonym the published partition holds: in its staging
    rows and in its rejected rows (``audit.rejected_rows`` shows personal values as
    pseudonyms). Empty when it holds none."""
    ids: set[str] = set()
    for table, part in ((STAGING_TABLES[source], "data"), ("audit.rejected_rows", source)):
        data = warehouse.read_partition(table, period, part, columns=["pii_key_id"])
        if data is not None:
            ids.update(pc.unique(data.column("pii_key_id")).drop_null().to_pylist())
    return ids


def staging_is_current(source: str, period: str, *, landing: Path, warehouse: Warehouse, pii_key_id: str) -> bool:
    """Whether the published staging partition was ingested from exactly the files now in
    its landing folder (same paths, same SHA-256, none unreadable) with the PII key
    ``pii_key_id`` fingerprints — then re-ingesting it would change nothing. A partition
    never staged is not current; nor is one whose pseudonyms (Google Forms response ids
    among them) were made with another key: windows would mix ids of two keys and stop
    de-duplicating re-exports."""
    if warehouse.current_file(STAGING_TABLES[source], period) is None:
        return False
    audit_table = warehouse.read_partition("audit.source_files", period, part=source)
    if audit_table is None:
        return False
    recorded = audit_table.select(["path", "sha256", "error"]).to_pylist()
    if any(r["error"] for r in recorded):
        return False
    if not staged_key_ids(source, period, warehouse) <= {pii_key_id}:
        return False
    cache = HashCache.in_folder(warehouse.local_dir)
    present = {(f.rel_path, f.sha256) for f in partition_files(landing, source, period, cache)}
    cache.save()
    return present == {(r["path"], r["sha256"]) for r in recorded}


def _publish(report: IngestReport, accepted_tables, rejected_frames, warehouse: Warehouse, run_id: str, key_id: str,
             publish: bool = True) -> None:
    """Audit first (it records unreadable files even when the partition fails), then
    staging and the publication log."""
    source, period = report.source, report.period
    now = dt.datetime.now(dt.timezone.utc)
    warehouse.write_partition(
        "audit.source_files", period, audit.source_files_table(report.files, run_id, now), part=source
    )
    warehouse.write_partition(
        "audit.rejected_rows",
        period,
        audit.rejected_rows_table(rejected_frames, run_id, key_id),
        part=source,
    )
    if report.errors:
        first = report.errors[0]
        more = f" (and {len(report.errors) - 1} more)" if len(report.errors) > 1 else ""
        raise IngestError(f"{source} {period}: {first}{more}")

    staging = _staging_table(accepted_tables, source)
    accepted_tables.clear()
    table = STAGING_TABLES[source]
    report.schema = staging.schema
    if not publish:
        report.candidate = warehouse.write_pending(table, period, staging, run_id)
        return
    report.staging = warehouse.write_partition(table, period, staging)
    warehouse.log_publication(report.staging, run_id)
