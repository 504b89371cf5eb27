"""TEST ORACLE — an independent, deliberately plain reference implementation of the
scoring methodology HM-2026.1 (``docs/methodology.md``), used to check the production
scoring code (``harmoni_pipeline.scoring``) against it.

Rules of this module
- It never imports ``harmoni_pipeline.scoring``: it must stay an independent reading of
  the methodology, so that a shared misunderstanding is not silently "confirmed".
- Clarity over speed: plain per-kecamatan Python loops over lists of dicts.
- Every constant comes from the methodology YAML (``methodology`` argument, the dict of
  ``harmoni_pipeline.methodology.load("HM-2026.1").raw``); only output column names are
  written here.
- NULL is ``None`` (pandas shows it as NaN in numeric columns).

Where the methodology text is open, this module follows the decisions taken for the
oracle (numbered D1…D13 in the comments below).

Entry point: :func:`reference_marts`.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
import statistics as pystats

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


# --------------------------------------------------------------------------------------
# Per kecamatan and index: n, n_eff, status, variable/dimension and aspect scores
# --------------------------------------------------------------------------------------

def score_survey_index(responses: list[dict], index: str, pop: dict, methodology: dict,
                       min_n: int) -> dict:
    """§1.5–1.7 for one kecamatan and one index (``ihai`` or ``ikn``).

    ``responses`` are the window's responses of the kecamatan. Returns n, n_efektif,
    weighting, status, unit scores ``units`` {u: V_ku or None}, aspect scores
    ``aspects`` {(u, a): A_kua or None}, and the respondent-level data for the CI.
    """
    units = index_units(methodology, index)
    items = index_items(methodology, index)
    respondents = [r for r in responses if any(not is_missing(r.get(i)) for i in items)]
    n = len(respondents)
    out = {"n": n, "n_efektif": 0.0, "weighting": None, "status": "no_data",
           "units": {u: None for u in units},
           "aspects": {(u, a): None for u in units for a in methodology["aspects"]},
           "weights": [], "V": []}
    if n == 0:
        return out

    age_bands = methodology["survey"]["raking"]["age_bands"]
    sexes = [as_text(r["jenis_kelamin"]) for r in respondents]
    bands = [age_band_of(r["umur"], age_bands) for r in respondents]
    weights, case = final_weights(sexes, bands, pop, methodology)

    V = []        # per respondent {u: V_iu}
    A = []        # per respondent {(u, a): score}
    for r in respondents:
        v_row, a_row = {}, {}
        for u in units:
            aspect_scores, v = respondent_unit_scores(r, u, methodology)
            v_row[u] = v
            for a, s in aspect_scores.items():
                a_row[(u, a)] = s
        V.append(v_row)
        A.append(a_row)

    sw = sum(weights)
    sw2 = sum(w * w for w in weights)
    out["n_efektif"] = (sw * sw / sw2) if sw2 > 0 else 0.0
    out["weighting"] = case
    out["weights"] = weights
    out["V"] = V

    enough = n >= min_n
    for u in units:
        values = [row[u] for row in V]
        if sum(1 for x in values if x is not None) < min_n:
            enough = False
        out["units"][u] = weighted_mean(values, weights)
        for a in methodology["aspects"]:
            out["aspects"][(u, a)] = weighted_mean([row[(u, a)] for row in A], weights)
    out["status"] = "ok" if enough else "insufficient_sample"
    return out


# --------------------------------------------------------------------------------------
# §2 IHaI
# --------------------------------------------------------------------------------------

def weighted_composite(scores: dict, weights: dict, units: list[str]) -> float | None:
    """Σ W_v·score_v / Σ W_v over ``units``; None if any score is missing."""
    if any(scores[u] is None for u in units):
        return None
    return sum(weights[u] * scores[u] for u in units) / sum(weights[u] for u in units)


def ihai_row(kode: str, survey_result: dict, methodology: dict) -> dict:
    cfg = methodology["ihai"]
    units = index_units(methodology, "ihai")
    W = unit_weights(methodology, "ihai")
    row = {"kode_kecamatan": kode,
           "n_responden": survey_result["n"],
           "n_efektif": survey_result["n_efektif"],
           "weighting": survey_result["weighting"],
           "status": survey_result["status"],
           "ihai": None, "kategori": None, "ci_low": None, "ci_high": None}
    for d in cfg["dimensions"]:
        row[f"dim_{d}"] = None
    for a in methodology["aspects"]:
        row[ASPECT_COLUMN[a]] = None
    row["gap_persepsi_partisipasi"] = None
    if survey_result["status"] != "ok":
        return row

    V_k = survey_result["units"]
    ihai = weighted_composite(V_k, W, units)
    row["ihai"] = ihai
    row["kategori"] = band_of(ihai, cfg["bands"])
    for d in cfg["dimensions"]:
        members = [v for v in units if cfg["variables"][v][0] == d]
        row[f"dim_{d}"] = weighted_composite(V_k, W, members)
    for a in methodology["aspects"]:
        a_scores = {v: survey_result["aspects"][(v, a)] for v in units}
        row[ASPECT_COLUMN[a]] = weighted_composite(a_scores, W, units)
    row["gap_persepsi_partisipasi"] = bool(
        row["aspek_persepsi"] - row["aspek_partisipasi"] >= float(cfg["gap_threshold"]))

    # Uncertainty: respondents with all ten V_iv.
    H, w_H = [], []
    for v_row, w in zip(survey_result["V"], survey_result["weights"]):
        if all(v_row[v] is not None for v in units):
            H.append(sum(W[v] * v_row[v] for v in units) / sum(W[v] for v in units))
            w_H.append(w)
    if len(H) >= 2:
        sw = sum(w_H)
        n_eff_h = sw * sw / sum(w * w for w in w_H)
        h_bar = sum(w * h for w, h in zip(w_H, H)) / sw
        sd = math.sqrt(sum(w * (h - h_bar) ** 2 for w, h in zip(w_H, H)) / sw)
        se = sd / math.sqrt(n_eff_h)
        z = float(cfg["ci_z"])
        row["ci_low"] = ihai - z * se
        row["ci_high"] = ihai + z * se
    return row


# --------------------------------------------------------------------------------------
# §3 IKN: event pillar (FKDM)
# --------------------------------------------------------------------------------------

def latest_reports(fkdm: pd.DataFrame, period: str, methodology: dict) -> list[dict]:
    """D9: latest version (largest (period, file_order, line)) of each no_laporan over
    periods ≤ M; dropped when that latest version's status is excluded (ditolak)."""
    rows = [r for r in fkdm.to_dict("records") if str(r["period"]) <= period]
    rows.sort(key=provenance_key)
    latest: dict[str, dict] = {}
    for r in rows:
        latest[as_text(r["no_laporan"])] = r
    excluded = set(methodology["ikn"]["event"]["excluded_status"])
    out = []
    for r in latest.values():
        if as_text(r["status"]) in excluded:
            continue
        out.append({
            "no_laporan": as_text(r["no_laporan"]),
            "kode_kecamatan": as_text(r["kode_kecamatan"]),
            "kualifikasi": as_text(r["kualifikasi"]),
            "status": as_text(r["status"]),
            "tgl_lapor": as_date(r["tgl_lapor"]),
            "tgl_kejadian": as_date(r["tgl_kejadian"]),
            "tgl_tindak_lanjut": as_date(r.get("tgl_tindak_lanjut")),
            "tgl_selesai": as_date(r.get("tgl_selesai")),
        })
    return out


def reports_in_window(reports: list[dict], period: str, methodology: dict) -> list[dict]:
    """tgl_lapor from the first day of M-11 to the last day of M (inclusive)."""
    months = int(methodology["ikn"]["event"]["window_months"])
    start = first_day(shift_period(period, -(months - 1)))
    end = last_day(period)
    return [r for r in reports if r["tgl_lapor"] is not None and start <= r["tgl_lapor"] <= end]


def event_pillar(window_reports: list[dict], p_total: float | None, period: str,
                 methodology: dict) -> dict:
    """§3 E for one kecamatan: e1, e2, e3, pilar_peristiwa, n_laporan."""
    cfg = methodology["ikn"]["event"]
    n = len(window_reports)
    if n == 0:
        full = float(cfg["no_report_score"])
        e = cfg["weights"]["e1"] * full + cfg["weights"]["e2"] * full + cfg["weights"]["e3"] * full
        return {"n_laporan": 0, "e1": full, "e2": full, "e3": full, "pilar_peristiwa": e}

    # E1 incident load (P_total of 0 counts as unknown).
    if p_total is None or p_total == 0:
        e1 = None
    else:
        load = sum(2.0 ** (cfg["severity"][r["kualifikasi"]] - 1) for r in window_reports)
        r_load = load / p_total * float(cfg["load_per"])
        cap = float(cfg["load_cap"])
        e1 = 100.0 * (1.0 - min(r_load, cap) / cap)

    # E2 resolution within the limit.
    resolved = 0
    for r in window_reports:
        if (r["status"] == cfg["resolved_status"] and r["tgl_selesai"] is not None
                and (r["tgl_selesai"] - r["tgl_lapor"]).days <= int(cfg["resolved_within_days"])):
            resolved += 1
    e2 = 100.0 * resolved / n

    # E3 response time.
    cap_days = float(cfg["response_cap_days"])
    end = last_day(period)
    days = []
    for r in window_reports:
        follow_up = r["tgl_tindak_lanjut"] if r["tgl_tindak_lanjut"] is not None else r["tgl_selesai"]
        if follow_up is not None:
            days.append(float((follow_up - r["tgl_lapor"]).days))
        else:
            days.append(min(cap_days, float((end - r["tgl_lapor"]).days)))
    d = pystats.median(days)
    e3 = 100.0 * (1.0 - min(d, cap_days) / cap_days)

    e = None
    if e1 is not None:
        e = cfg["weights"]["e1"] * e1 + cfg["weights"]["e2"] * e2 + cfg["weights"]["e3"] * e3
    return {"n_laporan": n, "e1": e1, "e2": e2, "e3": e3, "pilar_peristiwa": e}


def red_alert(reports: list[dict], period: str, methodology: dict) -> bool:
    """Any latest non-ditolak report with severity ≥ min and tgl_kejadian in
    [last day of M − days, last day of M], whatever its tgl_lapor."""
    cfg = methodology["ikn"]["red_alert"]
    severity = methodology["ikn"]["event"]["severity"]
    end = last_day(period)
    start = end - dt.timedelta(days=int(cfg["days"]))
    for r in reports:
        if severity[r["kualifikasi"]] >= int(cfg["min_severity"]) and r["tgl_kejadian"] is not None \
                and start <= r["tgl_kejadian"] <= end:
            return True
    return False


# --------------------------------------------------------------------------------------
# §3 IKN row
# --------------------------------------------------------------------------------------

def ikn_row(kode: str, survey_result: dict, event: dict, c: float | None, alert: bool,
            methodology: dict) -> dict:
    cfg = methodology["ikn"]
    s = None
    if survey_result["status"] == "ok":
        dims = index_units(methodology, "ikn")
        s = sum(survey_result["units"][d] for d in dims) / len(dims)
    e = event["pilar_peristiwa"]

    if survey_result["status"] != "ok":
        status = survey_result["status"]
    elif e is None:
        status = "no_population"
    elif c is None:
        status = "missing_context"
    else:
        status = "ok"

    ikn = kategori = kerawanan = tingkat = None
    if status == "ok":
        floor = float(cfg["index"]["floor"])
        ex = cfg["index"]["exponents"]
        ikn = (max(s, floor) ** float(ex["S"]) * max(e, floor) ** float(ex["E"])
               * max(c, floor) ** float(ex["C"]))
        kategori = band_of(ikn, cfg["bands"])
        kerawanan = 100.0 - ikn
        tingkat = band_of(kerawanan, cfg["risk_bands"])
    if alert:
        tingkat = cfg["risk_bands"][0][0]  # the top risk band ('Tinggi')

    return {"kode_kecamatan": kode,
            "n_responden": survey_result["n"],
            "n_laporan": event["n_laporan"],
            "pilar_survei": s,
            "pilar_peristiwa": e,
            "pilar_konteks": c,
            "e1": event["e1"], "e2": event["e2"], "e3": event["e3"],
            "ikn": ikn, "kategori": kategori, "kerawanan": kerawanan,
            "tingkat_kerawanan": tingkat, "alert_merah": bool(alert), "status": status}


# --------------------------------------------------------------------------------------
# §4 Integration
# --------------------------------------------------------------------------------------

def integration_row(ihai: dict, ikn: dict, methodology: dict) -> dict:
    cfg = methodology["integration"]
    top_risk = methodology["ikn"]["risk_bands"][0][0]
    kuadran = rekomendasi = alasan = None
    if ihai["ihai"] is not None and ikn["tingkat_kerawanan"] is not None:
        harmonis = ihai["ihai"] >= float(cfg["harmonis_threshold"])
        rawan = ikn["tingkat_kerawanan"] == top_risk
        kuadran = ("harmonis" if harmonis else "kurang-harmonis") + ("-rawan" if rawan else "-aman")
        rekomendasi = cfg["quadrants"][kuadran]
    else:
        parts = []
        if ihai["ihai"] is None:
            parts.append(f"ihai:{ihai['status']}")
        if ikn["tingkat_kerawanan"] is None:
            parts.append(f"ikn:{ikn['status']}")
        alasan = "; ".join(parts)
    return {"kode_kecamatan": ihai["kode_kecamatan"], "ihai": ihai["ihai"], "ikn": ikn["ikn"],
            "kerawanan": ikn["kerawanan"], "tingkat_kerawanan": ikn["tingkat_kerawanan"],
            "kuadran": kuadran, "rekomendasi": rekomendasi, "alasan_null": alasan}


# --------------------------------------------------------------------------------------
# Roll-ups
# --------------------------------------------------------------------------------------

def population_weighted(entries: list[tuple[float | None, float | None]]) -> tuple[float | None, float | None]:
    """entries = (P_k or None, score or None) per kecamatan.

    Returns (Σ P·score / Σ P over the kecamatan with both known,
             coverage = that Σ P / Σ P over the kecamatan with known P).
    """
    used = [(p, x) for p, x in entries if p is not None and x is not None]
    den_all = sum(p for p, _x in entries if p is not None)
    den_used = sum(p for p, _x in used)
    value = (sum(p * x for p, x in used) / den_used) if used and den_used > 0 else None
    coverage = (den_used / den_all) if den_all > 0 else None
    return value, coverage


# --------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------

IHAI_COLUMNS_HEAD = ["kode_kecamatan", "n_responden", "n_efektif", "weighting", "status", "ihai",
                     "kategori", "ci_low", "ci_high"]
IKN_COLUMNS = ["kode_kecamatan", "n_responden", "n_laporan", "pilar_survei", "pilar_peristiwa",
               "pilar_konteks", "e1", "e2", "e3", "ikn", "kategori", "kerawanan",
               "tingkat_kerawanan", "alert_merah", "status"]
HARMONI_COLUMNS = ["kode_kecamatan", "ihai", "ikn", "kerawanan", "tingkat_kerawanan", "kuadran",
                   "rekomendasi", "alasan_null"]


def reference_marts(survey: pd.DataFrame, fkdm: pd.DataFrame, stats: pd.DataFrame,
                    period: str, kecamatan: pd.DataFrame, methodology: dict,
                    min_n: int | None = None) -> dict[str, pd.DataFrame]:
    """All kecamatan and kabupaten marts of period M, computed the plain way."""
    if min_n is None:
        min_n = int(methodology["survey"]["min_n"])

    scope = sorted(kecamatan.to_dict("records"), key=lambda r: str(r["kode"]))
    responses = survey_window(survey, period, methodology)
    stat_rows = dedup_statistics(stats, period)
    reports = latest_reports(fkdm, period, methodology)
    window = reports_in_window(reports, period, methodology)

    ihai_rows, ikn_rows, harmoni_rows = [], [], []
    pops = {}
    for kec in scope:
        kode = str(kec["kode"])
        pop = population(stat_rows, kode, methodology)
        pops[kode] = pop
        kec_responses = [r for r in responses if as_text(r["kode_kecamatan"]) == kode]

        ihai_result = score_survey_index(kec_responses, "ihai", pop, methodology, min_n)
        ikn_result = score_survey_index(kec_responses, "ikn", pop, methodology, min_n)

        event = event_pillar([r for r in window if r["kode_kecamatan"] == kode],
                             pop["p_total"], period, methodology)
        c = context_pillar(stat_rows, kode, str(kec["kode_kabupaten"]), methodology)
        alert = red_alert([r for r in reports if r["kode_kecamatan"] == kode], period, methodology)

        ihai = ihai_row(kode, ihai_result, methodology)
        ikn = ikn_row(kode, ikn_result, event, c, alert, methodology)
        ihai_rows.append(ihai)
        ikn_rows.append(ikn)
        harmoni_rows.append(integration_row(ihai, ikn, methodology))

    ihai_columns = (IHAI_COLUMNS_HEAD
                    + [f"dim_{d}" for d in methodology["ihai"]["dimensions"]]
                    + [ASPECT_COLUMN[a] for a in methodology["aspects"]]
                    + ["gap_persepsi_partisipasi"])

    # Roll-ups per kabupaten having kecamatan in scope.
    top_risk = methodology["ikn"]["risk_bands"][0][0]
    kab_ihai, kab_ikn = [], []
    kabupaten = sorted({str(k["kode_kabupaten"]) for k in scope})
    for kab in kabupaten:
        members = [i for i, k in enumerate(scope) if str(k["kode_kabupaten"]) == kab]
        ihai_entries, ikn_entries = [], []
        n_ok = n_tinggi = 0
        for i in members:
            kode = str(scope[i]["kode"])
            ok = ihai_rows[i]["status"] == "ok"
            n_ok += ok
            ihai_entries.append((pops[kode]["p_adult"], ihai_rows[i]["ihai"] if ok else None))
            ikn_entries.append((pops[kode]["p_total"], ikn_rows[i]["ikn"]))
            n_tinggi += ikn_rows[i]["tingkat_kerawanan"] == top_risk
        ihai_value, ihai_cov = population_weighted(ihai_entries)
        ikn_value, ikn_cov = population_weighted(ikn_entries)
        kab_ihai.append({"kode_kabupaten": kab, "ihai": ihai_value,
                         "kategori": band_of(ihai_value, methodology["ihai"]["bands"]),
                         "coverage": ihai_cov, "n_kecamatan_ok": int(n_ok)})
        kab_ikn.append({"kode_kabupaten": kab, "ikn": ikn_value,
                        "kategori": band_of(ikn_value, methodology["ikn"]["bands"]),
                        "coverage": ikn_cov, "n_kecamatan_tinggi": int(n_tinggi)})

    return {
        "ihai_kecamatan": pd.DataFrame(ihai_rows, columns=ihai_columns),
        "ikn_kecamatan": pd.DataFrame(ikn_rows, columns=IKN_COLUMNS),
        "harmoni_kewaspadaan": pd.DataFrame(harmoni_rows, columns=HARMONI_COLUMNS),
        "ihai_kabupaten": pd.DataFrame(kab_ihai, columns=["kode_kabupaten", "ihai", "kategori",
                                                          "coverage", "n_kecamatan_ok"]),
        "ikn_kabupaten": pd.DataFrame(kab_ikn, columns=["kode_kabupaten", "ikn", "kategori",
                                                        "coverage", "n_kecamatan_tinggi"]),
    }
