"""Statistics in the long CSV layout (data-contracts §3.3): one value per line, with
``kode_wilayah``, ``tahun``, ``indikator`` and ``nilai`` columns.

Room: the long CSV extractor of :mod:`harmoni_pipeline.ingest.stats`.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from harmoni_pipeline.ingest.common import UnreadableFile
from harmoni_pipeline.ingest.readers import read_csv_table
from harmoni_pipeline.ingest.stats_common import LONG_OPTIONAL, LONG_REQUIRED, _entries, _parse_plain_numbers



def _normalise_header(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(name).casefold()).strip("_")


def _extract_long_csv(path, display_path, regions, scope, config, ignored: list[str] | None = None):
    """``ignored``, when given, receives the headers that are not long-CSV columns."""
    table = read_csv_table(path, display_path)
    if ignored is not None:
        ignored.extend(c for c in table.frame.columns if _normalise_header(c) not in (*LONG_REQUIRED, *LONG_OPTIONAL))
    frame = table.frame.rename(columns={c: _normalise_header(c) for c in table.frame.columns})
    if frame.columns.duplicated().any():
        raise UnreadableFile(display_path, "several columns mean the same field: "
                             + ", ".join(sorted(set(frame.columns[frame.columns.duplicated()]))))
    missing = [c for c in LONG_REQUIRED if c not in frame.columns]
    if missing:
        raise UnreadableFile(
            display_path,
            "not a statistics table (long CSV, BPS WebAPI JSON or Dalam Angka XLSX): missing column(s) "
            + ", ".join(missing) + f" (found: {', '.join(frame.columns)})",
        )
    n = len(frame)
    frame = frame.reset_index(drop=True)
    col = {c: (frame[c].astype("string") if c in frame.columns else pd.Series(pd.NA, index=frame.index, dtype="string"))
           for c in (*LONG_REQUIRED, *LONG_OPTIONAL)}

    kode_raw = col["kode_wilayah"].str.strip()
    region = _resolve_codes(regions, kode_raw, scope)
    nilai, state = _parse_plain_numbers(col["nilai"])
    indikator = col["indikator"].str.strip().str.casefold()
    entries = _entries(
        n,
        row=np.arange(n),
        line=pd.Series(table.lines).astype("Int64"),
        kode_wilayah=region["kode"],
        region_rule=region["rule"],
        region_message=region["message"],
        region_value=kode_raw,
        tahun_raw=col["tahun"],
        indikator=indikator,
        jk_raw=col["jenis_kelamin"],
        ku_raw=col["kelompok_umur"],
        nilai=nilai,
        nilai_state=state,
        nilai_raw=col["nilai"],
        satuan=col["satuan"].str.strip(),
        sumber=col["sumber"].str.strip(),
        ref_kode="kode_wilayah",
        ref_tahun="tahun",
        ref_indikator="indikator",
        ref_jk="jenis_kelamin",
        ref_ku="kelompok_umur",
        ref_nilai="nilai",
    )
    return entries, n, []


def _resolve_codes(regions, codes: pd.Series, scope: str) -> pd.DataFrame:
    """``resolve_wilayah_code`` on the non-empty codes; empty codes → missing_field."""
    out = pd.DataFrame(
        {
            "kode": pd.Series(pd.NA, index=codes.index, dtype="string"),
            "rule": pd.Series(pd.NA, index=codes.index, dtype="string"),
            "message": pd.Series(pd.NA, index=codes.index, dtype="string"),
        }
    )
    present = codes.notna()
    out.loc[~present, "rule"] = "missing_field"
    out.loc[~present, "message"] = "kode_wilayah is empty"
    if present.any():
        idx = present[present].index
        res = regions.resolve_wilayah_code(codes[idx].reset_index(drop=True), scope)
        for name in ("kode", "rule", "message"):
            out.loc[idx, name] = res[name].astype("string").to_numpy()
    return out
