"""What the statistics layouts share: the sources configuration, label and number
normalisation, and the entries frame every extractor produces.

Room: helpers of :mod:`harmoni_pipeline.ingest.stats` and its layout modules; no layout here.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

CONFIG_PATH = Path(__file__).resolve().parent.parent / "config" / "stats_sources.yaml"

LONG_REQUIRED = ("kode_wilayah", "tahun", "indikator", "nilai")
LONG_OPTIONAL = ("jenis_kelamin", "kelompok_umur", "satuan", "sumber")
MIN_YEAR, MAX_YEAR = 1900, 2099

_JK = {
    "l": "L", "lk": "L", "laki-laki": "L", "laki laki": "L", "lakilaki": "L", "male": "L", "m": "L",
    "p": "P", "pr": "P", "perempuan": "P", "wanita": "P", "female": "P", "f": "P",
}
_JK_TOTAL = {"jumlah", "total", "l+p", "semua", "all"}
_KU_TOTAL = {"jumlah", "total", "semua", "semuaumur", "all"}
_PLAIN_NUMBER = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"
_ID_NUMBER = r"^-?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$"
_NOT_AVAILABLE = {"…", "...", "..", ". . .", "….", "na", "n/a"}
_DASHES = {"-", "–", "—", "- ", "−"}
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


# ----------------------------------------------------------------------------- config


@lru_cache(maxsize=None)
def load_sources(path: str = str(CONFIG_PATH)) -> dict:
    """The statistics source mapping (see ``config/stats_sources.yaml``)."""
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    bands = [(str(label), int(lo), None if hi is None else int(hi)) for label, lo, hi in data["population_bands"]]
    data["_bands"] = bands
    for entry in data.get("dalam_angka", []):
        entry["_regex"] = re.compile(entry["title"], re.IGNORECASE)
    return data


def _flag(mask) -> pd.Series:
    """A nullable boolean mask as plain bool (NA → False)."""
    return pd.Series(mask).astype("boolean").fillna(False).astype(bool)


def _norm_label(text) -> str:
    return re.sub(r"\s+", " ", str(text)).strip().casefold()



ENTRY_COLUMNS = {
    "row": "int64",  # input row id, 0 … rows_read-1
    "line": "Int64",
    "kode_wilayah": "string",
    "region_rule": "string",
    "region_message": "string",
    "region_value": "string",
    "tahun_raw": "string",
    "indikator": "string",
    "jk_raw": "string",
    "ku_raw": "string",
    "nilai": "float64",
    "nilai_state": "string",  # ok | na | missing | invalid
    "nilai_raw": "string",
    "satuan": "string",
    "sumber": "string",
    "pre_rule": "string",  # a rule the extractor already decided (JSON key problems)
    "pre_message": "string",
    "ref_kode": "string",
    "ref_tahun": "string",
    "ref_indikator": "string",
    "ref_jk": "string",
    "ref_ku": "string",
    "ref_nilai": "string",
}


def _entries(n: int, **columns) -> pd.DataFrame:
    """An entry frame of ``n`` rows; missing columns are NA; scalars are broadcast."""
    data = {}
    for name, dtype in ENTRY_COLUMNS.items():
        value = columns.get(name, pd.NA)
        if isinstance(value, (pd.Series, np.ndarray, list)):
            series = pd.Series(value).reset_index(drop=True)
        else:
            series = pd.Series([value] * n)
        if dtype == "float64":
            series = pd.to_numeric(series, errors="coerce").astype("float64")
        else:
            series = series.astype(dtype)
        data[name] = series
    return pd.DataFrame(data, index=range(n))


def _parse_plain_numbers(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Plain numbers (``1234.5``): (value, state ok|missing|invalid)."""
    text = raw.astype("string").str.strip()
    plain = text.str.match(_PLAIN_NUMBER).fillna(False).astype(bool)
    value = pd.to_numeric(text.where(plain), errors="coerce").astype("float64")
    state = pd.Series("invalid", index=raw.index, dtype="string")
    state = state.mask(text.isna(), "missing").mask(plain & np.isfinite(value), "ok")
    return value, state


def _parse_indonesian_numbers(raw: pd.Series, is_number: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dalam Angka cells: numeric cells as they are, text ``1.234,5``; ``-`` = 0;
    ``…``/``...``/empty = not available. Returns (value, state ok|na|invalid)."""
    numeric = pd.to_numeric(raw.where(is_number), errors="coerce").astype("float64")
    text = raw.where(~is_number).astype("string").str.strip().str.rstrip("*").str.strip()
    dash = text.isin(_DASHES).fillna(False).astype(bool)
    na = (text.isna() & ~is_number) | text.str.casefold().isin(_NOT_AVAILABLE).fillna(False).astype(bool)
    shaped = text.str.match(_ID_NUMBER).fillna(False).astype(bool)
    converted = text.where(shaped).str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    value = numeric.fillna(pd.to_numeric(converted, errors="coerce").astype("float64"))
    value = value.mask(dash, 0.0)
    state = pd.Series("invalid", index=raw.index, dtype="string")
    ok = (is_number & numeric.notna() & np.isfinite(numeric)) | shaped | dash
    state = state.mask(na, "na").mask(ok, "ok")
    return value, state
