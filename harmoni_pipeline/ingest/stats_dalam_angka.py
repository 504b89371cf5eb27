"""Statistics from BPS "Dalam Angka" workbooks: kecamatan tables on sheets, found by
their titles and headers, with Indonesian number text and merged header cells.

Room: the Dalam Angka extractor of :mod:`harmoni_pipeline.ingest.stats`.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from harmoni_pipeline.ingest.common import UnreadableFile
from harmoni_pipeline.ingest.readers import read_xlsx_cells, xlsx_merged_ranges, xlsx_sheet_names
from harmoni_pipeline.ingest.stats_common import (
    _YEAR,
    _entries,
    _flag,
    _norm_label,
    _parse_indonesian_numbers,
)



def _col_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _cell_text(grid: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(text, is_number) of every cell: strings stripped with inner whitespace collapsed,
    integral numbers without ``.0``, dates ISO; empty → NA."""
    text = {}
    numeric = {}
    for j in grid.columns:  # a sheet has a handful of columns
        col = grid[j]
        is_num = col.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)).astype(bool)
        nums = pd.to_numeric(col.where(is_num), errors="coerce")
        integral = is_num & (nums == np.round(nums))
        rendered = col.map(
            lambda v: v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else (None if v is None else str(v))
        ).astype("string")
        rendered = rendered.mask(integral, nums.where(integral).astype("Int64").astype("string"))
        rendered = rendered.str.replace(r"\s+", " ", regex=True).str.strip()
        text[j] = rendered.mask(rendered == "")
        numeric[j] = is_num
    return pd.DataFrame(text), pd.DataFrame(numeric)


_HEADER_NAME = re.compile(r"^(kecamatan|subdistrict|sub-district|district)\b", re.IGNORECASE)
_COLUMN_NUMBER = re.compile(r"^\(\d+\)$")
_FOOTNOTE = re.compile(r"^(sumber|source|catatan|note|notes|keterangan)\b", re.IGNORECASE)
_TOTAL = re.compile(r"^(jumlah|total|kabupaten|kab\.)(?=\W|$)", re.IGNORECASE)
_KABUPATEN_IN_TITLE = re.compile(
    r"\bdi\s+((?:kabupaten|kab\.?|kota)\s+[^,()\d]+?)\s*(?:[,(]|\b(?:19|20)\d{2}\b|$)", re.IGNORECASE
)


def _extract_dalam_angka(path, display_path, regions, scope, config, limits):
    sheets = xlsx_sheet_names(path, display_path, limits=limits)
    parts: list[pd.DataFrame] = []
    warnings: list[str] = []
    rows_read = 0
    matched_any = False
    for sheet in sheets:  # a workbook has a few sheets
        cells = read_xlsx_cells(path, display_path, sheet, limits=limits)
        if not cells or not any(any(v is not None for v in row) for row in cells):
            continue
        width = max(len(r) for r in cells)
        grid = pd.DataFrame([list(r) + [None] * (width - len(r)) for r in cells], dtype=object)
        result = _read_sheet(path, display_path, sheet, grid, regions, scope, config, row_offset=rows_read,
                             limits=limits)
        if result is None:
            continue
        entries, n_rows, sheet_warnings, matched = result
        warnings.extend(sheet_warnings)
        matched_any |= matched
        if entries is not None:
            parts.append(entries)
            rows_read += n_rows
    if not matched_any:
        raise UnreadableFile(
            display_path,
            "no sheet of this workbook is a Dalam Angka table listed in stats_sources.yaml "
            f"(sheets: {', '.join(sheets)})",
        )
    entries = pd.concat(parts, ignore_index=True) if parts else _entries(0)
    return entries, rows_read, warnings


def _read_sheet(path, display_path, sheet, grid, regions, scope, config, row_offset, limits):
    text, is_num = _cell_text(grid)
    n_rows, n_cols = text.shape
    lines = np.arange(1, n_rows + 1)

    # the header: the first cell that says "Kecamatan"
    header_hits = text.apply(lambda c: c.str.match(_HEADER_NAME).fillna(False).astype(bool))
    hit_rows = np.flatnonzero(header_hits.any(axis=1).to_numpy())
    above = text.iloc[: hit_rows[0] if hit_rows.size else min(n_rows, 6)]
    title = " ".join(above.stack().dropna().astype(str).tolist())
    mapping = next((m for m in config.get("dalam_angka", []) if m["_regex"].search(title)), None)
    if mapping is None:
        return None if not title else (None, 0, [f"sheet {sheet!r} skipped: its title matches no Dalam Angka table in "
                                                 f"stats_sources.yaml ({title[:100]!r})"], False)
    if not hit_rows.size:  # e.g. a table of contents naming the table
        return (None, 0, [f"sheet {sheet!r} skipped: its text mentions {mapping['indikator']} but it has no "
                          "'Kecamatan' header (not a table by kecamatan)"], False)
    header_row = int(hit_rows[0])
    name_col = int(np.flatnonzero(header_hits.iloc[header_row].to_numpy())[0])
    indikator = mapping["indikator"]
    indicator = config["indicators"][indikator]
    satuan = mapping.get("satuan") or indicator.get("satuan")

    # rows below the header: header continuation until the first named row
    names = text[name_col]
    below = pd.Series(np.arange(n_rows) > header_row)
    header_like = _flag(names.str.match(_HEADER_NAME)) | _flag(names.str.match(_COLUMN_NUMBER))
    named = below & names.notna() & ~header_like
    if not named.any():
        return (None, 0, [f"sheet {sheet!r}: no kecamatan row below the header"], True)
    first_data = int(np.flatnonzero(named.to_numpy())[0])
    header_rows = list(range(header_row, first_data))

    # header labels per column, merged cells spread over their range
    header = text.iloc[header_rows].copy()
    try:
        merges = xlsx_merged_ranges(path, display_path, sheet, limits=limits)
    except UnreadableFile:  # merges are a help for labels, never a reason to fail
        merges = []
    for (r0, c0), (r1, c1) in merges:
        if r0 in header.index and text.iat[r0, c0] is not pd.NA:
            for r in range(r0, r1 + 1):
                if r in header.index:
                    header.loc[r, c0:c1] = text.iat[r0, c0]
    numbering = header.apply(lambda c: c.str.match(_COLUMN_NUMBER)).fillna(True).astype(bool).all(axis=1)
    header = header[~numbering.to_numpy()]
    value_cols = [j for j in range(name_col + 1, n_cols) if header[j].notna().any()]

    # which value columns to read, with their year and dimensions
    title_years = _YEAR.findall(title)
    title_year = title_years[-1] if title_years else None
    columns_map = {_norm_label(k): v for k, v in (mapping.get("columns") or {}).items()}
    specs = []  # (col, year, jk, ku, label)
    for j in value_cols:
        labels = [_norm_label(v) for v in header[j].dropna().tolist()]
        years = [y for lab in labels for y in _YEAR.findall(lab)]
        year = years[-1] if years else title_year
        label = " / ".join(header[j].dropna().astype(str).tolist())
        if columns_map:
            dims = next(
                (columns_map[k] for lab in reversed(labels) for k in columns_map if lab.startswith(k)), None
            )
            if dims is None:
                continue
            dims = {} if dims == "total" else dims
            specs.append((j, year, dims.get("jenis_kelamin"), dims.get("kelompok_umur"), label))
        elif mapping.get("value_column"):
            if any(re.search(mapping["value_column"], lab, re.IGNORECASE) for lab in labels):
                specs.append((j, year, None, None, label))
        else:
            specs.append((j, year, None, None, label))
    if not specs:
        raise UnreadableFile(display_path, f"sheet {sheet!r}: no value column for {indikator} in the header")
    if not columns_map and len(specs) > 1:
        own_years = [s[1] for s in specs]
        col_years = [bool(_YEAR.search(s[4])) for s in specs]
        if not all(col_years) or len(set(own_years)) != len(own_years):
            raise UnreadableFile(
                display_path,
                f"sheet {sheet!r}: several value columns ({'; '.join(s[4] for s in specs)}) without distinct years; "
                "name the one to read with `value_column` in stats_sources.yaml",
            )

    # classify the rows below the header
    body = pd.Series(np.arange(n_rows) >= first_data)
    first_text = text.bfill(axis=1).iloc[:, 0] if n_cols else pd.Series(pd.NA, index=range(n_rows))
    footnote_start = body & first_text.str.match(_FOOTNOTE).fillna(False).astype(bool)
    in_footnote = footnote_start.cumsum() > 0
    blank = text.isna().all(axis=1)
    total_row = body & ~in_footnote & names.str.match(_TOTAL).fillna(False).astype(bool)
    kec_row = body & ~in_footnote & ~blank & ~total_row
    footnotes = first_text[in_footnote & body].dropna()
    sumber_lines = footnotes[footnotes.str.match(r"^(sumber|source)", case=False)]
    sumber = (
        sumber_lines.iloc[0].split(":", 1)[-1].strip() if len(sumber_lines) and ":" in sumber_lines.iloc[0]
        else (sumber_lines.iloc[0] if len(sumber_lines) else None)
    )
    sumber = sumber or f"BPS, Dalam Angka: {title[:200]}"

    kec_idx = np.flatnonzero(kec_row.to_numpy())
    n_kec = kec_idx.size
    kec_names = names.iloc[kec_idx].reset_index(drop=True)

    # the kabupaten of the sheet, then the kecamatan names within it
    region = _resolve_sheet_kecamatan(regions, scope, title, kec_names, sheet)

    warnings: list[str] = []
    pieces = []
    for j, year, jk, ku, label in specs:
        raw = grid[j]
        value, state = _parse_indonesian_numbers(raw, is_num[j])
        v = value.iloc[kec_idx].reset_index(drop=True)
        s = state.iloc[kec_idx].reset_index(drop=True)
        shown = text[j].iloc[kec_idx].reset_index(drop=True)
        cell_refs = pd.Series([f"{sheet}!{_col_letter(j)}{r + 1}" for r in kec_idx], dtype="string")
        name_refs = pd.Series([f"{sheet}!{_col_letter(name_col)}{r + 1}" for r in kec_idx], dtype="string")
        pieces.append(
            _entries(
                n_kec,
                row=row_offset + np.arange(n_kec),
                line=lines[kec_idx],
                kode_wilayah=region["kode"],
                region_rule=region["rule"],
                region_message=region["message"],
                region_value=kec_names,
                tahun_raw=year,
                indikator=indikator,
                jk_raw=jk,
                ku_raw=ku,
                nilai=v,
                nilai_state=s,
                nilai_raw=shown,
                satuan=satuan,
                sumber=sumber,
                ref_kode=name_refs,
                ref_tahun=cell_refs,
                ref_indikator=cell_refs,
                ref_jk=cell_refs,
                ref_ku=cell_refs,
                ref_nilai=cell_refs,
            )
        )
        # the Jumlah/Total row: not data, a check
        totals = value[total_row & (state == "ok")]
        kec_ok = v[s == "ok"]
        if len(totals) and len(kec_ok):
            total = float(totals.iloc[0])
            how = mapping.get("total_check") or ("range" if indicator.get("scale") == "percent" else "sum")
            where = f"sheet {sheet!r}, column {label!r}"
            if how == "sum":
                summed = float(kec_ok.sum())
                if abs(summed - total) > config["total_tolerance"] * abs(total) or (total == 0 and summed != 0):
                    gap = abs(summed - total) / abs(total) * 100 if total else float("inf")
                    warnings.append(
                        f"{where}: the Jumlah row ({total:g}) differs from the sum of the kecamatan rows "
                        f"({summed:g}) by {gap:.2f} %"
                    )
            elif how == "range":
                lo, hi = float(kec_ok.min()), float(kec_ok.max())
                if not (lo - 1e-9 <= total <= hi + 1e-9):
                    warnings.append(
                        f"{where}: the Jumlah row ({total:g}) lies outside the range of the kecamatan rows "
                        f"({lo:g}–{hi:g})"
                    )
    entries = pd.concat(pieces, ignore_index=True)
    return entries, n_kec, warnings, True


def _resolve_sheet_kecamatan(regions, scope, title, names: pd.Series, sheet) -> pd.DataFrame:
    n = len(names)
    out = pd.DataFrame(
        {
            "kode": pd.Series(pd.NA, index=range(n), dtype="string"),
            "rule": pd.Series(pd.NA, index=range(n), dtype="string"),
            "message": pd.Series(pd.NA, index=range(n), dtype="string"),
        }
    )
    kab_match = _KABUPATEN_IN_TITLE.search(title)
    kabupaten = None
    if kab_match:
        kab = regions.resolve_kabupaten(pd.Series([kab_match.group(1).strip()], dtype="string"))
        kab_rule = kab["rule"].iloc[0]
        if pd.notna(kab_rule):
            out["rule"] = str(kab_rule)
            out["message"] = f"sheet {sheet!r} is about {kab_match.group(1).strip()!r}: {kab['message'].iloc[0]}"
            return out
        kabupaten = str(kab["kode"].iloc[0])
        inside = bool(pd.Series(regions.in_scope(pd.Series([kabupaten], dtype="string"), scope)).fillna(False).iloc[0])
        if not inside:
            out["rule"] = "out_of_scope"
            out["message"] = (
                f"sheet {sheet!r} is about {kab_match.group(1).strip()} ({kabupaten}), outside the scope {scope}"
            )
            return out
    missing = names.isna()
    out.loc[missing, "rule"] = "missing_field"
    out.loc[missing, "message"] = "kecamatan name is empty"
    if (~missing).any():
        idx = missing[~missing].index
        kab_series = None if kabupaten is None else pd.Series([kabupaten] * len(idx), dtype="string")
        res = regions.resolve_kecamatan(names[idx].reset_index(drop=True), scope, kabupaten=kab_series)
        for name in ("kode", "rule", "message"):
            out.loc[idx, name] = res[name].astype("string").to_numpy()
    return out
