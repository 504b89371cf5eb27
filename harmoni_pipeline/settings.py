"""Run-time settings from the environment (data-contracts §1).

Room: where the landing zone and warehouse are, the scope, and the PII key — read when a
run starts, never at import. Nothing here reads data.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

DEV_PII_KEY = "harmoni-development-key-not-for-production"


class DevelopmentKeyWarning(UserWarning):
    """Personal data is being pseudonymised with the published development key."""


class SettingsError(RuntimeError):
    """The environment asks for something the pipeline refuses to do."""


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    warehouse_dir: Path
    scope: str
    pii_key: str
    env: str

    @property
    def catalog_path(self) -> Path:
        return self.warehouse_dir / "harmoni.duckdb"

    @property
    def uses_dev_key(self) -> bool:
        return self.pii_key == DEV_PII_KEY

    @classmethod
    def from_env(
        cls,
        *,
        landing_dir: str | os.PathLike | None = None,
        warehouse_dir: str | os.PathLike | None = None,
        scope: str | None = None,
        pii_key: str | None = None,
        environ: dict | None = None,
    ) -> "Settings":
        """Explicit arguments win over the environment, which wins over the defaults."""
        env = os.environ if environ is None else environ
        harmoni_env = env.get("HARMONI_ENV", "development").strip().lower() or "development"
        key = pii_key or env.get("HARMONI_PII_KEY") or ""
        if not key:
            if harmoni_env == "production":
                raise SettingsError(
                    "HARMONI_ENV=production requires HARMONI_PII_KEY (the key for pseudonymising personal data)"
                )
            # warnings' default filter shows this once per call site and process
            warnings.warn(
                "HARMONI_PII_KEY is not set: personal data is pseudonymised with the development key",
                DevelopmentKeyWarning,
                stacklevel=2,
            )
            key = DEV_PII_KEY
        return cls(
            landing_dir=Path(landing_dir or env.get("HARMONI_LANDING_DIR") or "data/landing").resolve(),
            warehouse_dir=Path(warehouse_dir or env.get("HARMONI_WAREHOUSE_DIR") or "data/warehouse").resolve(),
            scope=(scope or env.get("HARMONI_SCOPE") or "35.13").strip(),
            pii_key=key,
            env=harmoni_env,
        )
