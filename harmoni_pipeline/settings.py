"""Run-time settings from the environment (data-contracts §1).

Room: where the landing zone, the warehouse and the local working folder are, the scope,
the PII key and the limits on what one landing file may hold — read when a run starts,
never at import. Nothing here reads data.

The warehouse is a plain path or a URL (``file:///…``, ``s3://bucket/prefix``, any fsspec
protocol; :mod:`harmoni_pipeline.storage`). What must stay on this machine — the landing
files' hash cache, Data Docs, the alert log — goes to the *local folder*:
``HARMONI_LOCAL_DIR`` when set, else the warehouse folder itself when the warehouse is
local, else ``data/local`` (:func:`~harmoni_pipeline.storage.local_dir_for`, the one place it is
derived).

A process builds its settings once: the command line from its arguments
(:meth:`Settings.from_env` with them, the environment filling what is not given), Dagster
code from the ``harmoni`` resource.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from harmoni_pipeline.ingest.limits import DEFAULT_LIMITS, MB, InputLimits
from harmoni_pipeline.storage import DEFAULT_LOCAL_DIR, local_dir_for, normalise_location  # noqa: F401 (re-exported)

DEV_PII_KEY = "harmoni-development-key-not-for-production"
ENVIRONMENTS = ("development", "production")
MIN_PRODUCTION_KEY_BYTES = 32


class DevelopmentKeyWarning(UserWarning):
    """Personal data is being pseudonymised with the published development key."""


class SettingsError(RuntimeError):
    """The environment asks for something the pipeline refuses to do."""


def check_environment(environ: dict | None = None, pii_key: str | None = None) -> str:
    """``HARMONI_ENV`` (``development`` when unset), refused unless it is one of
    :data:`ENVIRONMENTS`; in production the PII key (``pii_key``, else
    ``HARMONI_PII_KEY``) must be set, at least :data:`MIN_PRODUCTION_KEY_BYTES` bytes
    without its surrounding whitespace, and not the published development key.
    Raises :class:`SettingsError` with one line; reads nothing else, so commands call it
    before any work."""
    env = os.environ if environ is None else environ
    harmoni_env = env.get("HARMONI_ENV", "").strip().lower() or "development"
    if harmoni_env not in ENVIRONMENTS:
        raise SettingsError(f"HARMONI_ENV={env['HARMONI_ENV']!r}: expected one of {', '.join(ENVIRONMENTS)}")
    if harmoni_env == "production":
        key = pii_key or env.get("HARMONI_PII_KEY") or ""
        if not key:
            raise SettingsError(
                "HARMONI_ENV=production requires HARMONI_PII_KEY (the key for pseudonymising personal data)"
            )
        if key.strip() == DEV_PII_KEY:
            raise SettingsError("HARMONI_ENV=production refuses the published development key as HARMONI_PII_KEY")
        if len(key.strip().encode("utf-8")) < MIN_PRODUCTION_KEY_BYTES:
            raise SettingsError(
                f"HARMONI_ENV=production requires a HARMONI_PII_KEY of at least {MIN_PRODUCTION_KEY_BYTES} bytes "
                "(e.g. `openssl rand -hex 32`)"
            )
    return harmoni_env


# environment variable → (InputLimits field, unit in bytes or 1)
LIMIT_VARIABLES = {
    "HARMONI_XLSX_MAX_UNCOMPRESSED_MB": ("xlsx_max_uncompressed_bytes", MB),
    "HARMONI_XLSX_MAX_COLUMNS": ("xlsx_max_columns", 1),
    "HARMONI_XLSX_MAX_ROWS": ("xlsx_max_rows", 1),
    "HARMONI_XLSX_MAX_CELLS": ("xlsx_max_cells", 1),
    "HARMONI_TEXT_MAX_CHARS": ("text_max_chars", 1),
}


def limits_from(environ: dict) -> InputLimits:
    """The :class:`InputLimits` the ``HARMONI_XLSX_*``/``HARMONI_TEXT_MAX_CHARS``
    variables set (defaults for the others); a value that is not a positive whole
    number is a :class:`SettingsError`."""
    values = {}
    for name, (field, unit) in LIMIT_VARIABLES.items():
        raw = (environ.get(name) or "").strip().replace("_", "")
        if not raw:
            continue
        if not raw.isdigit() or int(raw) < 1:
            raise SettingsError(f"{name} must be a positive whole number, got {environ.get(name)!r}")
        values[field] = int(raw) * unit
    return InputLimits(**values) if values else DEFAULT_LIMITS


@dataclass(frozen=True)
class Settings:
    landing_dir: Path
    warehouse_dir: Path | str  # an absolute local Path, or the URL of a non-local warehouse
    scope: str
    pii_key: str
    env: str
    local_dir: Path | None = None  # None: derived from warehouse_dir (local_dir_for)
    limits: InputLimits = DEFAULT_LIMITS  # what one landing file may hold (ingest/limits.py)

    def __post_init__(self):
        if self.local_dir is None:
            object.__setattr__(self, "local_dir", local_dir_for(self.warehouse_dir))

    @property
    def catalog_path(self) -> Path | str:
        """``harmoni.duckdb`` in the warehouse: a Path, or a URL for a non-local warehouse."""
        if isinstance(self.warehouse_dir, Path):
            return self.warehouse_dir / "harmoni.duckdb"
        return f"{self.warehouse_dir}/harmoni.duckdb"

    def warehouse(self, tables: dict | None = None):
        """The :class:`~harmoni_pipeline.warehouse.Warehouse` these settings name, with
        every catalog table (or ``tables``) and the local folder: the one way to open it."""
        from harmoni_pipeline.registry import catalog_tables
        from harmoni_pipeline.warehouse import Warehouse

        return Warehouse(self.warehouse_dir, catalog_tables() if tables is None else tables, local_dir=self.local_dir)

    @property
    def pii_key_id(self) -> str:
        """The key's fingerprint, as staging and audit rows record it (``pii_key_id``)."""
        from harmoni_pipeline.pii import key_id

        return key_id(self.pii_key)

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
        harmoni_env = check_environment(env, pii_key)
        key = pii_key or env.get("HARMONI_PII_KEY") or ""
        if not key:  # development only (check_environment refused production)
            # warnings' default filter shows this once per call site and process
            warnings.warn(
                "HARMONI_PII_KEY is not set: personal data is pseudonymised with the development key",
                DevelopmentKeyWarning,
                stacklevel=2,
            )
            key = DEV_PII_KEY
        warehouse = normalise_location(warehouse_dir or env.get("HARMONI_WAREHOUSE_DIR") or "data/warehouse")
        return cls(
            landing_dir=Path(landing_dir or env.get("HARMONI_LANDING_DIR") or "data/landing").resolve(),
            warehouse_dir=warehouse,
            scope=(scope or env.get("HARMONI_SCOPE") or "35.13").strip(),
            pii_key=key,
            env=harmoni_env,
            local_dir=local_dir_for(warehouse, env),
            limits=limits_from(env),
        )
