"""Survey diagnostics: signs of careless or duplicated answering that do not make a
response invalid, reported as non-blocking (WARN) checks.

Room: the four measures over one staging partition — straight-lining, implausibly fast
completion (where the format has start and end times), Cronbach's alpha per PPA block,
and respondent keys behind several responses — with thresholds from
``checks/diagnostics.yaml``. Vectorised over respondents.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import yaml

from harmoni_pipeline.methodology import Methodology
from harmoni_pipeline.quality.suites import checks_data
from harmoni_pipeline.scoring.survey import item_scores

CONFIG = checks_data("diagnostics.yaml")
NAMES = ("straight_lining", "fast_completion", "cronbach_alpha", "repeated_respondents")


@dataclass
class Diagnostic:
    name: str
    passed: bool
    summary: str
    measures: dict = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)


def load_config() -> dict:
    return yaml.safe_load(CONFIG.read_text(encoding="utf-8"))


def _items(methodology: Methodology) -> list[str]:
    units = list(methodology.ihai["variables"]) + methodology.ikn_dimensions
    return [f"{u}_{a}" for u in units for a in methodology.aspects]


def straight_lining(frame: pd.DataFrame, methodology: Methodology, cfg: dict) -> Diagnostic:
    items = _items(methodology)
    values = frame[items].to_numpy(dtype=float, na_value=np.nan)
    answered = (~np.isnan(values)).sum(axis=1)
    lo = np.nanmin(np.where(np.isnan(values), np.inf, values), axis=1)
    hi = np.nanmax(np.where(np.isnan(values), -np.inf, values), axis=1)
    eligible = answered >= int(cfg["min_items"])
    flat = eligible & (lo == hi)
    share = float(flat.sum() / eligible.sum()) if eligible.any() else 0.0
    ok = share <= float(cfg["max_share"])
    return Diagnostic(
        "straight_lining", ok,
        f"{int(flat.sum())} of {int(eligible.sum())} respondents with ≥ {cfg['min_items']} answers gave one answer to all "
        f"({share:.1%}; warn above {float(cfg['max_share']):.0%})",
        {"respondents": int(eligible.sum()), "straight_lined": int(flat.sum()), "share": share},
        frame.loc[flat, "response_id"].astype(str).head(5).tolist(),
    )


def fast_completion(frame: pd.DataFrame, cfg: dict) -> Diagnostic:
    timed = frame["started_at"].notna() & frame["ended_at"].notna()
    seconds = (frame["ended_at"] - frame["started_at"]).dt.total_seconds()
    fast = timed & (seconds < float(cfg["min_seconds"]))
    n = int(timed.sum())
    share = float(fast.sum() / n) if n else 0.0
    ok = share <= float(cfg["max_share"])
    summary = (f"{int(fast.sum())} of {n} timed responses took under {cfg['min_seconds']} s ({share:.1%}; warn above "
               f"{float(cfg['max_share']):.0%})") if n else "no response of this partition has start and end times"
    return Diagnostic("fast_completion", ok, summary,
                      {"timed": n, "fast": int(fast.sum()), "share": share,
                       "median_seconds": float(seconds[timed].median()) if n else None},
                      frame.loc[fast, "response_id"].astype(str).head(5).tolist())


def cronbach_alpha(frame: pd.DataFrame, methodology: Methodology, cfg: dict) -> Diagnostic:
    """α = k/(k−1)·(1 − Σ var(item) / var(Σ items)) per block, over respondents with all k
    items (reversed items recoded, on the 0–100 item scale)."""
    alphas: dict[str, float | None] = {}
    units = list(methodology.ihai["variables"]) + methodology.ikn_dimensions
    for unit in units:
        items = [f"{unit}_{a}" for a in methodology.aspects]
        x = item_scores(frame[items].to_numpy(dtype=float, na_value=np.nan), items, methodology)
        x = x[~np.isnan(x).any(axis=1)]
        k = x.shape[1]
        if len(x) < int(cfg["min_respondents"]):
            alphas[unit] = None
            continue
        total_var = x.sum(axis=1).var(ddof=1)
        alphas[unit] = None if total_var == 0 else float(k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / total_var))
    low = {u: a for u, a in alphas.items() if a is not None and a < float(cfg["min_alpha"])}
    measured = sum(a is not None for a in alphas.values())
    summary = (f"{len(low)} of {measured} PPA blocks below α {cfg['min_alpha']}" + (": " + ", ".join(f"{u} {a:.2f}" for u, a in low.items()) if low else "")
               if measured else f"no PPA block has {cfg['min_respondents']} complete respondents")
    return Diagnostic("cronbach_alpha", not low, summary, {"alpha": alphas})


def repeated_respondents(frame: pd.DataFrame, cfg: dict) -> Diagnostic:
    keyed = frame[frame["respondent_key"].notna()]
    per_key = keyed.groupby("respondent_key")["response_id"].nunique()
    repeated = per_key[per_key > 1]
    n = int(len(per_key))
    share = float(len(repeated) / n) if n else 0.0
    ok = share <= float(cfg["max_share"])
    summary = (f"{len(repeated)} of {n} respondent keys are behind more than one response ({share:.1%}; warn above "
               f"{float(cfg['max_share']):.0%})") if n else "no response carries a respondent key (NIK, e-mail or phone)"
    return Diagnostic("repeated_respondents", ok, summary,
                      {"keys": n, "repeated": int(len(repeated)), "share": share,
                       "responses_behind_repeated_keys": int(repeated.sum())},
                      [str(k)[:16] + "…" for k in repeated.index[:5]])


def columns(name: str, methodology: Methodology) -> list[str]:
    """The survey columns diagnostic ``name`` reads (a check reads only these)."""
    return {
        "straight_lining": ["response_id", *_items(methodology)],
        "fast_completion": ["response_id", "started_at", "ended_at"],
        "cronbach_alpha": _items(methodology),
        "repeated_respondents": ["respondent_key", "response_id"],
    }[name]


def run_diagnostic(name: str, frame: pd.DataFrame, methodology: Methodology, config: dict | None = None) -> Diagnostic:
    """One diagnostic of :data:`NAMES` over ``frame`` (which needs only its :func:`columns`)."""
    cfg = (config or load_config())[name]
    if name == "straight_lining":
        return straight_lining(frame, methodology, cfg)
    if name == "fast_completion":
        return fast_completion(frame, cfg)
    if name == "cronbach_alpha":
        return cronbach_alpha(frame, methodology, cfg)
    if name == "repeated_respondents":
        return repeated_respondents(frame, cfg)
    raise KeyError(f"unknown diagnostic {name!r}; known: {', '.join(NAMES)}")


def run_diagnostics(frame: pd.DataFrame, methodology: Methodology, config: dict | None = None) -> dict[str, Diagnostic]:
    cfg = config or load_config()
    return {name: run_diagnostic(name, frame, methodology, cfg) for name in NAMES}
