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
