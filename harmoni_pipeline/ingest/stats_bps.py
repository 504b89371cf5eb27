"""Statistics from the BPS WebAPI JSON layout: ``datacontent`` keys decoded against the
body's vervar, var, turvar, tahun and turtahun lists.

Room: the BPS JSON extractor of :mod:`harmoni_pipeline.ingest.stats`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from harmoni_pipeline.ingest.common import UnreadableFile
from harmoni_pipeline.ingest.stats_common import (
    _NOT_AVAILABLE,
    _entries,
    _flag,
    _norm_label,
    _parse_plain_numbers,
)



def _as_list(body: dict, key: str, display_path: str, required: bool = True) -> list[dict]:
    value = body.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) and "val" in v for v in value):
        raise UnreadableFile(
            display_path, f"not a BPS WebAPI list/model/data body: '{key}' is not a list of {{val, label}}"
        )
    return value


def _object_text(values: pd.Series) -> pd.Series:
    """JSON values as text (``None`` → NA; numbers as Python writes them)."""
    return values.map(lambda v: None if v is None or (isinstance(v, float) and v != v) else str(v)).astype("string")


def _extract_bps_json(path, display_path, regions, scope, config):
    try:
        body = json.loads(Path(path).read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, or an integer of > 4,300 digits
        raise UnreadableFile(display_path, f"invalid JSON: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise UnreadableFile(display_path, "invalid JSON: nested too deeply") from None
    if not isinstance(body, dict):
        raise UnreadableFile(display_path, "not a BPS WebAPI body: the JSON is not an object")
    status = str(body.get("status", "")).upper()
    if status and status != "OK":
        raise UnreadableFile(display_path, f"BPS WebAPI error body: status {body.get('status')!r}")
    availability = str(body.get("data-availability", "available"))
    if availability != "available" and not body.get("datacontent"):
        return _entries(0), 0, [f"BPS WebAPI body without data (data-availability: {availability})"]
    if "datacontent" not in body or not isinstance(body["datacontent"], dict):
        raise UnreadableFile(display_path, "not a BPS WebAPI list/model/data body: no 'datacontent' object")
    variables = _as_list(body, "var", display_path)
    vervar = _as_list(body, "vervar", display_path)
    tahun = _as_list(body, "tahun", display_path)
    turvar = _as_list(body, "turvar", display_path, required=False) or [{"val": 0, "label": "Tidak ada"}]
    turtahun = _as_list(body, "turtahun", display_path, required=False) or [{"val": 0, "label": "Tahun"}]
    if not variables:
        raise UnreadableFile(display_path, "not a BPS WebAPI list/model/data body: 'var' is empty")

    content = body["datacontent"]
    keys = pd.Series(list(content.keys()), dtype="string")
    values = pd.Series(list(content.values()), dtype=object)
    n = len(keys)

    # every combination of the body's dimensions and the key it would have
    def frame_of(items, prefix):
        return pd.DataFrame(
            {
                f"{prefix}_val": [str(i["val"]) for i in items],
                f"{prefix}_label": [str(i.get("label", "")) for i in items],
                **({f"{prefix}_unit": [str(i.get("unit") or "") for i in items]} if prefix == "var" else {}),
            }
        )

    combos = frame_of(vervar, "vervar")
    for items, prefix in ((variables, "var"), (turvar, "turvar"), (tahun, "tahun"), (turtahun, "turtahun")):
        combos = combos.merge(frame_of(items, prefix), how="cross")
    combos["key"] = (
        combos["vervar_val"] + combos["var_val"] + combos["turvar_val"] + combos["tahun_val"] + combos["turtahun_val"]
    )
    ambiguous_keys = set(combos.loc[combos["key"].duplicated(keep=False), "key"])
    combos = combos.drop_duplicates("key", keep="first")
    matched = pd.DataFrame({"key": keys}).merge(combos, on="key", how="left")
    found = matched["vervar_val"].notna()

    pre_rule = pd.Series(pd.NA, index=range(n), dtype="string")
    pre_message = pd.Series(pd.NA, index=range(n), dtype="string")
    unmatched = ~found
    pre_rule[unmatched] = "invalid_value"
    pre_message[unmatched] = "datacontent key matches no vervar·var·turvar·tahun·turtahun combination of the body"
    amb = keys.isin(ambiguous_keys).fillna(False).astype(bool)
    pre_rule[amb] = "invalid_value"
    pre_message[amb] = "datacontent key matches several vervar·var·turvar·tahun·turtahun combinations"

    # the variable → indicator
    vervar_codes = matched["vervar_val"].astype("string")
    domains = {str(v["val"])[:4] for v in vervar if len(str(v["val"])) == 7}
    domain = domains.pop() if len(domains) == 1 else None
    var_entries = {}
    for entry in config.get("bps_webapi", []):
        if entry.get("domain") not in (None, domain):
            continue
        var_entries.setdefault(str(entry["var"]), entry)
    var_ids = matched["var_val"].astype("string")
    mapped_var = var_ids.isin(list(var_entries)).fillna(False).astype(bool)
    unmapped = found & ~mapped_var & pre_rule.isna()
    pre_rule[unmapped] = "invalid_value"
    where = f"domain {domain}" if domain else "vervar codes of several BPS domains"
    pre_message[unmapped] = (
        "BPS variable " + var_ids[unmapped].fillna("") + f" ({where}) is not mapped to an indicator "
        "in stats_sources.yaml"
    )
    indikator = var_ids.map({k: e["indikator"] for k, e in var_entries.items()}).astype("string")
    satuan = var_ids.map({k: e.get("satuan") for k, e in var_entries.items()}).astype("string")
    default_unit = {k: v.get("satuan") for k, v in config["indicators"].items()}
    satuan = satuan.fillna(indikator.map(default_unit).astype("string"))

    # turvar → dimensions
    jk = pd.Series(pd.NA, index=range(n), dtype="string")
    ku = pd.Series(pd.NA, index=range(n), dtype="string")
    turvar_label = matched["turvar_label"].map(_norm_label, na_action="ignore").astype("string")
    turvar_ok = pd.Series(False, index=range(n))
    for var_id, entry in var_entries.items():
        rows = (var_ids == var_id).fillna(False).astype(bool)
        table = entry.get("turvar")
        if not table:
            turvar_ok |= rows & _flag((matched["turvar_val"] == "0") | (turvar_label == "tidak ada"))
            continue
        table = {_norm_label(k): v for k, v in table.items()}
        for label, dims in table.items():
            hit = rows & (turvar_label == label).fillna(False).astype(bool)
            turvar_ok |= hit
            if isinstance(dims, dict):
                jk[hit] = dims.get("jenis_kelamin", pd.NA)
                ku[hit] = dims.get("kelompok_umur", pd.NA)
    bad_turvar = found & mapped_var & ~turvar_ok & pre_rule.isna()
    pre_rule[bad_turvar] = "invalid_value"
    pre_message[bad_turvar] = (
        "turvar '" + matched["turvar_label"].astype("string").fillna("")[bad_turvar]
        + "' of this variable is not mapped in stats_sources.yaml"
    )

    # turtahun: the annual value, else the configured sub-annual period, else the only one
    tt_label = matched["turtahun_label"].map(_norm_label, na_action="ignore").astype("string")
    annual = ((matched["turtahun_val"] == "0") | tt_label.isin(["tahun", "tahunan"])).fillna(False).astype(bool)
    chosen = annual.copy()
    for var_id, entry in var_entries.items():
        wanted = {_norm_label(t) for t in entry.get("turtahun", []) or []}
        if wanted:
            chosen |= ((var_ids == var_id) & tt_label.isin(wanted)).fillna(False).astype(bool)
    if len(turtahun) == 1:
        chosen |= found
    bad_tt = found & ~chosen & pre_rule.isna()
    pre_rule[bad_tt] = "invalid_value"
    pre_message[bad_tt] = (
        "turtahun '" + matched["turtahun_label"].astype("string").fillna("")[bad_tt]
        + "' is not the period used for this variable (the annual one, else the `turtahun` "
        "named in stats_sources.yaml)"
    )

    # region: BPS 7-digit kecamatan code → Kemendagri (2020 bridge), then the scope
    kode = pd.Series(pd.NA, index=range(n), dtype="string")
    region_rule = pd.Series(pd.NA, index=range(n), dtype="string")
    region_message = pd.Series(pd.NA, index=range(n), dtype="string")
    seven = vervar_codes.str.fullmatch(r"\d{7}").fillna(False).astype(bool)
    region_rule[found & ~seven] = "unknown_region"
    region_message[found & ~seven] = (
        "vervar " + vervar_codes[found & ~seven].fillna("") + " is not a 7-digit BPS kecamatan code"
    )
    if seven.any():
        idx = seven[seven].index
        res = regions.resolve_wilayah_code(vervar_codes[idx].reset_index(drop=True), scope)
        kode[idx] = res["kode"].astype("string").to_numpy()
        region_rule[idx] = res["rule"].astype("string").to_numpy()
        region_message[idx] = res["message"].astype("string").to_numpy()

    # values (numbers, or numbers as strings)
    is_number = values.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))
    as_text = _object_text(values.where(~is_number, None)).str.strip()
    nilai = pd.to_numeric(values.where(is_number), errors="coerce").astype("float64")
    text_value, text_state = _parse_plain_numbers(as_text)
    nilai = nilai.fillna(text_value)
    state = text_state.mask(is_number & np.isfinite(nilai), "ok")
    state = state.mask(as_text.str.casefold().isin(_NOT_AVAILABLE).fillna(False).astype(bool), "na")
    state = state.mask((values.isna() | (as_text == "")).fillna(False).astype(bool) & ~is_number, "missing")
    nilai_raw = _object_text(values)

    th = pd.to_numeric(matched["tahun_val"], errors="coerce")
    tahun_raw = (th + 1900).astype("Int64").astype("string")
    label_year = pd.to_numeric(matched["tahun_label"].str.extract(r"^\s*(\d{4})\s*$", expand=False), errors="coerce")
    warnings = []
    disagree = (label_year.notna() & th.notna() & (label_year != th + 1900)).fillna(False).astype(bool)
    if disagree.any():
        warnings.append(f"{int(disagree.sum())} entries: the tahun label differs from th + 1900; th + 1900 is used")
    var_label = matched["var_label"].astype("string").fillna("")
    sumber = "BPS WebAPI var " + var_ids.fillna("?") + (" (" + var_label + ")").where(var_label != "", "")

    entries = _entries(
        n,
        row=np.arange(n),
        line=pd.NA,
        kode_wilayah=kode,
        region_rule=region_rule,
        region_message=region_message,
        region_value=vervar_codes,
        tahun_raw=tahun_raw,
        indikator=indikator,
        jk_raw=jk,
        ku_raw=ku,
        nilai=nilai,
        nilai_state=state,
        nilai_raw=nilai_raw,
        satuan=satuan,
        sumber=sumber,
        pre_rule=pre_rule,
        pre_message=pre_message,
        **{f"ref_{f}": keys for f in ("kode", "tahun", "indikator", "jk", "ku", "nilai")},
    )
    return entries, n, warnings
