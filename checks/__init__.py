"""Data-quality checks: the declarative GX suites (``checks/suites/*.json``) and the
Dagster asset checks that run them (``checks/staging.py``, ``checks/marts.py``,
``checks/diagnostics.py``) — thin declarations over :mod:`harmoni_pipeline.quality`."""
