"""Survey cells as text: date-times in the exports' styles, Arrow helpers that blank or
replace cells, and regions written as names or codes the way each channel writes them
(with the region defects of :mod:`harmoni_pipeline.sample.defects`).

Room: text rendering for :mod:`harmoni_pipeline.sample.survey`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from harmoni_pipeline.sample import defects as D
from harmoni_pipeline.sample.batch import Batch
from harmoni_pipeline.sample.context import SampleContext
from harmoni_pipeline.sample.people import join, pad


# --------------------------------------------------------------------------- text helpers


def _components(seconds: np.ndarray) -> dict[str, np.ndarray]:
    t = np.asarray(seconds, dtype=np.int64).astype("datetime64[s]")
    d = t.astype("datetime64[D]")
    mo = t.astype("datetime64[M]")
    y = t.astype("datetime64[Y]")
    sod = (t - d).astype(np.int64)
    return {
        "Y": y.astype(np.int64) + 1970,
        "m": (mo - y).astype(np.int64) + 1,
        "d": (d - mo).astype(np.int64) + 1,
        "H": sod // 3600,
        "M": sod // 60 % 60,
        "S": sod % 60,
    }


def format_datetime(seconds: np.ndarray, style: str, impossible: np.ndarray | None = None) -> pa.Array:
    """Timestamp text for naive clock seconds. ``impossible`` rows get the 31st of
    November of their year in the same style (a date that does not exist)."""
    c = _components(seconds)
    if impossible is not None and impossible.any():
        c["m"] = np.where(impossible, 11, c["m"])
        c["d"] = np.where(impossible, 31, c["d"])
    Y, m, d = pad(c["Y"], 4), pad(c["m"], 2), pad(c["d"], 2)
    H, M, S = pad(c["H"], 2), pad(c["M"], 2), pad(c["S"], 2)
    if style == "gf_ymd":
        return join(Y, "/", m, "/", d, " ", H, ":", M, ":", S, " GMT+7")
    if style == "gf_dmy":
        return join(d, "/", m, "/", Y, " ", H, ":", M, ":", S)
    if style == "gf_dmy_dot":
        return join(d, "/", m, "/", Y, " ", H, ".", M, ".", S)
    if style == "gf_us":
        h12 = (c["H"] + 11) % 12 + 1
        ampm = pc.if_else(pa.array(c["H"] < 12), "AM", "PM")
        return join(pad(c["m"], 1), "/", pad(c["d"], 1), "/", Y, " ", pad(h12, 1), ":", M, ":", S, " ", ampm)
    if style == "iso_offset":
        return join(Y, "-", m, "-", d, "T", H, ":", M, ":", S, "+07:00")
    if style == "iso_space":
        return join(Y, "-", m, "-", d, " ", H, ":", M, ":", S)
    if style == "iso_naive":
        return join(Y, "-", m, "-", d, "T", H, ":", M, ":", S)
    if style == "iso_ms_offset":
        ms = pad((np.asarray(seconds) * 7919) % 1000, 3)  # deterministic milliseconds
        return join(Y, "-", m, "-", d, "T", H, ":", M, ":", S, ".", ms, "+07:00")
    raise ValueError(style)


def _null_where(arr: pa.Array, mask: np.ndarray) -> pa.Array:
    if not mask.any():
        return arr
    return pc.if_else(pa.array(mask), pa.scalar(None, arr.type), arr)


def _set_where(arr: pa.Array, mask: np.ndarray, values) -> pa.Array:
    if not mask.any():
        return arr
    if not isinstance(values, (pa.Array, pa.Scalar)):
        values = pa.array(values, type=pa.string()) if isinstance(values, (list, np.ndarray)) else pa.scalar(values, pa.string())
    return pc.if_else(pa.array(mask), values, arr)


def _lookup(values: list[str | None], idx: np.ndarray) -> pa.Array:
    return pc.take(pa.array(values, type=pa.string()), pa.array(np.asarray(idx, dtype=np.int64)))


# --------------------------------------------------------------------------- regions as text


def _kecamatan_names(ctx: SampleContext, kec: np.ndarray, u: np.ndarray) -> pa.Array:
    """Kecamatan names as respondents type them: mostly as listed, sometimes upper or
    lower case with stray spaces, ``Kec.`` in front, and ``Pejarakan`` for Pajarakan."""
    names = pa.array(ctx.kec_name[kec].astype(str), type=pa.string())
    upper, lower = pc.utf8_upper(names), join(pc.utf8_lower(names), " ")
    prefixed = join("Kec. ", names)
    out = names
    out = pc.if_else(pa.array(u < 0.05), upper, out)
    out = pc.if_else(pa.array((u >= 0.05) & (u < 0.09)), lower, out)
    out = pc.if_else(pa.array((u >= 0.09) & (u < 0.16)), prefixed, out)
    pajarakan = (ctx.kec_code[kec] == "35.13.16") & (u >= 0.5)
    return _set_where(out, pajarakan, "Pejarakan")


def _desa_names(ctx: SampleContext, desa: np.ndarray, u: np.ndarray) -> pa.Array:
    valid = desa >= 0
    idx = np.where(valid, desa, 0)
    names = pa.array(ctx.desa_name[idx].astype(str), type=pa.string())
    kel = ctx.desa_is_kelurahan[idx]
    prefixed = pc.if_else(pa.array(kel), join("Kel. ", names), join("Desa ", names))
    out = names
    out = pc.if_else(pa.array(u < 0.06), pc.utf8_upper(names), out)
    out = pc.if_else(pa.array((u >= 0.06) & (u < 0.1)), join(" ", pc.utf8_lower(names)), out)
    out = pc.if_else(pa.array((u >= 0.1) & (u < 0.22)), prefixed, out)
    out = pc.if_else(pa.array(ctx.desa_needs_prefix[idx]), prefixed, out)
    return _null_where(out, ~valid)


def _kabupaten_names(ctx: SampleContext, kec: np.ndarray, u: np.ndarray) -> pa.Array:
    """``Kabupaten Probolinggo``, ``Kab. Probolinggo``, upper case, the code ``35.13``, or
    the bare ``Probolinggo`` (which Kota Probolinggo shares: the kecamatan decides)."""
    kab = ctx.kec_kab[kec]
    full = pa.array(ctx.kec_kab_name[kec].astype(str), type=pa.string())
    short = pc.replace_substring_regex(full, r"^Kabupaten ", "Kab. ")
    bare = pc.replace_substring_regex(full, r"^(Kabupaten|Kota) ", "")
    out = full
    out = pc.if_else(pa.array(u < 0.3), short, out)
    out = pc.if_else(pa.array((u >= 0.3) & (u < 0.38)), pc.utf8_upper(short), out)
    out = pc.if_else(pa.array((u >= 0.38) & (u < 0.43)), pa.array(kab.astype(str), type=pa.string()), out)
    out = pc.if_else(pa.array((u >= 0.43) & (u < 0.46) & ctx.kec_bare_kab_ok[kec]), bare, out)
    return out


def _regions_as_names(ctx: SampleContext, rd: D.RegionDefects, b: Batch) -> tuple[pa.Array, pa.Array, pa.Array]:
    """(Kabupaten/Kota, Kecamatan, Desa/Kelurahan) text for Google Forms rows."""
    kec, mode, u, u2 = b["kec"], b["region_mode"], b["u_render"], b["u_render2"]
    kab_txt = _kabupaten_names(ctx, kec, u2)
    kec_txt = _kecamatan_names(ctx, kec, u)
    desa = np.where(mode == 3, b["alt_desa"], b["desa"])
    desa_txt = _desa_names(ctx, desa, (u * 7.0) % 1.0)
    if mode.any():
        kec_txt = _null_where(kec_txt, mode == 1)
        kec_txt = _replace_rows(kec_txt, mode == 2, [rd.typo(int(k)) for k in kec[mode == 2]])
        out = ctx.outside_kecamatan
        if out is not None and (mode == 4).any():
            m4 = mode == 4
            kab_txt = _set_where(kab_txt, m4, out[1])
            kec_txt = _set_where(kec_txt, m4, out[3])
            outside_desa = ctx.regions.desa.set_index("kode")["nama"].get(out[4])
            desa_txt = _set_where(desa_txt, m4, str(outside_desa))
        kab_txt = _null_where(kab_txt, mode == 6)
    return kab_txt, kec_txt, desa_txt


def _replace_rows(arr: pa.Array, mask: np.ndarray, values: list[str]) -> pa.Array:
    """``arr`` with the rows of ``mask`` replaced by ``values`` (one per masked row)."""
    if not mask.any():
        return arr
    return pc.replace_with_mask(arr, pa.array(mask), pa.array(values, type=arr.type))


def _region_codes(ctx: SampleContext, rd: D.RegionDefects, b: Batch, sep: str) -> tuple[pa.Array, pa.Array]:
    """(kecamatan code, desa code) text with ``sep`` between segments (``.`` or ``_``)."""
    kec, mode = b["kec"], b["region_mode"]
    kec_code = ctx.kec_code[kec].astype(object)
    desa = np.where(mode == 3, b["alt_desa"], b["desa"])
    desa_code = np.where(desa >= 0, ctx.desa_code[np.maximum(desa, 0)], None).astype(object)
    if mode.any():
        kec_code = kec_code.copy()
        for r in np.flatnonzero(mode == 2).tolist():
            kec_code[r] = rd.unknown_code(int(kec[r]))
            desa_code[r] = None
        out = ctx.outside_kecamatan
        if out is not None:
            kec_code[mode == 4] = out[2]
            desa_code[mode == 4] = out[4]
        kec_code[mode == 1] = None
    kec_arr = pa.array(kec_code.tolist(), type=pa.string())
    desa_arr = pa.array(desa_code.tolist(), type=pa.string())
    if sep != ".":
        kec_arr = pc.replace_substring(kec_arr, ".", sep)
        desa_arr = pc.replace_substring(desa_arr, ".", sep)
    return kec_arr, desa_arr
