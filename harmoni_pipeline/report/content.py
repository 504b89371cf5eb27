"""What the monthly report says, read from the published marts: data → context.

Room: the queries (DuckDB over the warehouse's current files, through
:meth:`~harmoni_pipeline.warehouse.Warehouse.query`) and the shaping of their results
into plain values and frames the templates show — the month's kecamatan with last
month's values beside them, what changed, the priority list, the 12-month trends, the
kabupaten/province roll-ups, pillars and dimensions, data quality, the runs that
produced the numbers, and per map which category each feature shows. The uncertainty
section's tables are read by :mod:`.uncertainty`. Nothing here
renders; nothing here scores (the marts are read as published).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from harmoni_pipeline.methodology import Methodology
from harmoni_pipeline.periods import month_range, previous_month, shift
from harmoni_pipeline.regions import ALL, Regions
from harmoni_pipeline.report import uncertainty
from harmoni_pipeline.report.palette import QUADRANT_PRIORITY
from harmoni_pipeline.scoring.schemas import MART_SCHEMAS

MART_TABLES = tuple(MART_SCHEMAS)
FOCUS_LIMIT = 50  # at a wider scope than a kabupaten, the trends follow the 50 most urgent kecamatan
TREND_MONTHS = 12

STATUS_TEXT = {
    "insufficient_sample": "responden survei kurang dari {min_n}",
    "no_data": "belum ada responden survei",
    "no_population": "data penduduk tidak tersedia",
    "missing_context": "indikator konteks BPS kurang dari {min_context}",
}


class ReportDataError(RuntimeError):
    """The month cannot be reported: its marts are not published."""


def trace_command(period: str, kode: str) -> str:
    """The command that shows a kecamatan's trail for a month."""
    return f"harmoni trace --period {period} --kecamatan {kode}"


def scope_label(scope: str, regions: Regions) -> str:
    if scope == ALL:
        return "Indonesia (seluruh provinsi)"
    table = regions.provinsi if scope.count(".") == 0 else regions.kabupaten
    names = dict(zip(table["kode"], table["nama"]))
    name = names.get(scope, scope)
    return f"Provinsi {name}" if scope.count(".") == 0 else name


def reason_text(alasan: str | None, methodology: Methodology) -> str | None:
    """``alasan_null`` (``ihai:insufficient_sample; ikn:missing_context``) in plain Indonesian."""
    if alasan is None or alasan is pd.NA or (isinstance(alasan, float) and np.isnan(alasan)):
        return None
    min_context = methodology.ikn["context"]["min_indicators"]
    parts = []
    for item in str(alasan).split(";"):
        index, _, status = item.strip().partition(":")
        text = STATUS_TEXT.get(status, status).format(min_n=methodology.min_n, min_context=min_context)
        parts.append(f"{'IHaI' if index == 'ihai' else 'IKN'}: {text}")
    return "; ".join(parts)


KECAMATAN_SQL = """
SELECT h.kode_kecamatan, h.nama_kecamatan, i.kode_kabupaten,
       i.ihai, i.kategori AS kategori_ihai, i.status AS status_ihai, i.n_responden, i.ci_low, i.ci_high,
       i.aspek_persepsi, i.aspek_partisipasi, i.aspek_akseptabilitas, i.gap_persepsi_partisipasi,
       k.ikn, k.kategori AS kategori_ikn, k.status AS status_ikn, k.n_laporan,
       k.pilar_survei, k.pilar_peristiwa, k.pilar_konteks, k.alert_merah,
       h.kerawanan, h.tingkat_kerawanan, h.kuadran, h.rekomendasi, h.penanggung_jawab, h.alasan_null,
       h.run_id
FROM {marts.harmoni_kewaspadaan} h
JOIN {marts.ihai_kecamatan} i USING (period, kode_kecamatan)
JOIN {marts.ikn_kecamatan} k USING (period, kode_kecamatan)
WHERE h.period = ?
ORDER BY h.kode_kecamatan
"""

HISTORY_SQL = """
SELECT h.period, h.kode_kecamatan, h.ihai, h.ikn, h.kerawanan, h.tingkat_kerawanan, h.kuadran, k.alert_merah
FROM {marts.harmoni_kewaspadaan} h
JOIN {marts.ikn_kecamatan} k USING (period, kode_kecamatan)
WHERE h.period IN (SELECT unnest(?::VARCHAR[]))
"""

KABUPATEN_SQL = """
SELECT coalesce(i.period, k.period) AS period, coalesce(i.kode_kabupaten, k.kode_kabupaten) AS kode_kabupaten,
       coalesce(i.nama_kabupaten, k.nama_kabupaten) AS nama_kabupaten,
       i.ihai, i.kategori AS kategori_ihai, i.coverage AS coverage_ihai, i.n_kecamatan_ok,
       k.ikn, k.kategori AS kategori_ikn, k.coverage AS coverage_ikn, k.n_kecamatan_tinggi
FROM (SELECT * FROM {marts.ihai_kabupaten} WHERE period IN (SELECT unnest(?::VARCHAR[]))) i
FULL JOIN (SELECT * FROM {marts.ikn_kabupaten} WHERE period IN (SELECT unnest(?::VARCHAR[]))) k
  USING (period, kode_kabupaten)
"""

PROVINSI_SQL = """
SELECT coalesce(i.kode_provinsi, k.kode_provinsi) AS kode_provinsi, coalesce(i.nama_provinsi, k.nama_provinsi) AS nama_provinsi,
       i.ihai, i.kategori AS kategori_ihai, i.coverage AS coverage_ihai,
       k.ikn, k.kategori AS kategori_ikn, k.coverage AS coverage_ikn, k.n_kecamatan_tinggi
FROM (SELECT * FROM {marts.ihai_provinsi} WHERE period = ?) i
FULL JOIN (SELECT * FROM {marts.ikn_provinsi} WHERE period = ?) k USING (period, kode_provinsi)
ORDER BY 1
"""

DIMENSI_SQL = """
SELECT kode_kecamatan, dimensi, skor FROM {marts.ikn_dimensi}
WHERE period = ? AND aspek = 'ALL'
"""

RUNS_SQL = """
WITH rows AS (
{unions}
)
SELECT r."table", r.run_id, r.rows, max(p.published_at) AS published_at
FROM rows r LEFT JOIN {{audit.publications}} p ON p."table" = r."table" AND p.run_id = r.run_id AND p.period = ?
GROUP BY ALL ORDER BY 1, 2
""".format(unions="\nUNION ALL\n".join(
    f"SELECT '{t}' AS \"table\", run_id, count(*) AS rows FROM {{{t}}} WHERE period = ? GROUP BY run_id"
    for t in MART_TABLES))

FILES_SQL = """
SELECT source, count(*) AS files,
       count(*) FILTER (WHERE duplicate_of IS NOT NULL) AS duplicates,
       count(*) FILTER (WHERE error IS NOT NULL) AS unreadable,
       coalesce(sum(rows_read), 0) AS rows_read, coalesce(sum(rows_accepted), 0) AS rows_accepted,
       coalesce(sum(rows_rejected), 0) AS rows_rejected
FROM {audit.source_files}
WHERE period IN (?, ?)
GROUP BY source ORDER BY source
"""

REJECTED_SQL = """
SELECT source, rule, count(*) AS rows FROM {audit.rejected_rows}
WHERE period IN (?, ?) GROUP BY ALL ORDER BY source, rows DESC, rule
"""

CHECKS_SQL = """
WITH latest AS (
  SELECT *, max(checked_at) OVER (PARTITION BY asset, check_name) AS last_checked
  FROM {audit.validation_results} WHERE "partition" IN (?, ?)
)
SELECT asset, check_name, bool_and(blocking) AS blocking,
       count(*) AS expectations, count(*) FILTER (WHERE success) AS passed
FROM latest WHERE checked_at = last_checked
GROUP BY ALL ORDER BY asset, check_name
"""


@dataclass
class ReportData:
    """Everything the report shows for one month and scope, as read from the warehouse."""

    period: str
    scope: str
    scope_label: str
    methodology: Methodology
    kecamatan: pd.DataFrame          # the month, one row per kecamatan in scope, with last month beside it
    history: pd.DataFrame            # period, kode_kecamatan, ihai, ikn, ... over the trend window
    kabupaten: pd.DataFrame          # the month's kabupaten roll-ups
    kabupaten_history: pd.DataFrame
    provinsi: pd.DataFrame
    dimensi: pd.DataFrame            # kode_kecamatan × KN1..KN5 (aspek ALL)
    runs: pd.DataFrame
    files: pd.DataFrame
    rejected: pd.DataFrame
    checks: pd.DataFrame
    has_previous: bool
    trend_periods: list[str] = field(default_factory=list)
    uncertainty: uncertainty.UncertaintyData | None = None  # the month's uncertainty, sensitivity and group marts

    @property
    def focus(self) -> pd.DataFrame:
        """The kecamatan the trends and dimension tables follow: all of a kabupaten, else
        the :data:`FOCUS_LIMIT` most urgent."""
        if self.scope != ALL and self.scope.count(".") == 1:
            return self.kecamatan
        return self.kecamatan.sort_values("urgensi", kind="stable").head(FOCUS_LIMIT)


def _in_scope(frame: pd.DataFrame, column: str, scope: str) -> pd.DataFrame:
    if scope == ALL:
        return frame
    codes = frame[column].astype(str)
    return frame[(codes == scope) | codes.str.startswith(scope + ".")]


def urgency(frame: pd.DataFrame, risk_top: str) -> pd.Series:
    """Sort key, smallest first: quadrant in priority order (a red alert without a
    quadrant ranks with ``harmonis-rawan``), then red alert, then kerawanan, high first."""
    rank = frame["kuadran"].map({q: i for i, q in enumerate(QUADRANT_PRIORITY)}).astype("float")
    alert = frame["alert_merah"].fillna(False).astype(bool)
    rank = rank.where(rank.notna(), np.where(alert | (frame["tingkat_kerawanan"] == risk_top), 1.5, 4.0))
    kerawanan = frame["kerawanan"].astype("float").fillna(-1.0)
    order = np.lexsort((frame["kode_kecamatan"].to_numpy(dtype=object), -kerawanan.to_numpy(), ~alert.to_numpy(),
                        rank.to_numpy()))
    out = np.empty(len(frame), dtype=np.int64)
    out[order] = np.arange(len(frame))
    return pd.Series(out, index=frame.index)


def load(warehouse, regions: Regions, period: str, scope: str, methodology: Methodology) -> ReportData:
    """Read the month's published marts (and last month's, the trend window, the audit
    tables) for ``scope``. Raises :class:`ReportDataError` when the month's marts are
    not all published."""
    scope = regions.validate_scope(scope)
    kec = warehouse.query(KECAMATAN_SQL, [period]).df()
    kec = _in_scope(kec, "kode_kecamatan", scope).reset_index(drop=True)
    expected = regions.kecamatan_in_scope(scope)
    if kec.empty:
        raise ReportDataError(f"report {period}: the marts of {period} are not published (run `harmoni run --period {period}`)")
    missing = sorted(set(expected["kode"]) - set(kec["kode_kecamatan"]))
    if missing:
        raise ReportDataError(f"report {period}: {len(missing)} kecamatan of scope {scope} have no row in the published "
                              f"marts (e.g. {missing[0]}); were they scored with another scope?")
    names = regions.kabupaten.set_index("kode")["nama"]
    kec["nama_kabupaten"] = kec["kode_kabupaten"].map(names).astype("string")
    kec["kode_provinsi"] = kec["kode_kecamatan"].str[:2]
    reasons = {a: reason_text(a, methodology) for a in kec["alasan_null"].dropna().unique()}  # a few distinct values
    kec["alasan"] = kec["alasan_null"].map(reasons).astype("object")
    kec["jejak"] = trace_command(period, "") + kec["kode_kecamatan"]

    periods = month_range(shift(period, -(TREND_MONTHS - 1)), period)
    hist = warehouse.query(HISTORY_SQL, [periods]).df()
    hist = _in_scope(hist, "kode_kecamatan", scope)
    prev = hist[hist["period"] == previous_month(period)].set_index("kode_kecamatan")
    last = prev.reindex(kec["kode_kecamatan"])
    for col in ("ihai", "ikn", "kerawanan", "tingkat_kerawanan", "kuadran", "alert_merah"):
        kec[f"{col}_lalu"] = last[col].to_numpy()
    kec["delta_ihai"] = kec["ihai"] - kec["ihai_lalu"].astype("float")
    kec["delta_ikn"] = kec["ikn"] - kec["ikn_lalu"].astype("float")
    kec["urgensi"] = urgency(kec, methodology.risk_bands.labels[0])

    kab_all = warehouse.query(KABUPATEN_SQL, [periods, periods]).df()
    kab_all = _in_scope(kab_all, "kode_kabupaten", scope if scope.count(".") < 2 else scope[:5])
    kab = kab_all[kab_all["period"] == period].sort_values("kode_kabupaten").reset_index(drop=True)
    prov = warehouse.query(PROVINSI_SQL, [period, period]).df()
    prov = _in_scope(prov, "kode_provinsi", scope[:2] if scope != ALL else ALL).reset_index(drop=True)
    dim = warehouse.query(DIMENSI_SQL, [period]).df()
    dim = dim[dim["kode_kecamatan"].isin(kec["kode_kecamatan"])]
    dimensi = dim.pivot_table(index="kode_kecamatan", columns="dimensi", values="skor", aggfunc="first")

    year = period[:4]
    return ReportData(
        period=period, scope=scope, scope_label=scope_label(scope, regions), methodology=methodology,
        kecamatan=kec, history=hist.sort_values(["kode_kecamatan", "period"]).reset_index(drop=True),
        kabupaten=kab, kabupaten_history=kab_all.sort_values(["kode_kabupaten", "period"]).reset_index(drop=True),
        provinsi=prov, dimensi=dimensi,
        runs=warehouse.query(RUNS_SQL, [period] * (len(MART_TABLES) + 1)).df(),
        files=warehouse.query(FILES_SQL, [period, year]).df(),
        rejected=warehouse.query(REJECTED_SQL, [period, year]).df(),
        checks=warehouse.query(CHECKS_SQL, [period, year]).df(),
        has_previous=len(prev) > 0,
        trend_periods=periods,
        uncertainty=uncertainty.load(warehouse, period, kec["kode_kecamatan"]),
    )


# ---- what changed, what comes first ---------------------------------------------------

def changes(data: ReportData, top: int = 5) -> dict:
    """New Tinggi, new red alerts and the largest IKN/IHaI moves since last month."""
    kec = data.kecamatan
    top_risk = data.methodology.risk_bands.labels[0]
    if not data.has_previous:
        return {"available": False, "new_top": kec.iloc[0:0], "new_alerts": kec.iloc[0:0], "moves": kec.iloc[0:0],
                "top_label": top_risk}
    new_top = kec[(kec["tingkat_kerawanan"] == top_risk) & (kec["tingkat_kerawanan_lalu"] != top_risk).fillna(True)]
    new_alerts = kec[kec["alert_merah"].fillna(False) & ~kec["alert_merah_lalu"].fillna(False).astype(bool)]
    new_top, new_alerts = new_top.sort_values("urgensi"), new_alerts.sort_values("urgensi")
    move = np.fmax(kec["delta_ikn"].abs().fillna(-1), kec["delta_ihai"].abs().fillna(-1))
    moves = kec.assign(_move=move)[move > 0].sort_values(["_move", "kode_kecamatan"], ascending=[False, True]).head(top)
    return {"available": True, "new_top": new_top, "new_alerts": new_alerts, "moves": moves, "top_label": top_risk}


def priority_list(data: ReportData, limit: int | None = None) -> pd.DataFrame:
    """Kecamatan needing action, most urgent first: those in a quadrant other than
    harmonis-aman, and red alerts (kurang-harmonis-rawan first)."""
    kec = data.kecamatan
    keep = kec["kuadran"].isin(QUADRANT_PRIORITY[:3]) | kec["alert_merah"].fillna(False).astype(bool)
    out = kec[keep].sort_values("urgensi")
    return out if limit is None else out.head(limit)


def level_counts(data: ReportData) -> list[tuple[str, int]]:
    labels = data.methodology.risk_bands.labels
    counts = data.kecamatan["tingkat_kerawanan"].value_counts()
    rows = [(label, int(counts.get(label, 0))) for label in labels]
    rows.append(("Tidak cukup data", int(data.kecamatan["tingkat_kerawanan"].isna().sum())))
    return rows


# ---- what each map feature shows --------------------------------------------------------

def kabupaten_levels(data: ReportData) -> pd.DataFrame:
    """The kabupaten roll-ups of the marts read with the methodology's own rules:
    kerawanan = 100 − IKN of the kabupaten, its risk band, and the IHaI × IKN quadrant
    (the integration function of scoring, applied to the roll-ups). Red alerts are a
    kecamatan's: counted, never averaged."""
    from harmoni_pipeline.scoring.integration import harmoni_kewaspadaan

    m = data.methodology
    kab = data.kabupaten.rename(columns={"kode_kabupaten": "kode_kecamatan"})
    ikn = kab[["kode_kecamatan", "ikn"]].assign(kerawanan=100.0 - kab["ikn"].astype("float"), status="ok")
    ikn["tingkat_kerawanan"] = m.risk_bands.classify(ikn["kerawanan"]).astype(object)
    ihai = kab[["kode_kecamatan", "ihai"]].assign(status="ok")
    out = harmoni_kewaspadaan(ihai, ikn, {}, m).rename(columns={"kode_kecamatan": "kode_kabupaten"})
    return out[["kode_kabupaten", "ihai", "ikn", "kerawanan", "tingkat_kerawanan", "kuadran"]]


def map_features(data: ReportData, units: pd.DataFrame, level: str, key: str) -> pd.DataFrame:
    """One row per drawn feature (``unit``): ``label`` (category or NA), ``alert``,
    ``note``. A kecamatan feature shows its own values. A kabupaten feature shows the
    kabupaten roll-up of the marts read with the same bands and quadrant rule
    (:func:`kabupaten_levels`), and is marked when one of its kecamatan has a red alert."""
    from harmoni_pipeline.report.numbers import angka

    kec = data.kecamatan.merge(units[["kode", "unit"]], left_on="kode_kecamatan", right_on="kode", how="left")
    if level == "kecamatan":
        column = {"ihai": "kategori_ihai", "kerawanan": "tingkat_kerawanan", "kuadran": "kuadran"}[key]
        value = {"ihai": "ihai", "kerawanan": "kerawanan", "kuadran": "ikn"}[key]
        prefix = {"ihai": "IHaI ", "kerawanan": "kerawanan ", "kuadran": "IKN "}[key]
        notes = np.where(kec[column].notna(),
                         kec[column].astype("string").fillna("") + " (" + prefix + kec[value].map(angka) + ")",
                         "tidak cukup data: " + kec["alasan"].fillna("").astype(str))
        return pd.DataFrame({"unit": kec["unit"], "nama": kec["nama_kecamatan"], "label": kec[column],
                             "alert": kec["alert_merah"].fillna(False).astype(bool), "note": notes})
    grouped = kec.groupby("unit", sort=True)
    out = pd.DataFrame({"unit": sorted(kec["unit"].unique())})
    out["nama"] = out["unit"].map(grouped["nama_kabupaten"].first())
    alerts = out["unit"].map(grouped["alert_merah"].apply(lambda s: int(s.fillna(False).astype(bool).sum())))
    out["alert"] = alerts > 0
    levels = kabupaten_levels(data).set_index("kode_kabupaten")
    if key == "ihai":
        out["label"] = out["unit"].map(data.kabupaten.set_index("kode_kabupaten")["kategori_ihai"])
        detail = "IHaI kabupaten " + out["unit"].map(levels["ihai"]).map(angka)
    else:
        column = {"kerawanan": "tingkat_kerawanan", "kuadran": "kuadran"}[key]
        out["label"] = out["unit"].map(levels[column])
        detail = ("IKN kabupaten " + out["unit"].map(levels["ikn"]).map(angka) + ", kerawanan "
                  + out["unit"].map(levels["kerawanan"]).map(angka))
    tinggi = out["unit"].map(grouped["tingkat_kerawanan"].apply(lambda s: int((s == data.methodology.risk_bands.labels[0]).sum())))
    counts = ("; " + tinggi.astype(str) + " kecamatan " + data.methodology.risk_bands.labels[0] + ", "
              + alerts.astype(str) + " alert merah")
    out["note"] = np.where(out["label"].notna(), out["label"].astype("string").fillna("") + " (" + detail + counts + ")",
                           "tidak cukup data: roll-up kabupaten/kota kosong" + counts)
    return out
