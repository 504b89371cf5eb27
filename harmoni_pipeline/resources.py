"""Dagster resources: the pipeline's configuration as a ``ConfigurableResource``.

Room: turning Dagster run configuration and the environment into :class:`Settings`
when a run starts (never at import), and the warehouse handle. The PII key is only ever
read from the environment (``HARMONI_PII_KEY``), so it never appears in run config.
"""

from __future__ import annotations

from typing import Optional

import dagster as dg

from harmoni_pipeline.settings import Settings
from harmoni_pipeline.warehouse import Warehouse


class HarmoniResource(dg.ConfigurableResource):
    """Landing zone, warehouse and scope; unset fields fall back to ``HARMONI_*`` env vars."""

    landing_dir: Optional[str] = None
    warehouse_dir: Optional[str] = None
    scope: Optional[str] = None

    def settings(self) -> Settings:
        return Settings.from_env(
            landing_dir=self.landing_dir, warehouse_dir=self.warehouse_dir, scope=self.scope
        )

    def warehouse(self) -> Warehouse:
        from harmoni_pipeline.registry import catalog_tables

        settings = self.settings()
        return Warehouse(settings.warehouse_dir, catalog_tables(), local_dir=settings.local_dir)
