"""Materialisation metadata for auditors: row counts, column schemas, URIs, source files.

Room: turning domain results (Arrow schemas, ingest reports) into Dagster metadata
values. No I/O.
"""

from __future__ import annotations

import dagster as dg
import pyarrow as pa

from harmoni_pipeline import registry


def column_schema(schema: pa.Schema) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(name=f.name, type=str(f.type)) for f in schema])


def source_files_table(files: list[dict]) -> dg.TableMetadataValue:
    cols = ["path", "sha256", "format", "bytes", "rows_read", "rows_accepted", "rows_rejected", "duplicate_of", "error"]
    return dg.MetadataValue.table(
        records=[dg.TableRecord({c: ("" if f.get(c) is None else f.get(c)) for c in cols}) for f in files],
        schema=dg.TableSchema(
            columns=[
                dg.TableColumn(c, "int" if c in {"bytes", "rows_read", "rows_accepted", "rows_rejected"} else "string")
                for c in cols
            ]
        ),
    )


def column_lineage(lineage: dict[str, list[tuple[str, str]]]) -> dg.TableColumnLineage:
    """``{column: [(schema.table, column)]}`` → ``dagster/column_lineage`` (asset keys are
    the table names split at the dot, as the assets are keyed)."""
    return dg.TableColumnLineage(
        deps_by_column={
            column: [
                dg.TableColumnDep(asset_key=dg.AssetKey(registry.asset_path(table)), column_name=dep)
                for table, dep in dict.fromkeys(deps)
            ]
            for column, deps in lineage.items()
        }
    )
