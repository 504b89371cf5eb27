"""Province shards: splitting a partition's parse so Dagster can spread it over steps.

Room: which province shard a landing file belongs to, parsing one shard, and carrying its
outcomes to the step that assembles the partition (through the run's pending area of the
warehouse, so steps on other processes or machines find them). The assembling itself is
:func:`harmoni_pipeline.ingest.runner.ingest_partition` with ``parsed=``.

A file's shard is the province folder it was delivered in —
``survey/2025-06/35/kobo_jatim.xlsx`` is shard ``35`` (a Kemendagri province code); a file
directly in the month folder, or in a folder that is not a province code, is shard
``all``. Parsing is per file and files are independent, so a shard's outcomes are exactly
what the unsplit parse gives for its files; assembling in file order makes the candidate
identical (tested). Rows are not re-assigned by their own kecamatan: a shard is a unit of
work, not of meaning.
"""

from __future__ import annotations

import pickle

from harmoni_pipeline.ingest.landing import LandingFile
from harmoni_pipeline.ingest.runner import parse_files, plan_partition
from harmoni_pipeline.pii import Pseudonymizer
from harmoni_pipeline.regions import Regions
from harmoni_pipeline.settings import Settings
from harmoni_pipeline.warehouse import Warehouse

SHARD_ALL = "all"


def shard_of(file: LandingFile, provinces: set[str]) -> str:
    """``source/period/<province>/…`` → the province code; anything else → ``all``."""
    parts = file.rel_path.split("/")
    return parts[2] if len(parts) > 3 and parts[2] in provinces else SHARD_ALL


def _files_by_shard(source: str, period: str, settings: Settings, warehouse: Warehouse,
                    regions: Regions) -> dict[str, list[LandingFile]]:
    """The files to parse (copies of an earlier-counted file excluded), by shard."""
    files, duplicate_of = plan_partition(source, period, settings=settings, warehouse=warehouse)
    provinces = set(regions.provinsi["kode"])
    out: dict[str, list[LandingFile]] = {}
    for order, file in enumerate(files):
        if order not in duplicate_of:
            out.setdefault(shard_of(file, provinces), []).append(file)
    return out


def partition_shards(source: str, period: str, *, settings: Settings, warehouse: Warehouse,
                     regions: Regions) -> list[str]:
    """The partition's shards, sorted; at least one (an empty month is one empty shard, so
    the assembling step still runs and records it)."""
    return sorted(_files_by_shard(source, period, settings, warehouse, regions)) or [SHARD_ALL]


def _blob_name(source: str, period: str, shard: str) -> str:
    return f"parsed~{source}~{period}~{shard}.pickle"


def parse_shard(source: str, period: str, shard: str, *, settings: Settings, warehouse: Warehouse,
                regions: Regions, run_id: str) -> int:
    """Parse one shard's files and store the outcomes for the run; returns the files parsed."""
    files = _files_by_shard(source, period, settings, warehouse, regions).get(shard, [])
    outcomes = parse_files(files, settings, regions, Pseudonymizer(settings.pii_key))
    by_path = {file.rel_path: outcome for file, outcome in zip(files, outcomes)}
    # pickle: our own objects (frames, counts, warnings), written and read by this run only
    warehouse.write_pending_blob(run_id, _blob_name(source, period, shard),
                                 pickle.dumps(by_path, protocol=pickle.HIGHEST_PROTOCOL))
    return len(files)


def collect_shards(source: str, period: str, shards: list[str], *, warehouse: Warehouse, run_id: str) -> dict:
    """Every shard's outcomes by relative path (then removed from the pending area)."""
    parsed: dict = {}
    for shard in shards:
        name = _blob_name(source, period, shard)
        payload = warehouse.read_pending_blob(run_id, name)
        if payload is None:
            raise FileNotFoundError(f"{source} {period}: shard {shard} was not parsed in run {run_id}")
        parsed.update(pickle.loads(payload))
    return parsed


def discard_shards(source: str, period: str, shards: list[str], *, warehouse: Warehouse, run_id: str) -> None:
    for shard in shards:
        warehouse.remove_pending_blob(run_id, _blob_name(source, period, shard))
