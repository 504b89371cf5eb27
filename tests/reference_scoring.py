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

Entry point: :func:`reference_marts`. The helpers, survey items, statistics and raking are in
:mod:`tests.reference_inputs` (re-exported here).
"""

from __future__ import annotations

import datetime as dt
import math
import statistics as pystats

import pandas as pd

from tests.reference_inputs import (  # re-exported: the tests call ref.rake, ref.population, …
    ASPECT_COLUMN, age_band_of, as_date, as_text, band_of, context_pillar, dedup_statistics,
    final_weights, first_day, index_items, index_units, is_missing, last_day, population,
    provenance_key, rake, respondent_unit_scores, shift_period, survey_window, trim, unit_weights,
    weighted_mean,
)


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
