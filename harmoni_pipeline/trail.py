"""The auditor's trail on an asset's page in the Dagster UI: what came in, what was read,
what each number is computed from, and where the published result lives.

Room: turning plain facts — a landing partition's files, a period's staging listing, the
column lineage of :mod:`harmoni_pipeline.scoring.lineage` — into the metadata an auditor
reads (observations of the landing assets, ``dagster/uri``, the window, the upstream
partitions, a ``computed_from`` table and a ``trail`` text, in Markdown because the
open-source UI shows no column lineage). No I/O: callers list and hash; this module
only describes. What the UI shows is documented in docs/auditor.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePath

import dagster as dg

from harmoni_pipeline.periods import month_range, shift
from harmoni_pipeline.scoring.lineage import Lineage

LANDING_SOURCES = ("survey", "fkdm", "stats")
FILE_COLUMNS = ("path", "sha256", "bytes", "format")
SEEN_BY_SENSOR = "harmoni_landing_sensor"


# ---- where each asset lives ------------------------------------------------------------
def location_uri(key: dg.AssetKey, *, landing: PurePath, warehouse) -> str | None:
    """The asset's place, for its definition's ``dagster/uri`` (the overview's
    Definition panel shows it): a landing source's folder, a table's folder in the
    warehouse (every partition's files; a snapshot period's manifest names the current
    one). ``None`` for assets that are not a folder or a table (the report has its own)."""
    head, *rest = key.path
    if head == "landing":
        return landing_uri(landing, "reference/penanggung_jawab.csv" if rest[0] == "penanggung_jawab" else rest[0])
    if head in ("staging", "marts", "audit") and rest:
        return warehouse.url(warehouse.table_dir(f"{head}.{rest[0]}"))
    return None


def landing_uri(landing: PurePath | str, relative: str) -> str:
    """The URI of ``relative`` (``survey/2025-12``, a file) in the landing zone ``landing``:
    a folder → ``file://`` of the absolute path; a landing zone at a URL (``s3://…``) → the
    URL itself (never this machine's copy of it, which no other machine has)."""
    if "://" in str(landing):
        return f"{str(landing).rstrip('/')}/{relative.strip('/')}"
    return (Path(landing) / relative).resolve().as_uri()


def with_location(spec: dg.AssetSpec, *, landing: PurePath, warehouse) -> dg.AssetSpec:
    uri = location_uri(spec.key, landing=landing, warehouse=warehouse)
    return spec if uri is None else spec.merge_attributes(metadata={"dagster/uri": uri})


# ---- landing: what came in ----------------------------------------------------------
def landing_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["landing", source])


def format_by_extension(path: str) -> str:
    """What a file looks like before it is parsed (the staging run records the format it
    detected: Kobo, Google Forms, BPS WebAPI …)."""
    return PurePath(path).suffix.lstrip(".").lower() or "?"


def landing_observation(source: str, period: str, files: list[Mapping], *, folder_uri: str, seen_by: str,
                        change: str | None = None) -> dg.AssetObservation:
    """One observation of ``landing/<source>`` for the partition folder ``period``:
    ``files`` are mappings with ``path`` (relative to the landing root), ``sha256``,
    ``bytes`` and ``format``. ``seen_by``: the sensor or the run that saw them."""
    records = [dg.TableRecord({c: f.get(c) if f.get(c) is not None else ("" if c != "bytes" else 0) for c in FILE_COLUMNS})
               for f in sorted(files, key=lambda f: f["path"])]
    total = sum(int(f.get("bytes") or 0) for f in files)
    metadata = {
        "arrival_period": period,
        "file_count": len(files),
        "bytes": total,
        "files": dg.MetadataValue.table(records=records, schema=dg.TableSchema(columns=[
            dg.TableColumn(c, "int" if c == "bytes" else "string") for c in FILE_COLUMNS])),
        "dagster/uri": folder_uri,
        "seen_by": seen_by,
    }
    if change:
        metadata["change"] = change
    what = f"{len(files)} file(s), {total:,} bytes" if files else "no file (the folder is empty or was removed)"
    return dg.AssetObservation(asset_key=landing_key(source), metadata=metadata,
                               description=f"landing/{source}/{period}: {what}; seen by {seen_by}")


def partition_of_path(rel_path: str) -> tuple[str, str] | None:
    """``survey/2025-01/x.csv`` → ``("survey", "2025-01")`` (``None``: not a partition's file)."""
    parts = rel_path.split("/")
    return (parts[0], parts[1]) if len(parts) >= 3 and parts[0] in LANDING_SOURCES else None


def changed_partitions(paths: Iterable[str]) -> set[tuple[str, str]]:
    """The landing partitions whose files ``paths`` (added, changed, removed) belong to."""
    return {p for p in map(partition_of_path, paths) if p is not None}


def change_summary(paths: Iterable[str], previous: Mapping[str, str], current: Mapping[str, str]) -> str:
    """``new: a.csv; changed: b.xlsx; removed: c.csv`` for the paths of one partition."""
    groups: dict[str, list[str]] = {"new": [], "changed": [], "removed": []}
    for p in sorted(paths):
        groups["new" if p not in previous else "removed" if p not in current else "changed"].append(p.rsplit("/", 1)[-1])
    return "; ".join(f"{k}: {', '.join(v)}" for k, v in groups.items() if v) or "no change"


# ---- marts: what was read, what each column is computed from ----------------------
def window_months(period: str, months: int) -> list[str]:
    """The reporting months a period's survey and event windows cover, oldest first."""
    return month_range(shift(period, -(months - 1)), period)


def partition_name(path: PurePath) -> str:
    """``…/period=2025-01/data~….parquet`` → ``2025-01``."""
    return PurePath(path).parent.name.removeprefix("period=")


def upstream_reads(listing: Mapping[str, list[PurePath]], period: str) -> dict[str, dict[str, str]]:
    """The staging partitions a period's scores read, each with the file version read:
    ``{table: {partition: file name}}`` — survey and FKDM months up to the period (the
    window, and earlier months for the first arrival of a response and the latest version
    of a report), statistics arrival years up to the period's year."""
    year = period[:4]
    out: dict[str, dict[str, str]] = {}
    for table, files in sorted(listing.items()):
        limit = year if table == "staging.statistics" else period
        chosen = {partition_name(f): PurePath(f).name for f in files if partition_name(f) <= limit}
        out[table] = dict(sorted(chosen.items()))
    return out


def upstream_partitions(reads: Mapping[str, Mapping[str, str]]) -> dict[str, list[str]]:
    return {table: list(parts) for table, parts in reads.items()}


ITEM = re.compile(r"^(X\d\d|KN\d)_([A-Z]+)$")


def _dep_text(columns: list[str]) -> str:
    """Columns in full, items of one variable folded: ``X06_PER/PAR/AKS``."""
    out: list[str] = []
    folded: dict[str, list[str]] = {}
    for c in columns:
        m = ITEM.match(c)
        if m is None:
            out.append(c)
            continue
        if m.group(1) not in folded:
            folded[m.group(1)] = []
            out.append(m.group(1))  # placeholder, replaced below
        folded[m.group(1)].append(m.group(2))
    return ", ".join(f"{c}_{'/'.join(folded[c])}" if c in folded else c for c in out)


def computed_from(lineage: Lineage) -> dict[str, dict[str, list[str]]]:
    """``{column: {upstream table: [columns]}}`` in the order of the lineage."""
    out: dict[str, dict[str, list[str]]] = {}
    for column, deps in lineage.items():
        by_table: dict[str, list[str]] = {}
        for table, dep in dict.fromkeys(deps):
            by_table.setdefault(table, []).append(dep)
        out[column] = by_table
    return out


def computed_from_markdown(lineage: Lineage, notes: Mapping[str, str] | None = None) -> str:
    """A Markdown table, one row per computed column: the upstream columns it reads
    (``dagster/column_lineage`` in words, which the open-source UI does not display)."""
    rows = ["| column | computed from |", "| --- | --- |"]
    for column, by_table in computed_from(lineage).items():
        parts = [f"**{table}**: {_dep_text(cols)}" for table, cols in by_table.items()]
        note = (notes or {}).get(column)
        rows.append(f"| {column} | {' · '.join(parts)}{' · ' + note if note else ''} |")
    return "\n".join(rows)


def lineage_notes(methodology) -> dict[str, str]:
    """What a column name cannot say: which statistics rows (``indikator``) are read."""
    indicators = ", ".join(methodology.ikn["context"]["indicators"])
    population = "population margins: indikator = penduduk by jenis_kelamin × kelompok_umur"
    context = f"context indicators: {indicators}"
    return {
        "ihai": population, "n_efektif": population, "weighting": population,
        "pilar_konteks": context, "ikn": f"{population}; {context}", "e1": "E1's load per 10 000 inhabitants: " + population,
        "nilai": context, "skor": context,
    }


def mart_trail_markdown(table: str, period: str, *, methodology, window: list[str],
                        reads: Mapping[str, Mapping[str, str]], manifest_uri: str, run_id: str) -> str:
    """"Where this came from": the published snapshot, the window, the staging
    partitions read (with their file versions), the rules, and how to go further."""
    lines = [
        f"**{table} {period}** — methodology {methodology.version} (SHA-256 `{methodology.sha256[:12]}…`), "
        f"computed by run `{run_id}`.",
        "",
        f"- **Published as**: the period's snapshot manifest `{manifest_uri}` names this table's file once the "
        "blocking check `expectations` passes (its result shows `published_uri`); the candidate of this run is "
        "moved there, never copied.",
        f"- **Window**: {window[0]} … {window[-1]} ({len(window)} months) for the survey responses and FKDM reports.",
        "",
        "| staging table | partitions read | file versions |",
        "| --- | --- | --- |",
    ]
    for up, parts in reads.items():
        names = list(parts)
        span = f"{names[0]} … {names[-1]} ({len(names)})" if len(names) > 2 else ", ".join(names) or "none"
        files = ", ".join(f"`{p}/{f}`" for p, f in list(parts.items())[-3:])
        lines.append(f"| `{up}` | {span} | {'… ' if len(parts) > 3 else ''}{files} |")
    lines += [
        "",
        "**Going further**: each staging partition's page lists its landing files (path, SHA-256, rows used and "
        "rejected per rule); the landing assets' observations show every file that arrived; "
        "`harmoni trace --period " + period + " --kecamatan KODE` and the `audit.*` tables give one kecamatan's "
        "rows (docs/auditor.md).",
    ]
    return "\n".join(lines)
