"""Synthetic published marts for report tests: every mart of a scope and month, with
plausible values, categories from the methodology's bands and the quadrant from the
real integration function, published through ``Warehouse.publish_all`` as scoring
would. Fast (no pipeline run), so a national month (7,285 kecamatan) is cheap.
:func:`synthetic_uncertainty` adds the six uncertainty, sensitivity and group tables of
such a month (intervals around the published scores, ranks within the kabupaten, groups
with suppressed small cells) as frames a test can edit before publishing them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from harmoni_pipeline import methodology as methodology_mod
from harmoni_pipeline.regions import Regions
from harmoni_pipeline.scoring.integration import harmoni_kewaspadaan
from harmoni_pipeline.scoring.schemas import MART_SCHEMAS
from harmoni_pipeline.scoring.uncertainty_schemas import UNCERTAINTY_SCHEMAS


def _table(name: str, frame: pd.DataFrame, period: str, run_id: str, version: str) -> pa.Table:
    schema = {**MART_SCHEMAS, **UNCERTAINTY_SCHEMAS}[name]
    frame = frame.assign(period=period, methodology_version=version, run_id=run_id)
    for col in schema.names:
        if col not in frame:
            frame[col] = None
    return pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)


def synthetic_marts(scope: str, period: str, seed: int = 0, run_id: str = "synthetic-run") -> dict[str, pa.Table]:
    m = methodology_mod.load()
    regions = Regions.load()
    kec = regions.kecamatan_in_scope(scope)
    rng = np.random.default_rng([seed, int(period.replace("-", ""))])
    n = len(kec)
    codes = kec["kode"].astype(str).to_numpy()
    n_resp = rng.integers(0, 90, n)
    ok = n_resp >= m.min_n
    ihai = np.where(ok, rng.uniform(40, 95, n), np.nan)
    ihai_df = pd.DataFrame({
        "kode_kecamatan": codes, "nama_kecamatan": kec["nama"].astype(str).to_numpy(),
        "kode_kabupaten": kec["kode_kabupaten"].astype(str).to_numpy(), "n_responden": n_resp,
        "n_efektif": n_resp * 0.9, "weighting": "raked",
        "status": np.where(ok, "ok", np.where(n_resp > 0, "insufficient_sample", "no_data")), "ihai": ihai,
        "ihai_skala10": ihai / 10,
    })
    ihai_df["kategori"] = m.ihai_bands.classify(ihai_df["ihai"]).astype(object)
    for col in ("ci_low", "ci_high", "dim_ekonomi", "dim_sosial", "dim_budaya", "dim_keberagamaan",
                "aspek_persepsi", "aspek_partisipasi", "aspek_akseptabilitas"):
        ihai_df[col] = ihai + rng.normal(0, 5, n) if col != "aspek_partisipasi" else ihai - rng.uniform(0, 25, n)
    ihai_df["gap_persepsi_partisipasi"] = np.where(ok, ihai_df["aspek_persepsi"] - ihai_df["aspek_partisipasi"] >= 15, None)
    has_context = rng.random(n) > 0.05
    ikn_ok = ok & has_context
    ikn = np.where(ikn_ok, rng.uniform(25, 95, n), np.nan)
    alert = rng.random(n) < 0.03
    ikn_df = pd.DataFrame({
        "kode_kecamatan": codes, "nama_kecamatan": ihai_df["nama_kecamatan"], "n_responden": n_resp,
        "n_laporan": rng.integers(0, 20, n), "pilar_survei": np.where(ok, rng.uniform(30, 95, n), np.nan),
        "pilar_peristiwa": rng.uniform(30, 100, n), "pilar_konteks": np.where(has_context, rng.uniform(30, 90, n), np.nan),
        "ikn": ikn, "kerawanan": 100 - ikn, "alert_merah": alert,
        "status": np.where(ikn_ok, "ok", np.where(~ok, np.where(n_resp > 0, "insufficient_sample", "no_data"), "missing_context")),
    })
    ikn_df["kategori"] = m.ikn_bands.classify(ikn_df["ikn"]).astype(object)
    risk = m.risk_bands.classify(ikn_df["kerawanan"]).astype(object)
    ikn_df["tingkat_kerawanan"] = np.where(alert, m.risk_bands.labels[0], risk)
    ikn_df["tingkat_kerawanan"] = ikn_df["tingkat_kerawanan"].where(ikn_df["tingkat_kerawanan"].notna(), None)
    assignments = {c: f"Camat {name}" for c, name in zip(codes[::2], ihai_df["nama_kecamatan"][::2])}
    hk = harmoni_kewaspadaan(ihai_df, ikn_df, assignments, m).merge(
        ihai_df[["kode_kecamatan", "nama_kecamatan"]], on="kode_kecamatan")
    dim = pd.DataFrame({"kode_kecamatan": np.repeat(codes[ok], 5), "dimensi": np.tile(list(m.ikn["dimensions"]), ok.sum()),
                        "aspek": "ALL", "skor": rng.uniform(30, 95, ok.sum() * 5), "n": 30})

    def rollup(level_code: str, names: pd.DataFrame, frame: pd.DataFrame, value: str, bands) -> pd.DataFrame:
        key = frame["kode_kecamatan"].str[: 2 if level_code == "kode_provinsi" else 5]
        g = frame.assign(**{level_code: key}).groupby(level_code)
        out = pd.DataFrame({value: g[value].mean(), "coverage": g[value].apply(lambda s: s.notna().mean())}).reset_index()
        out["kategori"] = bands.classify(out[value]).astype(object)
        return out.merge(names, on=level_code, how="left")

    kab_names = regions.kabupaten.rename(columns={"kode": "kode_kabupaten", "nama": "nama_kabupaten"})[["kode_kabupaten", "nama_kabupaten"]].astype(object)
    prov_names = regions.provinsi.rename(columns={"kode": "kode_provinsi", "nama": "nama_provinsi"})[["kode_provinsi", "nama_provinsi"]].astype(object)
    tinggi = ikn_df.assign(t=ikn_df["tingkat_kerawanan"] == m.risk_bands.labels[0])
    ihai_kab = rollup("kode_kabupaten", kab_names, ihai_df, "ihai", m.ihai_bands)
    ihai_kab["n_kecamatan_ok"] = ihai_kab["kode_kabupaten"].map(ihai_df[ok].groupby("kode_kabupaten").size()).fillna(0).astype(int)
    ikn_kab = rollup("kode_kabupaten", kab_names, ikn_df, "ikn", m.ikn_bands)
    ikn_kab["n_kecamatan_tinggi"] = ikn_kab["kode_kabupaten"].map(tinggi.groupby(tinggi["kode_kecamatan"].str[:5])["t"].sum()).astype(int)
    ihai_prov = rollup("kode_provinsi", prov_names, ihai_df, "ihai", m.ihai_bands)
    ihai_prov["n_kecamatan_ok"] = 0
    ikn_prov = rollup("kode_provinsi", prov_names, ikn_df, "ikn", m.ikn_bands)
    ikn_prov["n_kecamatan_tinggi"] = ikn_prov["kode_provinsi"].map(tinggi.groupby(tinggi["kode_kecamatan"].str[:2])["t"].sum()).astype(int)
    frames = {
        "marts.ihai_kecamatan": ihai_df, "marts.ikn_kecamatan": ikn_df, "marts.harmoni_kewaspadaan": hk,
        "marts.ikn_dimensi": dim, "marts.ihai_kabupaten": ihai_kab, "marts.ikn_kabupaten": ikn_kab,
        "marts.ihai_provinsi": ihai_prov, "marts.ikn_provinsi": ikn_prov,
        "marts.ihai_variabel": pd.DataFrame(), "marts.ikn_konteks": pd.DataFrame(),
    }
    return {name: _table(name, frame, period, run_id, m.version) for name, frame in frames.items()}


def synthetic_uncertainty(marts: dict[str, pa.Table], seed: int = 0) -> dict[str, pd.DataFrame]:
    """The six uncertainty tables of the month of ``marts`` (as frames, schema columns
    filled by :func:`publish_with_uncertainty`)."""
    m = methodology_mod.load()
    rng = np.random.default_rng(seed)
    frames = {}
    for index, mart, column in (("ihai", "marts.ihai_kecamatan", "ihai"), ("ikn", "marts.ikn_kecamatan", "ikn")):
        pub = marts[mart].to_pandas()
        n = len(pub)
        f = pd.DataFrame({"kode_kecamatan": pub["kode_kecamatan"], "skor": pub[column].astype(float)})
        f["kode_kabupaten"] = f["kode_kecamatan"].str[:5]
        f["kode_provinsi"] = f["kode_kecamatan"].str[:2]
        f["skor_median"] = f["skor"]
        f["skor_p05"] = f["skor"] - rng.uniform(1, 8, n)
        f["skor_p95"] = f["skor"] + rng.uniform(1, 8, n)
        f["skor_dalam_interval"] = np.where(f["skor"].notna(), True, None)
        f["peringkat"] = f.groupby("kode_kabupaten")["skor"].rank(ascending=False, method="min")
        f["n_peringkat"] = f["kode_kabupaten"].map(f.groupby("kode_kabupaten")["skor"].count())
        spread = rng.integers(0, 4, n)
        f["peringkat_median"] = f["peringkat"]
        f["peringkat_p05"] = np.maximum(1, f["peringkat"] - spread)
        f["peringkat_p95"] = np.minimum(f["n_peringkat"], f["peringkat"] + spread)
        if index == "ikn":
            f["p_kerawanan_tinggi"] = np.where(f["skor"].notna(), np.clip((100 - f["skor"] - 40) / 20, 0, 1), np.nan)
        f["n_draws"], f["seed"] = 1000, 20260101
        frames[f"marts.{index}_ketidakpastian"] = f
    frames["marts.sensitivitas"] = pd.DataFrame({
        "indeks": ["ihai", "ihai", "ihai", "ihai", "ikn", "ikn", "ikn", "ikn", "ikn"],
        "input": ["sampel", "bobot", "agregasi", "raking", "sampel", "eksponen", "agregasi", "batas_konteks", "raking"],
        "s1": [0.55, 0.08, 0.05, 0.12, 0.20, 0.30, 0.02, 0.25, 0.06],
        "st": [0.70, 0.12, 0.07, 0.18, 0.28, 0.41, 0.05, 0.33, 0.09], "n_kecamatan": 10})
    frames["marts.sensitivitas_kecamatan"] = pd.DataFrame(columns=["kode_kecamatan", "indeks", "input", "s1", "st"])
    ihai = marts["marts.ihai_kecamatan"].to_pandas()
    rows = []
    for code, total, score, status in zip(ihai["kode_kecamatan"], ihai["n_responden"], ihai["ihai"], ihai["status"]):
        women = int(total) // 2
        for dim, groups in (("jenis_kelamin", {"L": int(total) - women, "P": women}),
                            ("kelompok_umur", {"17-24": int(total) // 6, "25-39": int(total) // 3,
                                               "40-54": int(total) // 4})):
            for label, n in groups.items():
                if n == 0:
                    continue
                small = n < m.min_n
                reason = status if status != "ok" else ("insufficient_sample" if small else None)
                rows.append({"kode_kecamatan": code, "dimensi_kelompok": dim, "kelompok": label, "n": n,
                             "skor": None if reason else float(score) + rng.normal(0, 3), "alasan_null": reason})
    groups = pd.DataFrame(rows)
    frames["marts.ihai_kelompok"] = groups
    frames["marts.ikn_kelompok"] = groups.assign(skor=groups["skor"].astype(float) - 5.0)
    return frames


def publish_with_uncertainty(warehouse, marts: dict[str, pa.Table], uncertainty: dict[str, pd.DataFrame], period: str,
                             run_id: str) -> None:
    """Publish a month's marts and its uncertainty tables together, as one snapshot."""
    version = methodology_mod.load().version
    tables = {**marts, **{name: _table(name, frame, period, run_id, version) for name, frame in uncertainty.items()}}
    warehouse.publish_all(tables, period, run_id)


def publish_synthetic(warehouse, scope: str, periods: list[str], seed: int = 0) -> None:
    for period in periods:
        warehouse.publish_all(synthetic_marts(scope, period, seed, run_id=f"synthetic-{period}"), period, f"synthetic-{period}")
