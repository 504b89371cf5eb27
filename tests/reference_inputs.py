"""TEST ORACLE, part one: the plain helpers, survey item scores and windows, statistics
(dedup, population, context) and raking of the reference implementation
(:mod:`tests.reference_scoring`, whose rules apply here too: no import of
``harmoni_pipeline.scoring``, plain loops, every constant from the methodology dict).
"""

from __future__ import annotations

import calendar
import datetime as dt
import math

import numpy as np
import pandas as pd

# Output column name of each aspect code (names only, not constants of the methodology).
ASPECT_COLUMN = {"PER": "aspek_persepsi", "PAR": "aspek_partisipasi", "AKS": "aspek_akseptabilitas"}
POPULATION_INDICATOR = "jumlah_penduduk"



# --------------------------------------------------------------------------------------
# Small helpers: missing values, periods, dates, bands
# --------------------------------------------------------------------------------------

def is_missing(value) -> bool:
    """True for None, NaN, NaT and pd.NA."""
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def as_text(value) -> str | None:
    return None if is_missing(value) else str(value)


def as_float(value) -> float | None:
    return None if is_missing(value) else float(value)


def as_date(value) -> dt.date | None:
    """datetime.date / datetime / Timestamp / ISO text -> datetime.date (None if missing)."""
    if is_missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value).date()
    return dt.date.fromisoformat(str(value)[:10])


def shift_period(period: str, months: int) -> str:
    year, month = int(period[:4]), int(period[5:7])
    index = year * 12 + (month - 1) + months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def window_periods(period: str, months: int) -> list[str]:
    """The ``months`` periods ending with ``period``: M-(months-1) … M."""
    return [shift_period(period, -k) for k in range(months - 1, -1, -1)]


def first_day(period: str) -> dt.date:
    return dt.date(int(period[:4]), int(period[5:7]), 1)


def last_day(period: str) -> dt.date:
    year, month = int(period[:4]), int(period[5:7])
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def band_of(value: float | None, bands: list) -> str | None:
    """Bands are ``[label, lower bound]`` checked top-down; lower bound inclusive;
    a ``None`` lower bound catches everything else. Applied to unrounded values."""
    if value is None:
        return None
    for label, lower in bands:
        if lower is None or value >= lower:
            return label
    return None


def age_band_of(umur, age_bands: list) -> str | None:
    """D3: ``age_bands`` rows are ``[label, min age, max age or None]`` (inclusive)."""
    if is_missing(umur):
        return None
    age = float(umur)
    for label, lo, hi in age_bands:
        if age >= lo and (hi is None or age <= hi):
            return label
    return None


def weighted_mean(values: list, weights: list) -> float | None:
    """Σ w·x / Σ w over the pairs whose value is present; None if none (or Σw = 0)."""
    num = 0.0
    den = 0.0
    for x, w in zip(values, weights):
        if x is None:
            continue
        num += w * x
        den += w
    if den == 0:
        return None
    return num / den


def provenance_key(row: dict) -> tuple:
    """Sort key (period, file_order, line); a NULL line sorts before any line."""
    line = row.get("line")
    line_key = -math.inf if is_missing(line) else float(line)
    return (str(row["period"]), int(row["file_order"]), line_key)


# --------------------------------------------------------------------------------------
# §1 Survey scoring
# --------------------------------------------------------------------------------------

def index_units(methodology: dict, index: str) -> list[str]:
    """Variables (IHaI: X01…X10) or dimensions (IKN: KN1…KN5) of an index."""
    if index == "ihai":
        return list(methodology["ihai"]["variables"])
    return list(methodology["ikn"]["dimensions"])


def unit_weights(methodology: dict, index: str) -> dict[str, float]:
    """IHaI: the published variable weights; IKN: equal weights."""
    if index == "ihai":
        return {v: float(spec[2]) for v, spec in methodology["ihai"]["variables"].items()}
    return {d: 1.0 for d in methodology["ikn"]["dimensions"]}


def index_items(methodology: dict, index: str) -> list[str]:
    return [f"{u}_{a}" for u in index_units(methodology, index) for a in methodology["aspects"]]


def item_score(value, item: str, methodology: dict) -> float | None:
    """§1.1: s = 100·(x − min)/(max − min), reversed items 100 − s; missing stays missing."""
    if is_missing(value):
        return None
    lo = float(methodology["scale"]["min"])
    hi = float(methodology["scale"]["max"])
    s = 100.0 * (float(value) - lo) / (hi - lo)
    if item in methodology["reverse_items"]:
        s = 100.0 - s
    return s


def respondent_unit_scores(response: dict, unit: str, methodology: dict) -> tuple[dict, float | None]:
    """§1.2–1.3 for one respondent and one variable/dimension.

    Returns ({aspect: aspect score or None}, V_iv or None). One item per (unit, aspect)
    in HM-2026.1; the aspect score is the mean of its present item scores anyway.
    """
    aspect_scores = {}
    for aspect in methodology["aspects"]:
        item = f"{unit}_{aspect}"
        scores = [item_score(response.get(item), item, methodology)]
        present = [s for s in scores if s is not None]
        aspect_scores[aspect] = sum(present) / len(present) if present else None
    if any(s is None for s in aspect_scores.values()):
        v = None
    else:
        v = sum(aspect_scores.values()) / len(aspect_scores)
    return aspect_scores, v


def survey_window(survey: pd.DataFrame, period: str, methodology: dict) -> list[dict]:
    """D1 / §1.4: first copy of each response_id over periods ≤ M (smallest (period,
    file_order, line)); keep it when its period is in M-11 … M."""
    rows = [r for r in survey.to_dict("records") if str(r["period"]) <= period]
    rows.sort(key=provenance_key)
    first_copy: dict[str, dict] = {}
    for r in rows:
        rid = as_text(r["response_id"])
        if rid not in first_copy:
            first_copy[rid] = r
    in_window = set(window_periods(period, int(methodology["survey"]["window_months"])))
    return [r for r in first_copy.values() if str(r["period"]) in in_window]


# --------------------------------------------------------------------------------------
# Statistics: dedup, population, context
# --------------------------------------------------------------------------------------

def dedup_statistics(stats: pd.DataFrame, period: str) -> list[dict]:
    """D4: per (kode_wilayah, tahun, indikator, jenis_kelamin, kelompok_umur) keep the row
    with the largest (period, file_order, line), over rows with tahun ≤ year(M).

    Also (data-contracts §3.3) a run for M reads only arrival years ≤ year(M), so rows
    whose arrival ``period`` (a year) is later than year(M) are ignored.
    """
    year = int(period[:4])
    rows = []
    for r in stats.to_dict("records"):
        if int(r["tahun"]) > year:
            continue
        if int(str(r["period"])[:4]) > year:
            continue
        rows.append(r)
    rows.sort(key=provenance_key)  # ascending: the last row seen per key wins
    latest: dict[tuple, dict] = {}
    for r in rows:
        key = (
            as_text(r["kode_wilayah"]),
            int(r["tahun"]),
            as_text(r["indikator"]),
            as_text(r.get("jenis_kelamin")),
            as_text(r.get("kelompok_umur")),
        )
        latest[key] = r
    out = []
    for (kode, tahun, indikator, jk, ku), r in latest.items():
        out.append({"kode_wilayah": kode, "tahun": tahun, "indikator": indikator,
                    "jenis_kelamin": jk, "kelompok_umur": ku, "nilai": as_float(r["nilai"])})
    return out


def population(stat_rows: list[dict], kode_kecamatan: str, methodology: dict) -> dict:
    """D5: margins, adult population and total population of one kecamatan, methodology
    §1.5 as refined 2026-12 (data-contracts §3.3):

    - margins and P_adult: the sex × age-band cells of the adult bands, from the latest
      year that has at least one such cell for the kecamatan (years with only a total do
      not count); none → no margins, P_adult None;
    - P_total: from the latest year that has a stated total (no sex, no band) or a
      complete breakdown (both sexes × all five bands, the band below the adult age
      included); in that year the stated total wins, else the sum of the breakdown. An
      incomplete breakdown never gives a total; none → None.

    Returns {"sex_margin": {s: m} or None, "band_margin": {b: m} or None,
             "p_adult": float or None, "p_total": float or None}.
    """
    sexes = list(methodology["survey"]["raking"]["sex"])
    adult_bands = [b[0] for b in methodology["survey"]["raking"]["age_bands"]]
    # the five bands of a complete breakdown: the children's band (ages below the survey's
    # minimum age, labelled like the staging bands) and the adult bands
    child_band = "0-" + str(int(methodology["survey"]["age"]["min"]) - 1)
    every_band = [child_band] + adult_bands
    rows = [r for r in stat_rows
            if r["indikator"] == POPULATION_INDICATOR and r["kode_wilayah"] == kode_kecamatan
            and r["nilai"] is not None]
    result = {"sex_margin": None, "band_margin": None, "p_adult": None, "p_total": None}

    # margins and adult population
    adult_cells = [r for r in rows if r["jenis_kelamin"] in sexes and r["kelompok_umur"] in adult_bands]
    if adult_cells:
        margin_year = max(r["tahun"] for r in adult_cells)
        adult_cells = [r for r in adult_cells if r["tahun"] == margin_year]
        result["sex_margin"] = {
            s: sum(r["nilai"] for r in adult_cells if r["jenis_kelamin"] == s) for s in sexes}
        result["band_margin"] = {
            b: sum(r["nilai"] for r in adult_cells if r["kelompok_umur"] == b) for b in adult_bands}
        result["p_adult"] = sum(r["nilai"] for r in adult_cells)

    # total population: walk the years from the latest down
    for year in sorted({r["tahun"] for r in rows}, reverse=True):
        of_year = [r for r in rows if r["tahun"] == year]
        stated = [r["nilai"] for r in of_year if r["jenis_kelamin"] is None and r["kelompok_umur"] is None]
        if stated:
            result["p_total"] = stated[-1]
            break
        cells = {}
        for r in of_year:
            if r["jenis_kelamin"] in sexes and r["kelompok_umur"] in every_band:
                cells[(r["jenis_kelamin"], r["kelompok_umur"])] = r["nilai"]
        if all((s, b) in cells for s in sexes for b in every_band):
            result["p_total"] = sum(cells.values())
            break
    return result


def context_value(stat_rows: list[dict], kode_wilayah: str, indikator: str) -> float | None:
    """D10: the value of the latest tahun among rows without sex and age group."""
    rows = [r for r in stat_rows
            if r["kode_wilayah"] == kode_wilayah and r["indikator"] == indikator
            and r["jenis_kelamin"] is None and r["kelompok_umur"] is None and r["nilai"] is not None]
    if not rows:
        return None
    best = max(rows, key=lambda r: r["tahun"])
    return best["nilai"]


def context_pillar(stat_rows: list[dict], kode_kecamatan: str, kode_kabupaten: str,
                   methodology: dict) -> float | None:
    """§3 C: own value else the kabupaten's; goalposts; clip [0, 100]; mean if ≥ min."""
    cfg = methodology["ikn"]["context"]
    scores = []
    for indikator, (direction, lo, hi) in cfg["indicators"].items():
        x = context_value(stat_rows, kode_kecamatan, indikator)
        if x is None:
            x = context_value(stat_rows, kode_kabupaten, indikator)
        if x is None:
            continue
        s = 100.0 * (x - lo) / (hi - lo)
        if direction == "-":
            s = 100.0 - s
        scores.append(min(100.0, max(0.0, s)))
    if len(scores) < int(cfg["min_indicators"]):
        return None
    return sum(scores) / len(scores)


# --------------------------------------------------------------------------------------
# §1.5 Raking
# --------------------------------------------------------------------------------------

def raking_case(sexes: list, bands: list, sex_margin: dict | None, band_margin: dict | None,
                methodology: dict) -> str:
    """D6: which weighting case applies."""
    cfg = methodology["survey"]["raking"]
    if sex_margin is None or band_margin is None:
        return "unweighted"
    for s in cfg["sex"]:
        if sexes.count(s) == 0:
            return "unweighted"
    for b, _lo, _hi in cfg["age_bands"]:
        if band_margin.get(b, 0) > 0 and bands.count(b) == 0:
            return "sex_only"
    return "raked"


def _scale_step(weights: list[float], groups: list, margins: dict) -> None:
    """Scale the weights of each group so that its weighted total equals its margin;
    a group whose weighted total is 0 keeps its weights."""
    for g, m in margins.items():
        t = sum(w for w, gi in zip(weights, groups) if gi == g)
        if t == 0:
            continue
        factor = m / t
        for i, gi in enumerate(groups):
            if gi == g:
                weights[i] *= factor


def _converged(weights, sexes, bands, sex_margin, band_margin, tolerance) -> bool:
    for groups, margins in ((sexes, sex_margin), (bands, band_margin)):
        for g, m in margins.items():
            t = sum(w for w, gi in zip(weights, groups) if gi == g)
            if abs(t - m) > tolerance * m:
                return False
    return True


def rake(sexes: list, bands: list, sex_margin: dict | None, band_margin: dict | None,
         methodology: dict) -> tuple[list[float], str]:
    """Untrimmed weights and the case (``raked``, ``sex_only``, ``unweighted``)."""
    cfg = methodology["survey"]["raking"]
    case = raking_case(sexes, bands, sex_margin, band_margin, methodology)
    weights = [1.0] * len(sexes)
    if case == "sex_only":
        _scale_step(weights, sexes, sex_margin)
    elif case == "raked":
        for _round in range(int(cfg["max_rounds"])):
            _scale_step(weights, sexes, sex_margin)
            _scale_step(weights, bands, band_margin)
            if _converged(weights, sexes, bands, sex_margin, band_margin, float(cfg["tolerance"])):
                break
    return weights, case


def trim(weights: list[float], target: float, methodology: dict) -> list[float]:
    """Clip to [low, high] × mean weight, then rescale so the weights sum to ``target``."""
    cfg = methodology["survey"]["raking"]["trim"]
    mean = sum(weights) / len(weights)
    lo, hi = float(cfg["low"]) * mean, float(cfg["high"]) * mean
    clipped = [min(hi, max(lo, w)) for w in weights]
    total = sum(clipped)
    if total == 0:  # degenerate (all margins 0): nothing to rescale
        return clipped
    return [w * target / total for w in clipped]


def final_weights(sexes: list, bands: list, pop: dict, methodology: dict) -> tuple[list[float], str]:
    raw, case = rake(sexes, bands, pop["sex_margin"], pop["band_margin"], methodology)
    target = float(len(sexes)) if case == "unweighted" else pop["p_adult"]
    return trim(raw, target, methodology), case
