"""Synthetic published marts for report tests: every mart of a scope and month, with
plausible values, categories from the methodology's bands and the quadrant from the
real integration function, published through ``Warehouse.publish_all`` as scoring
would. Fast (no pipeline run), so a national month (7,285 kecamatan) is cheap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from harmoni_pipeline import methodology as methodology_mod
from harmoni_pipeline.regions import Regions
from harmoni_pipeline.scoring.integration import harmoni_kewaspadaan
from harmoni_pipeline.scoring.schemas import MART_SCHEMAS


def _table(name: str, frame: pd.DataFrame, period: str, run_id: str, version: str) -> pa.Table:
    schema = MART_SCHEMAS[name]
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


def publish_synthetic(warehouse, scope: str, periods: list[str], seed: int = 0) -> None:
    for period in periods:
        warehouse.publish_all(synthetic_marts(scope, period, seed, run_id=f"synthetic-{period}"), period, f"synthetic-{period}")
