"""Plain-text summaries of what a run did, read back from the warehouse's audit tables.

Room: formatting for the terminal (``harmoni run`` / ``harmoni demo``); queries run in
DuckDB directly on the Parquet files, so no catalog lock is ever taken.
"""

from __future__ import annotations

from pathlib import Path

from harmoni_pipeline.methodology import DEFAULT_VERSION
from harmoni_pipeline.registry import STAGING_TABLES, catalog_tables
from harmoni_pipeline.warehouse import Warehouse


def text_table(rows: list[tuple], headers: list[str]) -> str:
    cells = [headers] + [["" if v is None else str(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def ingestion_summary(warehouse_dir: Path | str, periods: list[str]) -> str:
    wh = Warehouse(warehouse_dir, catalog_tables())
    years = sorted({p[:4] for p in periods})
    keys = list(periods) + years
    con = wh.connect()
    files = con.execute(
        f"""
        SELECT source, count(*) AS files,
               count(*) FILTER (WHERE duplicate_of IS NOT NULL) AS duplicates,
               count(*) FILTER (WHERE error IS NOT NULL) AS unreadable,
               sum(rows_read) AS rows_read, sum(rows_accepted) AS accepted, sum(rows_rejected) AS rejected
        FROM ({wh.select_sql("audit.source_files")})
        WHERE period IN (SELECT unnest(?::VARCHAR[]))
        GROUP BY source ORDER BY source
        """,
        [keys],
    ).fetchall()
    rules = con.execute(
        f"""
        SELECT source, rule, count(*) AS n
        FROM ({wh.select_sql("audit.rejected_rows")})
        WHERE period IN (SELECT unnest(?::VARCHAR[]))
        GROUP BY source, rule ORDER BY source, n DESC, rule
        """,
        [keys],
    ).fetchall()
    out = [f"Ingestion {periods[0]} .. {periods[-1]} (statistics {years[0]}..{years[-1]}):",
           text_table(files, ["source", "files", "duplicates", "unreadable", "rows read", "accepted", "rejected"])]
    if rules:
        out += ["", "Rejections by rule (one row per broken rule; see audit.rejected_rows):",
                text_table(rules, ["source", "rule", "rows"])]
    return "\n".join(out)


def warnings_summary(warehouse_dir: Path | str, periods: list[str]) -> str:
    """Staging partitions the periods' windows read that are blocked (scores used their
    last published staging) or whose last check raised warnings (e.g. low coverage)."""
    from harmoni_pipeline.periods import month_range, shift
    from harmoni_pipeline.quality.standing import standings

    wh = Warehouse(warehouse_dir, catalog_tables())
    months = month_range(shift(min(periods), -11), max(periods))
    years = sorted({m[:4] for m in months})
    lines = []
    for s in standings(wh, {"survey": months, "fkdm": months, "stats": years}):
        if s.blocked:
            lines.append(f"  {s.describe()}")
        lines += [f"  {STAGING_TABLES[s.source]} {s.partition}: warning: {w}" for w in s.warnings]
    if not lines:
        return ""
    return "\n".join(["Warnings (`harmoni status` lists them too):", *lines])


SUMMARY_ROWS = 40


def scores_summary(warehouse_dir: Path | str, period: str, limit: int = SUMMARY_ROWS) -> str:
    """The latest period's kecamatan: IHaI, category, IKN, risk level, quadrant. In a
    large scope, the ``limit`` most urgent (quadrant priority, red alert, lowest IKN)."""
    wh = Warehouse(warehouse_dir, catalog_tables())
    rows = wh.query(
        """
        SELECT h.kode_kecamatan, h.nama_kecamatan,
               round(h.ihai, 1) AS ihai, i.kategori, round(h.ikn, 1) AS ikn, h.tingkat_kerawanan,
               CASE WHEN k.alert_merah THEN 'ya' ELSE '' END AS alert, coalesce(h.kuadran, '(' || h.alasan_null || ')')
        FROM {marts.harmoni_kewaspadaan} h
        JOIN {marts.ihai_kecamatan} i USING (period, kode_kecamatan)
        JOIN {marts.ikn_kecamatan} k USING (period, kode_kecamatan)
        WHERE h.period = ?
        """,
        [period],
    ).fetchall()
    total = len(rows)
    if total > limit:
        priority = {"kurang-harmonis-rawan": 0, "harmonis-rawan": 1, "kurang-harmonis-aman": 2}
        rows = sorted(rows, key=lambda r: (priority.get(r[7], 3), r[6] != "ya", r[4] if r[4] is not None else 1e9))[:limit]
    rows = sorted(rows, key=lambda r: r[0])
    if not rows:
        return f"Scores {period}: nothing published."
    head = ["kode", "kecamatan", "IHaI", "kategori", "IKN", "kerawanan", "alert", "kuadran"]
    note = f"IKN here is {DEFAULT_VERSION} (survey + FKDM + BPS pillars), not the official Kemendagri IKN."
    title = f"Scores {period} (methodology {DEFAULT_VERSION}; unrounded values in marts.*)"
    if total > limit:
        title += f": the {limit} most urgent of {total} kecamatan (all in marts.harmoni_kewaspadaan)"
    return "\n".join([title + ":", text_table(rows, head), note])
