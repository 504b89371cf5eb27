"""Every table of the warehouse, as data: name → layer, source, partitioning, asset key,
schema — and the names of the jobs.

Room: the one place a table or a job is named. A table's three spellings are derived
here, never by hand: the catalog name ``staging.survey_responses``, the Dagster asset key
``["staging", "survey_responses"]`` (``staging/survey_responses`` in the UI), and the
folder name ``staging__survey_responses`` (Data Docs). Schemas stay with the layer that
writes them; an entry names where (``module:ATTRIBUTE``, a schema or a dict keyed by
table name) and :func:`schema` imports it when asked, so this module imports nothing of
the project and every module may import it.

A new table: one entry in :data:`TABLES` (and its schema in its layer's ``schemas``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

MONTHLY, YEARLY, RUN_PERIOD = "monthly", "yearly", "period of the run"


@dataclass(frozen=True)
class Table:
    name: str                  # schema.table, as the catalog and the data contracts spell it
    layer: str                 # staging | audit | marts
    partitioning: str          # MONTHLY | YEARLY | RUN_PERIOD (audit: the partition its run wrote)
    schema_at: str             # "module:ATTRIBUTE" holding the Arrow schema (or a dict of them by name)
    source: str | None = None  # survey | fkdm | stats: the landing source a staging table holds

    @property
    def asset_path(self) -> list[str]:
        return self.name.split(".")

    @property
    def asset_slug(self) -> str:
        return "/".join(self.asset_path)

    @property
    def folder(self) -> str:
        return "__".join(self.asset_path)

    @property
    def short_name(self) -> str:
        return self.asset_path[1]


_STAGING = "harmoni_pipeline.ingest.schemas:STAGING_SCHEMAS"
_AUDIT = "harmoni_pipeline.ingest.audit:AUDIT_TABLES"
_MARTS = "harmoni_pipeline.scoring.schemas:MART_SCHEMAS"

# In catalog order (the DuckDB catalog lists views in this order).
TABLES: dict[str, Table] = {t.name: t for t in (
    Table("staging.survey_responses", "staging", MONTHLY, _STAGING, source="survey"),
    Table("staging.fkdm_reports", "staging", MONTHLY, _STAGING, source="fkdm"),
    Table("staging.statistics", "staging", YEARLY, _STAGING, source="stats"),
    Table("audit.source_files", "audit", RUN_PERIOD, _AUDIT),
    Table("audit.rejected_rows", "audit", RUN_PERIOD, _AUDIT),
    Table("audit.landing_issues", "audit", RUN_PERIOD, _AUDIT),
    Table("audit.publications", "audit", RUN_PERIOD, "harmoni_pipeline.warehouse:PUBLICATIONS_SCHEMA"),
    Table("audit.validation_results", "audit", RUN_PERIOD, "harmoni_pipeline.quality.results:VALIDATION_RESULTS_SCHEMA"),
    *(Table(f"marts.{name}", "marts", MONTHLY, _MARTS) for name in (
        "ihai_kecamatan", "ihai_variabel", "ihai_kabupaten", "ihai_provinsi", "ikn_kecamatan",
        "ikn_dimensi", "ikn_konteks", "ikn_kabupaten", "ikn_provinsi", "harmoni_kewaspadaan",
    )),
)}

SOURCES = ("survey", "fkdm", "stats")
STAGING_TABLES = {t.source: t.name for t in TABLES.values() if t.layer == "staging"}  # source → table
MART_TABLES = [name for name, t in TABLES.items() if t.layer == "marts"]
KEWASPADAAN = "marts.harmoni_kewaspadaan"  # the last mart of a month: its run scored the month

# The Dagster jobs (operators' run history and schedules know them by these names).
INGEST_MONTHLY = "ingest_monthly"
INGEST_STATISTICS = "ingest_statistics"
HARMONI_MONTHLY = "harmoni_monthly"
SCORE_MONTHLY = "score_monthly"
STAGING_JOBS = {INGEST_MONTHLY: ("survey", "fkdm"), INGEST_STATISTICS: ("stats",)}  # job → sources it stages


def table(name: str) -> Table:
    return TABLES[name]


def asset_path(name: str) -> list[str]:
    """``staging.survey_responses`` → ``["staging", "survey_responses"]``."""
    return TABLES[name].asset_path if name in TABLES else name.split(".")


def asset_slug(name: str) -> str:
    """``staging.survey_responses`` → ``staging/survey_responses`` (an asset key's string)."""
    return "/".join(asset_path(name))


def folder(slug: str) -> str:
    """An asset key's string or a table name as a folder name: ``staging__survey_responses``."""
    return slug.replace("/", "__").replace(".", "__")


def source_of(slug: str) -> str | None:
    """The landing source whose staging table has the asset key string ``slug``."""
    return next((t.source for t in TABLES.values() if t.asset_slug == slug and t.source), None)


def schema(name: str):
    """The Arrow schema of table ``name``, imported from the layer that defines it."""
    module, attribute = TABLES[name].schema_at.split(":")
    found = getattr(importlib.import_module(module), attribute)
    return found[name] if isinstance(found, dict) else found


def catalog_tables() -> dict:
    """Every table of the catalog and its Arrow schema, in catalog order."""
    return {name: schema(name) for name in TABLES}
