"""Where each staging partition stands: published as delivered, or blocked (and why), and
which warnings its last check raised.

Room: reading the warehouse's own records — ``audit.validation_results`` (every check's
outcome) and ``audit.source_files`` (every delivery, with unreadable files) — to say, for
a partition, whether its latest attempt was blocked. Scores then read the partition's
last *published* staging; this module lets a run, ``harmoni status`` and the run summary
say so plainly ("survey 2025-03 is blocked: …; scores use its last published staging").
Nothing here writes or decides publication (:mod:`.gate` does).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harmoni_pipeline import registry
from harmoni_pipeline.registry import STAGING_TABLES
from harmoni_pipeline.warehouse import Warehouse

SOURCE_OF_ASSET = {registry.asset_slug(table): source for source, table in STAGING_TABLES.items()}


@dataclass
class Standing:
    source: str            # survey | fkdm | stats
    partition: str         # YYYY-MM (statistics: YYYY)
    blocked: bool
    reason: str | None = None         # why the latest attempt was blocked
    warnings: list[str] = field(default_factory=list)  # warning-level expectations that failed last time
    published: bool = False           # whether some staging of the partition is published

    def describe(self) -> str:
        table = STAGING_TABLES[self.source]
        fallback = "its last published staging" if self.published else "no staging of it (none was ever published)"
        return f"{table} {self.partition} is blocked ({self.reason}); scores use {fallback}"


def standings(warehouse: Warehouse, partitions: dict[str, list[str]]) -> list[Standing]:
    """The standing of ``{source: [partition, …]}``, for partitions ever attempted."""
    wanted = [(s, p) for s, ps in partitions.items() for p in ps]
    if not wanted:
        return []
    con = warehouse.connect()
    try:
        con.execute("CREATE TEMP TABLE wanted (source VARCHAR, partition VARCHAR)")
        con.executemany("INSERT INTO wanted VALUES (?, ?)", wanted)
        con.execute("CREATE TEMP TABLE assets (asset VARCHAR, source VARCHAR)")
        con.executemany("INSERT INTO assets VALUES (?, ?)", list(SOURCE_OF_ASSET.items()))
        listing = warehouse.listing(["audit.validation_results", "audit.source_files"])
        for table in listing:
            warehouse.ensure_placeholder(table, warehouse.tables[table])
        checks = warehouse.select_sql("audit.validation_results", files=listing["audit.validation_results"])
        files = warehouse.select_sql("audit.source_files", files=listing["audit.source_files"])
        rows = con.execute(
            f"""
            WITH v AS (
                SELECT a.source, r.partition, r.run_id, r.checked_at, r.success, r.blocking, r.guards, r.observed
                FROM ({checks}) r JOIN assets a USING (asset)
                JOIN wanted w ON w.source = a.source AND w.partition = r.partition
                WHERE r.check_name = 'expectations'
            ),
            last_check AS (
                SELECT source, partition, arg_max(run_id, checked_at) AS run_id, max(checked_at) AS at
                FROM v GROUP BY source, partition
            ),
            outcome AS (
                SELECT l.source, l.partition, l.at,
                       list(v.guards || coalesce(' (' || v.observed || ')', ''))
                           FILTER (WHERE v.blocking AND NOT v.success) AS failures,
                       list(v.guards || coalesce(' (' || v.observed || ')', ''))
                           FILTER (WHERE NOT v.blocking AND NOT v.success) AS warnings
                FROM last_check l JOIN v USING (source, partition, run_id)
                GROUP BY l.source, l.partition, l.at
            ),
            f AS (
                SELECT s.source, s.period AS partition, s.ingested_at, s.path, s.error
                FROM ({files}) s JOIN wanted w ON w.source = s.source AND w.partition = s.period
            ),
            last_delivery AS (
                SELECT source, partition, max(ingested_at) AS at,
                       list(path || ': ' || error) FILTER (WHERE error IS NOT NULL) AS unreadable
                FROM f WHERE ingested_at = (SELECT max(ingested_at) FROM f g
                                            WHERE g.source = f.source AND g.partition = f.partition)
                GROUP BY source, partition
            )
            SELECT w.source, w.partition, o.at, o.failures, o.warnings, d.at, d.unreadable,
                   EXISTS (SELECT 1 FROM v WHERE v.source = w.source AND v.partition = w.partition
                           GROUP BY v.run_id HAVING bool_and(v.success OR NOT v.blocking)) AS ever_published
            FROM wanted w
            LEFT JOIN outcome o USING (source, partition)
            LEFT JOIN last_delivery d USING (source, partition)
            WHERE o.at IS NOT NULL OR d.at IS NOT NULL
            ORDER BY w.source, w.partition
            """
        ).fetchall()
    finally:
        con.close()
    out = []
    for source, partition, checked_at, failures, warned, delivered_at, unreadable, published in rows:
        if unreadable and (checked_at is None or delivered_at > checked_at):
            reason = "unreadable file " + unreadable[0] + (f" (and {len(unreadable) - 1} more)" if len(unreadable) > 1 else "")
            out.append(Standing(source, partition, True, reason, [], bool(published)))
        elif failures:
            reason = failures[0] + (f" (and {len(failures) - 1} more failed expectations)" if len(failures) > 1 else "")
            out.append(Standing(source, partition, True, reason, list(warned or []), bool(published)))
        else:
            out.append(Standing(source, partition, False, None, list(warned or []), True))
    return out


def blocked(warehouse: Warehouse, partitions: dict[str, list[str]]) -> list[Standing]:
    """The partitions of ``partitions`` whose latest attempt was blocked."""
    return [s for s in standings(warehouse, partitions) if s.blocked]
