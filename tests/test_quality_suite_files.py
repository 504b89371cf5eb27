"""The suite files (``checks/suites/*.json``): one per checked table, every expectation
names the rule it guards, every run-time parameter is one the batch builders provide,
and each staging rows suite guards every row rule of the contract. No data is read.
"""

from __future__ import annotations

import json
import re

import pytest

from harmoni_pipeline import methodology as methodology_mod
from harmoni_pipeline.quality import batches as b
from harmoni_pipeline.quality import suites as suites_mod
from harmoni_pipeline.quality.suites import SUITES_DIR, load_suites, suite_file
from harmoni_pipeline.registry import STAGING_TABLES
from harmoni_pipeline.scoring.schemas import MART_SCHEMAS

SCOPE = "35.13"
MONTH = "2025-06"
PERIODS = {"survey": MONTH, "fkdm": MONTH, "stats": "2025"}
BATCHES = {"schema", "rows", "files", "partition", "population"}

# data-contracts §3.4: the rule vocabulary, and the row rules each staging suite must guard
VOCABULARY = {"missing_field", "invalid_value", "invalid_date", "out_of_scale", "age_out_of_range", "unknown_region",
              "ambiguous_region", "out_of_scope", "date_order", "duplicate_in_file", "empty_response"}
ROW_RULES = {
    "survey": {"missing_field", "invalid_value", "invalid_date", "out_of_scale", "age_out_of_range", "unknown_region",
               "out_of_scope", "duplicate_in_file", "empty_response"},
    "fkdm": {"missing_field", "invalid_value", "date_order", "duplicate_in_file", "unknown_region", "out_of_scope"},
    "stats": {"invalid_value", "out_of_scale", "duplicate_in_file"},
}
NON_RULE_GUARDS = {"partition", "provenance"}  # rows-suite guards that are not §3.4 rejection rules

SUITE_TABLES = sorted([*STAGING_TABLES.values(), *MART_SCHEMAS])


def rules_named(guards: str) -> set[str]:
    """The rule ids a guards text starts with: ``"unknown_region/out_of_scope: …"``."""
    head = guards.split(":", 1)[0] if ":" in guards else ""
    return {r.strip() for r in head.split("/") if re.fullmatch(r"[a-z_]+", r.strip())}


def parameters_used(value) -> set[str]:
    if isinstance(value, dict):
        if "$PARAMETER" in value:
            return {value["$PARAMETER"]}
        return set().union(*(parameters_used(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(parameters_used(v) for v in value)) if value else set()
    return set()


def test_every_checked_table_has_exactly_one_suite_file():
    assert sorted(p.stem for p in SUITES_DIR.glob("*.json")) == SUITE_TABLES


@pytest.mark.parametrize("table", SUITE_TABLES)
def test_suite_file_loads_and_every_expectation_names_the_rule_it_guards(table):
    suites = load_suites(table)
    raw = json.loads(suite_file(table).read_text(encoding="utf-8"))
    assert raw["table"] == table and suites
    batches = [s.batch for s in suites]
    assert len(batches) == len(set(batches)) and set(batches) <= BATCHES
    if table.startswith("marts."):
        assert batches == ["rows"]
    else:
        assert {"schema", "rows", "files", "partition"} <= set(batches)
    source = {t: s for s, t in STAGING_TABLES.items()}.get(table)
    params = (b.staging_parameters(source, PERIODS[source], SCOPE, methodology_mod.load()) if source
              else b.mart_parameters(table, MONTH, methodology_mod.load()))
    for suite in suites:
        assert suite.name == f"{table}.{suite.batch}"
        assert suite.expectations, suite.name
        for e in suite.expectations:
            guards = e["meta"]["guards"]
            assert isinstance(guards, str) and guards.strip(), (suite.name, e)
            assert e["type"].startswith("expect_"), e
            # every run-time placeholder is one the batch builder provides
            assert parameters_used(e["kwargs"]) <= set(params), (suite.name, e["type"], e["kwargs"])


def test_a_suite_file_without_guards_or_naming_another_table_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(suites_mod, "SUITES_DIR", tmp_path)
    expectation = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "x"}, "meta": {}}
    (tmp_path / "staging.x.json").write_text(json.dumps(
        {"table": "staging.x", "suites": [{"name": "staging.x.rows", "batch": "rows", "expectations": [expectation]}]}))
    with pytest.raises(ValueError, match="meta.guards"):
        load_suites("staging.x")
    (tmp_path / "staging.y.json").write_text(json.dumps({"table": "staging.x", "suites": []}))
    with pytest.raises(ValueError, match="expected 'staging.y'"):
        load_suites("staging.y")


@pytest.mark.parametrize("source", ["survey", "fkdm", "stats"])
def test_staging_rows_suite_guards_every_row_rule_of_the_contract(source):
    (rows,) = [s for s in load_suites(STAGING_TABLES[source]) if s.batch == "rows"]
    named = set().union(*(rules_named(e["meta"]["guards"]) for e in rows.expectations))
    missing = ROW_RULES[source] - named
    assert not missing, f"{source}: no expectation guards {sorted(missing)}"
    # every rule id a guard names is one of §3.4 (no misspelt rule that would guard nothing)
    assert named - NON_RULE_GUARDS <= VOCABULARY, sorted(named - NON_RULE_GUARDS - VOCABULARY)
