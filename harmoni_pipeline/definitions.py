"""The Dagster code location: every asset, check, job, schedule, sensor and resource of
harmoni in one ``Definitions`` (``dg list defs``, ``dagster dev -m
harmoni_pipeline.definitions``), built by :mod:`harmoni_pipeline.defs.build`."""

from __future__ import annotations

from harmoni_pipeline.defs.build import build_defs, executor_from_env

__all__ = ["build_defs", "defs", "executor_from_env"]

defs = build_defs()
