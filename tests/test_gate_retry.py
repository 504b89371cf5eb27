"""A retry of a failed run re-executes only the failed steps: its gate must judge (and
publish) the candidate that the original run's asset step wrote."""

from __future__ import annotations

import pytest

from harmoni_pipeline import methodology
from harmoni_pipeline.ingest.runner import ingest_partition
from harmoni_pipeline.quality.gate import MissingCandidate, gate
from harmoni_pipeline.quality.validate import validate_staging
from harmoni_pipeline.regions import Regions
from harmoni_pipeline.registry import catalog_tables
from harmoni_pipeline.warehouse import Warehouse
from tests.landing_helpers import rows_across_scope, write_canonical_survey

PERIOD = "2025-04"
TABLE = "staging.survey_responses"


def test_a_retry_publishes_the_original_runs_candidate(settings):
    write_canonical_survey(settings.landing_dir / "survey" / PERIOD / "export.csv", rows_across_scope(PERIOD))
    warehouse = Warehouse(settings.warehouse_dir, catalog_tables())
    ingest_partition("survey", PERIOD, settings=settings, run_id="root-run", warehouse=warehouse, publish=False)
    regions, method = Regions.load(), methodology.load()

    def validate(candidates):
        return validate_staging("survey", PERIOD, candidates[TABLE], warehouse=warehouse, regions=regions,
                                scope=settings.scope, methodology=method, run_name="retry-run", docs=None)

    with pytest.raises(MissingCandidate, match="no candidate written by run retry-run"):
        gate([TABLE], PERIOD, run_id="retry-run", warehouse=warehouse, validate=validate,
             check_name="expectations")
    assert warehouse.current_file(TABLE, PERIOD) is None

    result = gate([TABLE], PERIOD, run_id="retry-run", warehouse=warehouse, validate=validate,
                  check_name="expectations", candidate_runs=["retry-run", "root-run"])
    assert result.passed and set(result.published) == {TABLE}
    assert warehouse.read_partition(TABLE, PERIOD).num_rows == len(rows_across_scope(PERIOD))
    assert warehouse.read_pending(TABLE, PERIOD, "root-run") is None  # published, not left behind


def test_the_gate_reads_each_candidate_only_when_it_is_validated(tmp_path):
    """The gate hands its validation the run's candidates unread (issue 19: the marts gate
    held all fifteen at once): each table is read from the pending area when asked for,
    and one taken out is forgotten."""
    import pyarrow as pa

    from harmoni_pipeline.quality.gate import Candidates
    from harmoni_pipeline.scoring.schemas import MART_SCHEMAS

    warehouse = Warehouse(tmp_path / "wh", catalog_tables())
    tables = ["marts.ihai_provinsi", "marts.ikn_provinsi"]
    paths = [warehouse.write_pending(table, PERIOD, MART_SCHEMAS[table].empty_table(), "run-1") for table in tables]
    candidates = Candidates(warehouse, tables, PERIOD, "run-1")
    assert list(candidates) == tables and len(candidates) == 2
    assert candidates.rows(tables[0]) == 0 and candidates.forkable  # the footer's count; a local warehouse
    for path in paths:  # not read yet: a candidate removed now is a clear error when it is asked for
        warehouse.storage.remove(path)
    with pytest.raises(MissingCandidate, match="marts.ihai_provinsi 2025-04: the candidate of run run-1 is gone"):
        candidates.pop(tables[0])
    warehouse.write_pending(tables[0], PERIOD, MART_SCHEMAS[tables[0]].empty_table(), "run-1")
    taken = candidates.pop(tables[0])
    assert isinstance(taken, pa.Table) and taken.schema.names == MART_SCHEMAS[tables[0]].names
    assert list(candidates) == [tables[1]]
    with pytest.raises(KeyError):
        candidates[tables[0]]
    with pytest.raises(TypeError):
        candidates[tables[0]] = taken
