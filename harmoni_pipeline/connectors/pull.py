"""One pull of one or every source: what ``harmoni pull`` and the pull assets call.

Room: reading the connectors' settings from the environment (data-contracts §1), running
the sources' pulls under one lock, catching each target's failure so the others still
run, and recording every target's outcome in ``audit.pulls``. The sources' own rules are
in :mod:`.kobo`, :mod:`.sheets` and :mod:`.bps`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from harmoni_pipeline.connectors import bps, kobo, sheets
from harmoni_pipeline.connectors.http import HttpClient, PullError, redact
from harmoni_pipeline.connectors.landing import Pulled, PullState, record_pulls
from harmoni_pipeline.periods import current_period

SOURCES = ("kobo", "sheets", "bps")
DEFAULT_KOBO_URL = "https://kf.kobotoolbox.org"


def _list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _positive(environ: dict, name: str, default: float) -> float:
    raw = (environ.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise PullError(f"{name} must be a number of at least 0, got {raw!r}")
    return value


@dataclass
class PullConfig:
    """The connectors' settings (``HARMONI_KOBO_*``, ``HARMONI_SHEETS_URLS``,
    ``HARMONI_BPS_*``, ``HARMONI_PULL_*``)."""

    kobo_url: str = DEFAULT_KOBO_URL
    kobo_token: str = ""
    kobo_assets: list[str] = field(default_factory=list)
    kobo_fkdm_assets: list[str] = field(default_factory=list)
    sheets_urls: list[str] = field(default_factory=list)
    bps_url: str = bps.DEFAULT_URL
    bps_key: str = ""
    bps_domain: str = ""
    timeout: float = 30.0
    retries: int = 5

    @classmethod
    def from_env(cls, environ: dict | None = None) -> "PullConfig":
        env = os.environ if environ is None else environ
        return cls(
            kobo_url=(env.get("HARMONI_KOBO_URL") or DEFAULT_KOBO_URL).strip(),
            kobo_token=(env.get("HARMONI_KOBO_TOKEN") or "").strip(),
            kobo_assets=_list(env.get("HARMONI_KOBO_ASSETS")),
            kobo_fkdm_assets=_list(env.get("HARMONI_KOBO_FKDM_ASSETS")),
            sheets_urls=_list(env.get("HARMONI_SHEETS_URLS")),
            bps_url=(env.get("HARMONI_BPS_URL") or bps.DEFAULT_URL).strip(),
            bps_key=(env.get("HARMONI_BPS_KEY") or "").strip(),
            bps_domain=(env.get("HARMONI_BPS_DOMAIN") or "").strip(),
            timeout=_positive(env, "HARMONI_PULL_TIMEOUT", 30.0),
            retries=int(_positive(env, "HARMONI_PULL_RETRIES", 5)),
        )

    def missing(self, source: str) -> str | None:
        """Why ``source`` cannot be pulled (the settings it lacks), ``None`` when it can."""
        if source == "kobo":
            if not (self.kobo_assets or self.kobo_fkdm_assets):
                return "HARMONI_KOBO_ASSETS (or HARMONI_KOBO_FKDM_ASSETS) is not set"
            return None if self.kobo_token else "HARMONI_KOBO_TOKEN is not set"
        if source == "sheets":
            return None if self.sheets_urls else "HARMONI_SHEETS_URLS is not set"
        return None if self.bps_key else "HARMONI_BPS_KEY is not set"

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.kobo_token, self.bps_key) if s)


def _pull_kobo(client, state, config, period) -> list[Pulled]:
    out = []
    for uid, fkdm in [(u, False) for u in config.kobo_assets] + [(u, True) for u in config.kobo_fkdm_assets]:
        try:
            out.append(kobo.pull_asset(client, state, base_url=config.kobo_url, token=config.kobo_token, uid=uid,
                                       period=period, fkdm=fkdm))
        except (PullError, OSError) as exc:
            url = kobo.data_url(config.kobo_url, uid, None)
            out.append(Pulled("kobo_fkdm" if fkdm else "kobo", uid, redact(url, config.secrets()), period,
                              error=redact(str(exc), config.secrets())))
    return out


def _pull_sheets(client, state, config, period) -> list[Pulled]:
    out = []
    for url in config.sheets_urls:
        try:
            out.append(sheets.pull_sheet(client, state, url=url, period=period))
        except (PullError, OSError) as exc:
            label = sheets.sheet_label(url)
            out.append(Pulled("sheets", label, label, period, error=redact(str(exc), config.secrets()).replace(url, label)))
    return out


def _bps_variables(config, scope: str, sources: dict | None) -> tuple[str, list[dict]]:
    """The BPS domain and its variables, checked (placeholders refused) before any pull."""
    from harmoni_pipeline.ingest.stats import load_sources

    domain = bps.domain_of(scope, config.bps_domain)
    return domain, bps.variables_for(sources if sources is not None else load_sources(), domain)


def pull(source: str, *, settings, period: str | None = None, config: PullConfig | None = None,
         client: HttpClient | None = None, warehouse=None, run_id: str | None = None,
         stats_sources: dict | None = None) -> list[Pulled]:
    """Pull ``source`` (one of :data:`SOURCES` or ``all``) now, writing files under the
    arrival month ``period`` (default: the current month, Asia/Jakarta; statistics under
    its year). Returns one :class:`Pulled` per target — failed targets carry their error
    — after recording them in ``audit.pulls`` when a ``warehouse`` is given. A source
    asked by name without its settings, or a placeholder BPS variable, is a
    :class:`PullError` before any request; ``all`` skips the sources not configured, and
    records a placeholder BPS variable as a failed ``bps`` target while the other
    sources are still pulled."""
    if not isinstance(settings.landing_dir, Path):
        raise PullError(
            f"harmoni pull writes files into a landing folder, and HARMONI_LANDING_DIR is a URL "
            f"({settings.landing_dir}): pull on a machine whose HARMONI_LANDING_DIR is a folder and copy the "
            "files to the object store, or point HARMONI_LANDING_DIR at a mounted folder")
    config = config or PullConfig.from_env()
    period = period or current_period()
    asked = SOURCES if source == "all" else (source,)
    if source not in (*SOURCES, "all"):
        raise PullError(f"unknown source {source!r}: expected one of {', '.join(SOURCES)} or all")
    todo = [s for s in asked if config.missing(s) is None]
    if source != "all" and not todo:
        raise PullError(f"cannot pull {source}: {config.missing(source)}")
    if not todo:
        raise PullError("no source is configured: " + "; ".join(config.missing(s) for s in SOURCES))
    rows: list[Pulled] = []
    if "bps" in todo:
        try:
            domain, entries = _bps_variables(config, settings.scope, stats_sources)
        except PullError as exc:
            if source != "all":
                raise
            todo.remove("bps")
            rows.append(Pulled("bps", "stats_sources.yaml", redact(config.bps_url, config.secrets()), period,
                               error=str(exc)))
    client = client or HttpClient(timeout=config.timeout, retries=config.retries)
    with PullState(settings.landing_dir, settings.local_dir).lock() as state:
        for name in todo:
            if name == "kobo":
                rows += _pull_kobo(client, state, config, period)
            elif name == "sheets":
                rows += _pull_sheets(client, state, config, period)
            else:
                rows += bps.pull_bps(client, state, base_url=config.bps_url, key=config.bps_key, domain=domain,
                                     entries=entries, period=period)
    if warehouse is not None:
        record_pulls(warehouse, rows, run_id)
    return rows
