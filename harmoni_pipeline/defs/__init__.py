"""The Dagster area: jobs, schedules, sensors, resources, partitions and the assembly of
the code location. The asset and check declarations live in the top-level ``assets/``
and ``checks/`` folders, installed as :mod:`harmoni_pipeline.assets` and
:mod:`harmoni_pipeline.checks`. Domain modules never import from here."""
