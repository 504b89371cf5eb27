"""The table registry: every table the layers define is registered once, in catalog
order, and its three spellings (catalog name, asset key, folder) are derived from it."""

from __future__ import annotations

import ast
from pathlib import Path

from harmoni_pipeline import registry
from harmoni_pipeline.ingest.audit import AUDIT_TABLES
from harmoni_pipeline.ingest.schemas import STAGING_SCHEMAS
from harmoni_pipeline.quality.results import VALIDATION_RESULTS_SCHEMA
from harmoni_pipeline.scoring.schemas import MART_SCHEMAS
from harmoni_pipeline.warehouse import PUBLICATIONS_SCHEMA

ROOT = Path(__file__).resolve().parents[1]


def test_every_schema_a_layer_defines_is_registered_once_with_that_schema():
    defined = {**STAGING_SCHEMAS, **AUDIT_TABLES, "audit.publications": PUBLICATIONS_SCHEMA,
               "audit.validation_results": VALIDATION_RESULTS_SCHEMA, **MART_SCHEMAS}
    assert sorted(registry.TABLES) == sorted(defined)
    assert all(registry.schema(name).equals(schema) for name, schema in defined.items())
    assert list(registry.catalog_tables()) == list(registry.TABLES)


def test_spellings_of_a_table_are_derived():
    t = registry.table("staging.survey_responses")
    assert (t.asset_path, t.asset_slug, t.folder, t.short_name, t.source) == (
        ["staging", "survey_responses"], "staging/survey_responses", "staging__survey_responses", "survey_responses", "survey")
    assert registry.folder("marts/ihai_kecamatan") == registry.folder("marts.ihai_kecamatan") == "marts__ihai_kecamatan"
    assert registry.source_of("staging/statistics") == "stats" and registry.source_of("marts/ihai_kecamatan") is None
    assert registry.STAGING_TABLES == {"survey": "staging.survey_responses", "fkdm": "staging.fkdm_reports",
                                       "stats": "staging.statistics"}


def test_the_registry_imports_nothing_of_the_project():
    tree = ast.parse((ROOT / "harmoni_pipeline" / "registry.py").read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported <= {"__future__", "importlib", "dataclasses"}


def test_domain_code_never_imports_the_dagster_declarations():
    """``ingest``, ``scoring``, ``quality``, ``sample``, ``regions``, ``warehouse``: no
    import of ``checks``, ``assets`` or the code location's modules."""
    upper = ("checks", "assets", "harmoni_pipeline.checks", "harmoni_pipeline.assets", "harmoni_pipeline.definitions",
             "harmoni_pipeline.defs")
    domain = [*(ROOT / "harmoni_pipeline").glob("ingest/*.py"), *(ROOT / "harmoni_pipeline").glob("scoring/*.py"),
              *(ROOT / "harmoni_pipeline").glob("quality/*.py"), *(ROOT / "harmoni_pipeline").glob("sample/*.py"),
              *(ROOT / "harmoni_pipeline").glob("regions*.py"), *(ROOT / "harmoni_pipeline").glob("warehouse*.py")]
    found = []
    for path in domain:
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [(path.name, n) for n in names if any(n == u or n.startswith(u + ".") for u in upper)]
    assert found == []
