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

    @classmethod
    def from_settings(cls, settings: Settings) -> "HarmoniResource":
        """The resource that gives back ``settings``' folders and scope (the PII key and
        limits still come from the environment, as for every run)."""
        return cls(landing_dir=str(settings.landing_dir), warehouse_dir=str(settings.warehouse_dir), scope=settings.scope)

    def settings(self) -> Settings:
        return Settings.from_env(
            landing_dir=self.landing_dir, warehouse_dir=self.warehouse_dir, scope=self.scope
        )

    def warehouse(self) -> Warehouse:
        return self.settings().warehouse()
