"""The IKN event pillar E (E1 load, E2 resolution, E3 response time) and red alerts,
methodology §3, from the latest accepted FKDM report versions.

Room: which reports count for period M and the formulas over them, grouped by kecamatan
with pandas (one pass over the reports, no loop over rows). Reports come from
:func:`harmoni_pipeline.scoring.inputs.fkdm_latest`.

Choices: the latest version decides everything — a report whose latest version is
``ditolak`` is left out even if earlier versions were not; the report's kecamatan is that
of its latest version. Red alerts look at every such report, whatever its ``tgl_lapor``.
"""

from __future__ import annotations

import pandas as pd

from harmoni_pipeline.methodology import Methodology
from harmoni_pipeline.periods import month_bounds, shift
from harmoni_pipeline.scoring.arrays import member


def counted_reports(reports: pd.DataFrame, methodology: Methodology) -> pd.DataFrame:
    """The latest versions that are not excluded (``ditolak``), with ``severity``."""
    event = methodology.ikn["event"]
    kept = reports[~reports["status"].isin(event["excluded_status"])].copy()
    kept["severity"] = kept["kualifikasi"].map(event["severity"]).astype("float64")
    return kept


def event_pillar(reports: pd.DataFrame, codes: pd.Index, p_total: pd.Series, period: str, methodology: Methodology) -> pd.DataFrame:
    """Per kecamatan of ``codes``: ``n_laporan, e1, e2, e3, pilar_peristiwa, alert_merah``.
    ``p_total``: total population by kecamatan code (NaN when unknown)."""
    event = methodology.ikn["event"]
    kept = counted_reports(reports, methodology)
    first_day, _ = month_bounds(shift(period, -(int(event["window_months"]) - 1)))
    _, last_day = month_bounds(period)
    first_ts, last_ts = pd.Timestamp(first_day), pd.Timestamp(last_day)

    window = kept[(kept["tgl_lapor"] >= first_ts) & (kept["tgl_lapor"] <= last_ts) & member(kept["kode_kecamatan"], codes)].copy()
    cap = float(event["response_cap_days"])
    followed = window["tgl_tindak_lanjut"].fillna(window["tgl_selesai"])
    open_days = ((last_ts - window["tgl_lapor"]).dt.days).clip(upper=cap)
    window["days"] = (followed - window["tgl_lapor"]).dt.days.astype("float64").fillna(open_days.astype("float64"))
    resolved = (window["status"] == event["resolved_status"]) & (
        (window["tgl_selesai"] - window["tgl_lapor"]).dt.days <= float(event["resolved_within_days"])
    )
    window["resolved"] = resolved.fillna(False).astype(float)
    window["load"] = 2.0 ** (window["severity"] - 1)

    by = window.groupby("kode_kecamatan")
    out = pd.DataFrame(index=codes)
    out["n_laporan"] = by.size().reindex(codes).fillna(0).astype("int64")
    load = by["load"].sum().reindex(codes)
    pop = pd.Series(p_total, dtype="float64").reindex(codes)
    pop = pop.where(pop > 0)
    rate = load / pop * float(event["load_per"])
    load_cap = float(event["load_cap"])
    out["e1"] = 100.0 * (1.0 - rate.clip(upper=load_cap) / load_cap)
    out["e2"] = 100.0 * by["resolved"].mean().reindex(codes)
    out["e3"] = 100.0 * (1.0 - by["days"].median().reindex(codes).clip(upper=cap) / cap)
    none = out["n_laporan"] == 0
    for col in ("e1", "e2", "e3"):
        out.loc[none, col] = float(event["no_report_score"])
    weights = event["weights"]
    out["pilar_peristiwa"] = weights["e1"] * out["e1"] + weights["e2"] * out["e2"] + weights["e3"] * out["e3"]

    alert = methodology.ikn["red_alert"]
    since = last_ts - pd.Timedelta(days=int(alert["days"]))
    red = kept[
        (kept["severity"] >= float(alert["min_severity"]))
        & (kept["tgl_kejadian"] >= since)
        & (kept["tgl_kejadian"] <= last_ts)
    ]
    out["alert_merah"] = member(codes, red["kode_kecamatan"])
    out.index.name = "kode_kecamatan"
    return out
