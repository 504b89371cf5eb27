"""The template context of the report: report data and drawn maps → plain values.

Room: choosing and ordering the rows each section shows (page 1's priority list, the
ranked tables, trends, gaps, pillars, data quality, runs) and turning frames into lists
of dicts with ``None`` for missing values, so the Jinja2 template only loops and
formats. The methodology appendix's numbers come from the methodology object.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from markupsafe import Markup

from harmoni_pipeline.regions import ALL
from harmoni_pipeline.report import charts, content, uncertainty
from harmoni_pipeline.report.boundaries import MapPlan
from harmoni_pipeline.report.numbers import bulan
from harmoni_pipeline.report.palette import NO_DATA_LABEL, themes

PAGE1_PRIORITIES = 6
NOT_OFFICIAL = ("IKN dalam laporan ini dihitung dengan metodologi {version}, yang menambahkan pilar peristiwa "
                "(laporan FKDM) dan pilar konteks (statistik BPS) pada survei persepsi. Angka ini bukan angka "
                "resmi Indeks Kewaspadaan Nasional Kemendagri.")


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts, every missing value ``None``."""
    if frame is None or frame.empty:
        return []
    out = frame.astype(object).where(frame.notna(), None)
    return out.to_dict("records")


def _series(history: pd.DataFrame, key: str, column: str, periods: list[str], code: str) -> list:
    rows = history[history[key] == code].set_index("period")[column]
    return [None if pd.isna(v) else float(v) for v in rows.reindex(periods).tolist()]


def trends(data: content.ReportData) -> dict:
    periods = data.trend_periods
    kab_hist = data.kabupaten_history
    charts_out = []
    kab_rows = []
    spark = {"width": 90, "height": 14} if len(data.kabupaten) > 40 else {}
    for row in records(data.kabupaten):
        code, name = row["kode_kabupaten"], row["nama_kabupaten"]
        ihai = _series(kab_hist, "kode_kabupaten", "ihai", periods, code)
        ikn = _series(kab_hist, "kode_kabupaten", "ikn", periods, code)
        kab_rows.append({**row, "kode": code, "nama": name, "ihai": ihai[-1], "ikn": ikn[-1],
                         "spark_ihai": Markup(inline_svg(charts.sparkline(ihai, colour=charts.SERIES_COLOURS[0], **spark))),
                         "spark_ikn": Markup(inline_svg(charts.sparkline(ikn, colour=charts.SERIES_COLOURS[1], **spark)))})
        if len(data.kabupaten) <= 3:
            charts_out.append(Markup(inline_svg(charts.trend_chart(periods, {"IHaI": ihai, "IKN": ikn},
                                                                   f"{name}: IHaI dan IKN, 12 bulan"))))
    kec_rows = []
    hist = data.history
    for row in data.focus.sort_values("urgensi" if data.scope.count(".") != 1 else "kode_kecamatan").itertuples(index=False):
        ihai = _series(hist, "kode_kecamatan", "ihai", periods, row.kode_kecamatan)
        ikn = _series(hist, "kode_kecamatan", "ikn", periods, row.kode_kecamatan)
        kec_rows.append({"kode": row.kode_kecamatan, "nama": row.nama_kecamatan, "kabupaten": row.nama_kabupaten,
                         "ihai": row.ihai, "ikn": row.ikn,
                         "spark_ihai": Markup(inline_svg(charts.sparkline(ihai, colour=charts.SERIES_COLOURS[0], **spark))),
                         "spark_ikn": Markup(inline_svg(charts.sparkline(ikn, colour=charts.SERIES_COLOURS[1], **spark)))})
    return {"periods": periods, "from": bulan(periods[0]), "to": bulan(periods[-1]), "charts": charts_out,
            "kabupaten": kab_rows, "kecamatan": kec_rows}


def quality(data: content.ReportData) -> dict:
    m = data.methodology
    kec = data.kecamatan
    enough = kec["n_responden"].fillna(0) >= m.min_n
    # coverage per kabupaten/kota, or per province for the whole country
    national = data.scope == ALL
    unit = kec["kode_provinsi"] if national else kec["kode_kabupaten"]
    names = (data.provinsi.set_index("kode_provinsi")["nama_provinsi"] if national
             else kec.groupby("kode_kabupaten")["nama_kabupaten"].first())
    per_unit = (kec.assign(kode=unit, cukup=enough, ada=kec["n_responden"].fillna(0) > 0)
                .groupby("kode", as_index=False)
                .agg(kecamatan=("kode_kecamatan", "size"), dengan_responden=("ada", "sum"), cukup=("cukup", "sum"),
                     responden=("n_responden", "sum")))
    per_unit["nama"] = per_unit["kode"].map(names)
    checks = data.checks.assign(failed=data.checks["expectations"] - data.checks["passed"]) if len(data.checks) else data.checks
    return {
        "files": records(data.files),
        "rejected": records(data.rejected),
        "checks": records(checks),
        "checks_passed": int((checks["failed"] == 0).sum()) if len(checks) else 0,
        "checks_total": int(len(checks)),
        "min_n": m.min_n,
        "n_enough": int(enough.sum()),
        "n_with_responses": int((kec["n_responden"].fillna(0) > 0).sum()),
        "n_total": int(len(kec)),
        "per_kecamatan": records(data.focus.sort_values("kode_kecamatan")[
            ["kode_kecamatan", "nama_kecamatan", "n_responden", "status_ihai", "status_ikn", "n_laporan"]]),
        "per_unit": records(per_unit),
        "per_level": "Provinsi" if national else "Kabupaten/kota",
    }


def methodology_facts(data: content.ReportData) -> dict:
    m = data.methodology
    ihai = m.ihai
    variables = [{"kode": code, "dimensi": spec[0], "nama": spec[1], "bobot": float(spec[2])}
                 for code, spec in ihai["variables"].items()]
    bands = lambda b: [{"label": label, "min": lo} for label, lo in zip(b.labels, b.lower)]  # noqa: E731
    ikn = m.ikn
    return {
        "version": m.version, "sha256": m.sha256, "min_n": m.min_n, "window": m.window_months,
        "variables": variables, "ihai_bands": bands(m.ihai_bands), "ikn_bands": bands(m.ikn_bands),
        "risk_bands": bands(m.risk_bands), "ikn_dimensions": ikn["dimensions"],
        "exponents": ikn["index"]["exponents"], "red_alert": ikn["red_alert"],
        "context_min": ikn["context"]["min_indicators"], "context_indicators": list(ikn["context"]["indicators"]),
        "harmonis_threshold": m.integration["harmonis_threshold"], "quadrants": m.integration["quadrants"],
        "gap_threshold": ihai["gap_threshold"], "event_weights": ikn["event"]["weights"],
    }


SVG_NAMESPACE = ' xmlns="http://www.w3.org/2000/svg"'


def inline_svg(svg: str) -> str:
    """An SVG document as an element of the HTML page: HTML puts ``<svg>`` in the SVG
    namespace itself, so the page carries no URL at all, not even a namespace name."""
    return svg.replace(SVG_NAMESPACE, "", 1)


def build_context(data: content.ReportData, plan: MapPlan, svgs: dict[str, str], map_data: dict) -> dict:
    kec = data.kecamatan
    wide = data.scope == ALL or data.scope.count(".") == 0
    limit = content.FOCUS_LIMIT if wide else None  # a wider scope lists its most urgent kecamatan only
    ranked = kec.sort_values("urgensi").assign(peringkat=np.arange(1, len(kec) + 1))
    priority = content.priority_list(data)
    change = content.changes(data)
    no_score = kec[kec["tingkat_kerawanan"].isna() | kec["kategori_ihai"].isna()]
    reasons = (no_score.assign(alasan=no_score["alasan"].fillna("–")).groupby("alasan", as_index=False)
               .size().sort_values(["size", "alasan"], ascending=[False, True]))
    dims = data.dimensi.reindex(data.focus["kode_kecamatan"]).reset_index()
    pillars = data.focus[["kode_kecamatan", "nama_kecamatan", "pilar_survei", "pilar_peristiwa", "pilar_konteks",
                          "ikn", "tingkat_kerawanan"]].merge(dims, on="kode_kecamatan", how="left")
    gaps = kec[kec["gap_persepsi_partisipasi"].fillna(False).astype(bool)].assign(
        selisih=lambda f: f["aspek_persepsi"] - f["aspek_partisipasi"])
    gaps = gaps.sort_values(["selisih", "kode_kecamatan"], ascending=[False, True]).head(limit) if wide else \
        gaps.sort_values("kode_kecamatan")
    maps_ctx = []
    for key, svg in svgs.items():
        md = map_data[key]
        maps_ctx.append({"key": key, "title": md.title, "svg": Markup(inline_svg(svg))})
    theme = themes(data.methodology)
    return {
        "period": data.period,
        "bulan": bulan(data.period),
        "scope": data.scope,
        "scope_label": data.scope_label,
        "wide": wide,
        "limit": limit,
        "map_level": plan.level,
        "map_notes": list(plan.notes),
        "not_official": NOT_OFFICIAL.format(version=data.methodology.version),
        "maps": maps_ctx,
        "level_counts": content.level_counts(data),
        "risk_colours": {label: theme["kerawanan"].colour(label) for label in theme["kerawanan"].labels},
        "no_data_label": NO_DATA_LABEL,
        "n_kecamatan": int(len(kec)),
        "n_alert": int(kec["alert_merah"].fillna(False).astype(bool).sum()),
        "changes": {k: (records(v.head(limit) if k != "moves" else v) if isinstance(v, pd.DataFrame) else v)
                    for k, v in change.items()},
        "n_new_top": int(len(change["new_top"])),
        "n_new_alerts": int(len(change["new_alerts"])),
        "priority_page1": records(priority.head(PAGE1_PRIORITIES)),
        "priority": records(priority.head(limit)),
        "n_priority": int(len(priority)),
        "ranked": records(ranked.head(limit)),
        "no_score": [] if wide else records(no_score.sort_values("kode_kecamatan")),
        "n_no_score": int(len(no_score)),
        "no_score_reasons": records(reasons),
        "n_gaps": int(kec["gap_persepsi_partisipasi"].fillna(False).astype(bool).sum()),
        "kabupaten": records(data.kabupaten),
        "provinsi": records(data.provinsi),
        "trends": trends(data),
        "gaps": records(gaps),
        "pillars": records(pillars),
        "dimension_names": dict(data.methodology.ikn["dimensions"]),
        "quality": quality(data),
        "runs": records(data.runs),
        "trace_example": content.trace_command(data.period, "<kode>"),
        "methodology": methodology_facts(data),
        "focus_all": data.scope.count(".") == 1,
        "focus_limit": content.FOCUS_LIMIT,
        "ketidakpastian": uncertainty.section(data, wide, limit),
    }
