"""FKDM early-warning reports and their monthly deliveries (data-contracts §3.2).

Room: drawing FKDM reports (place, dates, bidang, ATHG, kualifikasi, a life cycle
baru → terverifikasi → ditangani/eskalasi → selesai, or ditolak), numbering them
``FKDM/<kabupaten>/<year>/<seq>``, and writing what arrives each month in
``fkdm/YYYY-MM/``: a CSV with ``kode_desa`` from the FKDM secretariat and an XLSX "rekap"
from kecamatan forums — with kecamatan/desa *names* in a kabupaten scope, with a ``Kode
Desa`` column in wider scopes (an FKDM table has no kabupaten column, so names would be
resolved within the scope, where a province repeats many of them). The distinct reports
are split exactly 80 % CSV, 20 % XLSX (``XLSX_SHARE``, by report count). A report is sent in the month it is
reported and **re-sent** in every later month in which its status changed (new
``tgl_tindak_lanjut``/``tgl_selesai``). Hot-spot kecamatan (low vigilance profile) report
more and graver events, so red alerts (merah1/merah2 with a recent ``tgl_kejadian``)
appear in some kecamatan and months, not everywhere. ``ringkasan`` sometimes names a
person (planted personal data).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from harmoni_pipeline.periods import shift
from harmoni_pipeline.sample import defects as D
from harmoni_pipeline.sample import people
from harmoni_pipeline.sample.batch import Batch
from harmoni_pipeline.sample.context import (
    REPORTS_PER_KECAMATAN_MONTH,
    WIDE_SCOPE_DEFAULT_REPORTS,
    SampleContext,
    days_in_month,
    month_start_unix,
)
from harmoni_pipeline.sample.people import join, pad
from harmoni_pipeline.sample.writer import LandingWriter, write_table

BIDANG = ["ideologi", "politik", "ekonomi", "sosial-budaya", "pertahanan-keamanan", "sara", "lingkungan"]
BIDANG_TEXT = ["Ideologi", "Politik", "Ekonomi", "Sosial Budaya", "Pertahanan Keamanan", "SARA", "Lingkungan"]
BIDANG_P = [0.05, 0.15, 0.15, 0.25, 0.20, 0.08, 0.12]
ATHG = ["A", "T", "H", "G"]
ATHG_WORDS = ["Ancaman", "Tantangan", "Hambatan", "Gangguan"]
ATHG_P = [0.2, 0.25, 0.25, 0.3]
KUALIFIKASI = ["hijau", "kuning", "merah1", "merah2"]
KUALIFIKASI_TEXT = ["Hijau", "Kuning", "Merah 1", "Merah 2"]
STATUS = ["baru", "terverifikasi", "ditangani", "selesai", "eskalasi", "ditolak"]
BARU, TERVERIFIKASI, DITANGANI, SELESAI, ESKALASI, DITOLAK = range(6)
#: share of the distinct reports sent in an XLSX rekap (the rest: CSV with codes), exact
XLSX_SHARE = 0.2

TEMPLATES = {
    "ideologi": ["Ditemukan selebaran berisi ajakan menolak Pancasila di sekitar balai Desa {desa}.",
                 "Kelompok pengajian tertutup di Desa {desa} menyebarkan paham yang menolak NKRI."],
    "politik": ["Ketegangan antarpendukung calon kepala desa di Desa {desa} menjelang pilkades.",
                "Pemasangan spanduk provokatif bernada politik di jalan utama Desa {desa}."],
    "ekonomi": ["Warga Desa {desa} mengeluhkan kelangkaan pupuk bersubsidi; sempat terjadi antrean panjang.",
                "Protes warga Desa {desa} terkait penyaluran bantuan sosial yang dinilai tidak merata."],
    "sosial-budaya": ["Perselisihan antarpemuda saat acara hiburan malam di Desa {desa}.",
                      "Keributan antarkelompok suporter di lapangan Desa {desa}."],
    "pertahanan-keamanan": ["Pencurian ternak berulang di Desa {desa}; warga mengaktifkan kembali ronda malam.",
                            "Aksi balap liar dan pemalakan di jalan Desa {desa} meresahkan warga."],
    "sara": ["Penolakan sebagian warga terhadap kegiatan ibadah kelompok lain di Desa {desa}.",
             "Beredar pesan berantai bernada kebencian antarumat beragama di grup warga Desa {desa}."],
    "lingkungan": ["Warga Desa {desa} memprotes pencemaran sungai oleh limbah usaha tahu.",
                   "Sengketa batas lahan garapan antarwarga di Desa {desa} akibat longsor."],
}  # fmt: skip
UPDATE_NOTE = {
    DITANGANI: " Tindak lanjut: dikoordinasikan dengan Forkopimcam.",
    SELESAI: " Selesai: dimediasi di balai desa dan dipantau Babinsa/Bhabinkamtibmas.",
    ESKALASI: " Dieskalasi ke Forkopimda kabupaten.",
    DITOLAK: " Hasil verifikasi: informasi tidak terbukti (hoaks).",
}
FKDM_CSV_HEAD = ["no_laporan", "tgl_lapor", "tgl_kejadian", "kode_desa", "bidang", "jenis_athg", "kualifikasi",
                 "status", "tgl_tindak_lanjut", "tgl_selesai", "ringkasan", "pelapor_nama", "pelapor_hp"]  # fmt: skip
FKDM_XLSX_HEAD = ["No. Laporan", "Tgl Lapor", "Tgl Kejadian", "Kecamatan", "Desa/Kelurahan", "Bidang", "Jenis ATHG",
                  "Kualifikasi", "Status", "Tgl Tindak Lanjut", "Tgl Selesai", "Ringkasan", "Nama Pelapor",
                  "HP Pelapor"]  # fmt: skip
#: the XLSX rekap of a wide scope: one region column, the desa code
FKDM_XLSX_CODE_HEAD = [*FKDM_XLSX_HEAD[:3], "Kode Desa", *FKDM_XLSX_HEAD[5:]]


def default_total(ctx: SampleContext) -> int:
    total = int(round(REPORTS_PER_KECAMATAN_MONTH * ctx.n_kec * len(ctx.periods)))
    return total if ctx.single_kabupaten else min(total, WIDE_SCOPE_DEFAULT_REPORTS)


def _epoch_day(period: str) -> int:
    return month_start_unix(period) // 86400


def draw_reports(ctx: SampleContext, rng: np.random.Generator, kec: np.ndarray, month: np.ndarray) -> Batch:
    """Reports of kecamatan ``kec`` reported in month index ``month`` (life cycle included)."""
    n = len(kec)
    prof = ctx.profiles
    first_day = np.array([_epoch_day(p) for p in ctx.periods], dtype=np.int64)
    ndays = np.array([days_in_month(p) for p in ctx.periods], dtype=np.int64)
    lapor = first_day[month] + (rng.uniform(size=n) * ndays[month]).astype(np.int64)
    kejadian = lapor - np.minimum(rng.geometric(0.45, n) - 1, 25)
    cnt = ctx.desa_count[kec]
    desa = ctx.usable_desa(np.where(cnt > 0, ctx.desa_start[kec] + (rng.uniform(size=n) * cnt).astype(np.int64), -1))
    hot = prof.hot[kec]
    p_merah = 0.01 + 0.30 * hot
    u = rng.uniform(size=n)
    sev = np.where(u < p_merah * 0.3, 3, np.where(u < p_merah, 2, np.where(u < p_merah + 0.3, 1, 0)))
    dv = rng.integers(0, 4, n)
    dtl = dv + np.minimum(rng.geometric(0.18, n), 45)
    ds = dtl + rng.integers(2, 40, n) + np.where(sev >= 2, rng.integers(0, 30, n), 0)
    ditolak = rng.uniform(size=n) < 0.06
    has_selesai = ~ditolak & (rng.uniform(size=n) < 0.8)
    eskalasi = ~ditolak & (sev >= 2) & (rng.uniform(size=n) < 0.35)
    female = rng.uniform(size=n) < 0.3
    _, _, pelapor = people.draw_names(rng, female)
    person_female = rng.uniform(size=n) < 0.4
    _, _, person = people.draw_names(rng, person_female)
    return Batch(
        {
            "kec": kec.astype(np.int64),
            "desa": desa,
            "month": month.astype(np.int64),
            "tgl_lapor": lapor,
            "tgl_kejadian": kejadian,
            "bidang": rng.choice(len(BIDANG), n, p=BIDANG_P),
            "athg": rng.choice(len(ATHG), n, p=ATHG_P),
            "sev": sev,
            "dv": dv,
            "dtl": dtl,
            "ds": np.where(has_selesai, ds, 10**6),
            "ditolak": ditolak,
            "eskalasi": eskalasi,
            "tgl_selesai": lapor + ds,  # only shown once selesai (or planted earlier)
            "status": np.full(n, -1, dtype=np.int64),  # forced status of planted rows
            "template": rng.integers(0, 2, n),
            "pelapor": pelapor,
            "pelapor_hp": people.draw_phones(rng, n),
            "has_pelapor": rng.uniform(size=n) < 0.85,
            "person": person,
            "person_female": person_female,
            "has_person": rng.uniform(size=n) < 0.3,
            "u_render": rng.uniform(size=n),
            "defect_mode": np.zeros(n, dtype=np.int64),
            "kind": np.full(n, D.NO_KIND, dtype=object),
            "copy": np.zeros(n, dtype=bool),
        }
    )


def status_at(b: Batch, day: np.ndarray) -> np.ndarray:
    """Status code of every report at ``day`` (epoch days; broadcast over columns)."""
    rel = np.asarray(day)[None, :] - b["tgl_lapor"][:, None] if np.ndim(day) else day - b["tgl_lapor"]
    lap = (lambda a: a[:, None]) if np.ndim(day) else (lambda a: a)
    status = np.where(rel < lap(b["dv"]), BARU,
             np.where(lap(b["ditolak"]), DITOLAK,
             np.where(rel < lap(b["dtl"]), TERVERIFIKASI,
             np.where(rel >= lap(b["ds"]), SELESAI,
             np.where(lap(b["eskalasi"]) & (rel >= lap(b["dtl"]) + 2), ESKALASI, DITANGANI)))))  # fmt: skip
    return status


def _render_dates(days: np.ndarray, missing: np.ndarray, style: str, impossible: np.ndarray | None = None) -> pa.Array:
    t = np.asarray(days, dtype=np.int64).astype("datetime64[D]")
    y = t.astype("datetime64[Y]")
    mo = t.astype("datetime64[M]")
    Y = y.astype(np.int64) + 1970
    m = (mo - y).astype(np.int64) + 1
    d = (t - mo).astype(np.int64) + 1
    if impossible is not None and impossible.any():
        m, d = np.where(impossible, 11, m), np.where(impossible, 31, d)
    if style == "iso":
        out = join(pad(Y, 4), "-", pad(m, 2), "-", pad(d, 2))
    else:
        out = join(pad(d, 2), "/", pad(m, 2), "/", pad(Y, 4))
    if missing.any():
        out = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), out)
    return out


def _ringkasan(ctx: SampleContext, b: Batch, status: np.ndarray) -> pa.Array:
    n = len(b)
    flat = [t for key in BIDANG for t in TEMPLATES[key]]
    pre = [t.split("{desa}")[0] for t in flat]
    post = [t.split("{desa}")[1] for t in flat]
    idx = pa.array(b["bidang"] * 2 + b["template"])
    desa = np.where(b["desa"] >= 0, b["desa"], 0)
    desa_name = pa.array(ctx.desa_name[desa].astype(str), type=pa.string()) if n else pa.array([], pa.string())
    text = join(pc.take(pa.array(pre), idx), desa_name, pc.take(pa.array(post), idx))
    honor = pc.if_else(pa.array(b["person_female"]), "Ibu", "Bapak")
    named = join(text, " Informasi awal disampaikan oleh ", honor, " ", b["person"], ".")
    text = pc.if_else(pa.array(b["has_person"]), named, text)
    notes = [UPDATE_NOTE.get(s, "") for s in range(6)]
    return join(text, pc.take(pa.array(notes), pa.array(status)))


def _region_columns(ctx, rd: D.RegionDefects, b: Batch, names: bool):
    mode = b["defect_mode"]
    desa = np.where(b["desa"] >= 0, b["desa"], 0)
    if not names:
        code = ctx.desa_code[desa].astype(object)
        for r in np.flatnonzero(mode == 10).tolist():  # planted rows only
            code[r] = _unknown_desa_code(ctx, int(b["kec"][r]))
        if ctx.outside_kecamatan is not None:
            code[mode == 11] = ctx.outside_kecamatan[4]
        code[mode == 4] = None
        return (pa.array(code.tolist(), type=pa.string()),)
    kec_txt = pa.array(ctx.kec_name[b["kec"]].astype(str), type=pa.string())
    u = b["u_render"]
    kec_txt = pc.if_else(pa.array(u < 0.15), join("Kec. ", kec_txt), kec_txt)
    kec_txt = pc.if_else(pa.array((u >= 0.15) & (u < 0.22)), pc.utf8_upper(kec_txt), kec_txt)
    pajarakan = (ctx.kec_code[b["kec"]] == "35.13.16") & (u > 0.6)
    kec_txt = pc.if_else(pa.array(pajarakan), "Pejarakan", kec_txt)
    desa_txt = pa.array(ctx.desa_name[desa].astype(str), type=pa.string())
    prefixed = pc.if_else(pa.array(ctx.desa_is_kelurahan[desa]), join("Kel. ", desa_txt), join("Desa ", desa_txt))
    desa_txt = pc.if_else(pa.array(((u * 5) % 1 < 0.15) | ctx.desa_needs_prefix[desa]), prefixed, desa_txt)
    kec_obj = np.array(kec_txt.to_pylist(), dtype=object)
    desa_obj = np.array(desa_txt.to_pylist(), dtype=object)
    for r in np.flatnonzero(mode == 10).tolist():
        kec_obj[r] = rd.typo(int(b["kec"][r]))
    out = ctx.outside_kecamatan
    if out is not None and (mode == 11).any():
        kec_obj[mode == 11] = out[3]
        desa_obj[mode == 11] = _desa_name(ctx, out[4])
    kec_obj[mode == 4] = None
    return pa.array(kec_obj.tolist(), type=pa.string()), pa.array(desa_obj.tolist(), type=pa.string())


def _desa_name(ctx: SampleContext, code: str) -> str:
    d = ctx.regions.desa
    return str(d.loc[d["kode"] == code, "nama"].iloc[0])


def _unknown_desa_code(ctx: SampleContext, k: int) -> str:
    existing = set(ctx.desa_code[ctx.desa_kec == k])
    kec = ctx.kec_code[k]
    # 2099 downwards first; a kecamatan with a hundred desa has none free there
    candidates = [*range(2099, 2000, -1), *range(9999, 2099, -1)]
    return next(f"{kec}.{n}" for n in candidates if f"{kec}.{n}" not in existing)


def _file_rows(ctx, rng, reports: Batch, snap_idx: np.ndarray, snap_status: np.ndarray, n_dup: int):
    """The rows of one file: report snapshots, plus ``n_dup`` outdated earlier copies of
    some of them (same ``no_laporan``, status ``baru``) placed just before them."""
    rows = reports.take(snap_idx)
    rows["status_now"] = snap_status
    if n_dup > 0:
        clean = np.flatnonzero((rows["kind"] == D.NO_KIND) & (rows["no"] != ""))
        if len(clean):
            pick = rng.choice(clean, min(n_dup, len(clean)), replace=False)
            copies = rows.take(pick)
            copies["status_now"] = np.full(len(copies), BARU, dtype=np.int64)
            copies["copy"] = np.ones(len(copies), dtype=bool)
            copies["kind"] = np.full(len(copies), "fk_duplicate", dtype=object)
            rows = Batch.concat([rows, copies])
    order = np.lexsort((~rows["copy"], rows["seq"], rows["tgl_lapor"]))
    return rows.take(order)


def _render(ctx, rd, rows: Batch, *, names: bool):
    """Column values: pyarrow strings, and dates as (epoch days, missing, impossible) for
    the CSV/XLSX writers to spell."""
    n = len(rows)
    status = rows["status_now"]
    mode = rows["defect_mode"]
    forced = rows["status"] >= 0
    status = np.where(forced, rows["status"], status)
    show_tl = np.isin(status, [DITANGANI, SELESAI, ESKALASI]) & ~rows["copy"]
    show_selesai = (status == SELESAI) & ~rows["copy"]
    tl_day = rows["tgl_lapor"] + rows["dtl"]
    if forced.any():
        show_tl = show_tl & ~forced  # planted "selesai" rows carry only tgl_selesai
    cols = {
        "no": pc.if_else(pa.array(mode == 1), pa.scalar(None, pa.string()), pa.array(rows["no"].tolist(), pa.string())),
        "lapor": (rows["tgl_lapor"], mode == 2, mode == 5),
        "kejadian": (rows["tgl_kejadian"], mode == 3, None),
        "tl": (tl_day, ~show_tl, None),
        "selesai": (rows["tgl_selesai"], ~show_selesai, None),
        "region": _region_columns(ctx, rd, rows, names),
        "status": status,
        "ringkasan": _ringkasan(ctx, rows, status),
        "pelapor": pc.if_else(pa.array(rows["has_pelapor"]), rows["pelapor"], pa.scalar(None, pa.string())),
        "hp": pc.if_else(pa.array(rows["has_pelapor"] & (rows["u_render"] < 0.9)), rows["pelapor_hp"],
                         pa.scalar(None, pa.string())),  # fmt: skip
    }
    if names:
        bidang = pc.take(pa.array(BIDANG_TEXT), pa.array(rows["bidang"]))
        athg = pc.take(pa.array(ATHG_WORDS), pa.array(rows["athg"]))
        athg = pc.if_else(pa.array(rows["u_render"] < 0.2), pc.utf8_lower(athg), athg)
        kual = pc.take(pa.array(KUALIFIKASI_TEXT), pa.array(rows["sev"]))
        kual = pc.if_else(pa.array(rows["u_render"] > 0.93), pc.utf8_upper(kual), kual)
        st = pc.take(pa.array([s.title() for s in STATUS]), pa.array(status))
    else:
        bidang = pc.take(pa.array(BIDANG), pa.array(rows["bidang"]))
        athg = pc.take(pa.array(ATHG), pa.array(rows["athg"]))
        kual = pc.take(pa.array(KUALIFIKASI), pa.array(rows["sev"]))
        kual = pc.if_else(pa.array(rows["u_render"] > 0.95), pc.take(pa.array(KUALIFIKASI_TEXT), pa.array(rows["sev"])), kual)
        st = pc.take(pa.array(STATUS), pa.array(status))
    cols["bidang"] = pc.if_else(pa.array(mode == 7), "kesehatan", bidang)
    cols["athg"] = athg
    cols["kual"] = pc.if_else(pa.array(mode == 6), "oranye", kual)
    cols["st"] = st
    assert len(cols["st"]) == n
    return cols


def _csv_columns(cols, style: str) -> list[pa.Array]:
    def date(key):
        days, missing, impossible = cols[key]
        return _render_dates(days, missing, style, impossible)

    return [cols["no"], date("lapor"), date("kejadian"), cols["region"][0], cols["bidang"], cols["athg"],
            cols["kual"], cols["st"], date("tl"), date("selesai"), cols["ringkasan"], cols["pelapor"], cols["hp"]]  # fmt: skip


def _xlsx_builder(cols, text_dates: np.ndarray, sheet: str):
    """Dates as native Excel dates, except ``text_dates`` rows (typed as DD/MM/YYYY)."""

    def date(key):
        days, missing, impossible = cols[key]
        serial = (np.asarray(days, dtype=np.float64) + 25569.0).tolist()
        text = _render_dates(days, np.zeros(len(days), bool), "dmy", impossible).to_pylist()
        out = [None if missing[i] else (text[i] if (text_dates[i] or (impossible is not None and impossible[i]))
               else serial[i]) for i in range(len(serial))]  # fmt: skip
        return out

    region = [c.to_pylist() for c in cols["region"]]  # (kecamatan, desa) names, or (kode_desa,)
    head = FKDM_XLSX_HEAD if len(region) == 2 else FKDM_XLSX_CODE_HEAD
    columns = [cols["no"].to_pylist(), date("lapor"), date("kejadian"), *region,
               cols["bidang"].to_pylist(), cols["athg"].to_pylist(), cols["kual"].to_pylist(), cols["st"].to_pylist(),
               date("tl"), date("selesai"), cols["ringkasan"].to_pylist(), cols["pelapor"].to_pylist(),
               cols["hp"].to_pylist()]  # fmt: skip

    def build(workbook) -> int:
        ws = workbook.add_worksheet(sheet[:31])
        fmt = workbook.add_format({"num_format": "dd/mm/yyyy"})
        bold = workbook.add_format({"bold": True})
        dates = {i: fmt for i, h in enumerate(head) if h.startswith("Tgl ")}
        return write_table(ws, head, columns, cell_formats=dates, header_format=bold)

    return build


def write_fkdm(ctx: SampleContext, writer: LandingWriter, total: int | None, population_total: np.ndarray) -> int:
    """Write every FKDM delivery of the range; returns the number of distinct reports."""
    total = default_total(ctx) if total is None else int(total)
    rng = ctx.rng("fkdm")
    prof = ctx.profiles
    m_count = len(ctx.periods)
    size = np.sqrt(np.maximum(population_total, 1) / max(population_total.mean(), 1))
    weight = (0.25 + 1.75 * prof.hot) * size
    month_factor = rng.uniform(0.7, 1.3, size=m_count)
    p = np.outer(month_factor, weight)
    counts = rng.multinomial(total, (p / p.sum()).ravel()).reshape(p.shape)
    month, kec = np.nonzero(counts)
    reps = counts[month, kec]
    valid = draw_reports(ctx, rng, np.repeat(kec, reps), np.repeat(month, reps))

    # which reports are sent in an XLSX rekap: exactly XLSX_SHARE of them
    n_xlsx = int(round(XLSX_SHARE * len(valid)))
    valid["channel"] = ctx.rng("fkdm-channel").permutation(np.repeat([1, 0], [n_xlsx, len(valid) - n_xlsx]))

    # defect reports, planned per delivery file from its new reports
    rd = D.RegionDefects(ctx)
    unit = ctx.unit_of_kec[valid["kec"]]
    channel = valid["channel"]
    planted, dups = [], {}
    planner = D.Planner(ctx.rng("fkdm-plan"))
    for mi, period in enumerate(ctx.periods):
        for u, un in enumerate(ctx.units):
            for ch in (0, 1):
                new = np.flatnonzero((valid["month"] == mi) & (unit == u) & (channel == ch))
                drng = ctx.rng("fkdm-defects", period, un.code, ch)
                kinds = planner.kinds(len(new), "fkdm")
                if not len(kinds):
                    continue
                dups[(mi, u, ch)] = int((kinds == "fk_duplicate").sum())
                kinds = kinds[kinds != "fk_duplicate"]
                if not len(kinds):
                    continue
                kk = valid["kec"][new[drng.integers(0, len(new), len(kinds))]]
                bad = draw_reports(ctx, drng, kk, np.full(len(kinds), mi))
                kinds = D.apply_fkdm_defects(ctx, rd, bad, kinds, drng)
                bad["kind"] = kinds.astype(object)
                bad["channel"] = np.full(len(kinds), ch, dtype=np.int64)
                planted.append(bad)
    reports = Batch.concat([valid, *planted])
    n_valid = len(valid)

    # numbering per kabupaten and year of tgl_lapor
    year = reports["tgl_lapor"].astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    kab = ctx.kec_kab[reports["kec"]]
    frame = pd.DataFrame({"kab": kab, "year": year, "lapor": reports["tgl_lapor"],
                          "tie": ctx.rng("fkdm-order").uniform(size=len(reports))})  # fmt: skip
    frame = frame.sort_values(["kab", "year", "lapor", "tie"])
    frame["seq"] = frame.groupby(["kab", "year"], sort=False).cumcount() + 1
    seq = frame["seq"].sort_index().to_numpy()
    kab_digits = pd.Series(kab).str.replace(".", "", regex=False).to_numpy(dtype=object)
    numbers = join("FKDM/", pa.array(kab_digits.astype(str)), "/", pad(year, 4), "/", pad(seq, 4))
    reports["no"] = np.array(numbers.to_pylist(), dtype=object)
    reports["seq"] = seq

    # monthly snapshots: first month, then every month whose status differs
    snap_day = np.array([_epoch_day(shift(p, 1)) - 1 for p in ctx.periods], dtype=np.int64)
    status = status_at(reports, snap_day)  # (reports, months)
    months = np.arange(m_count)[None, :]
    started = months >= reports["month"][:, None]
    changed = np.ones_like(status, dtype=bool)
    changed[:, 1:] = status[:, 1:] != status[:, :-1]
    send = started & ((months == reports["month"][:, None]) | changed)
    send[n_valid:] = months == reports["month"][n_valid:, None]  # planted rows: once
    r_idx, m_idx = np.nonzero(send)
    r_unit = ctx.unit_of_kec[reports["kec"]]
    r_channel = reports["channel"]

    for mi, period in enumerate(ctx.periods):
        in_month = m_idx == mi
        created = dt.datetime.fromisoformat(shift(period, 1) + "-01") - dt.timedelta(hours=10)
        for u, un in enumerate(ctx.units):
            for ch in (0, 1):
                sel = in_month & (r_unit[r_idx] == u) & (r_channel[r_idx] == ch)
                if not sel.any():
                    continue
                frng = ctx.rng("fkdm-file", period, un.code, ch)
                rows = _file_rows(ctx, frng, reports, r_idx[sel], status[r_idx[sel], mi], dups.get((mi, u, ch), 0))
                rules = D.count_rules(rows["kind"])
                cols = _render(ctx, rd, rows, names=bool(ch) and ctx.single_kabupaten)
                for key in ("pelapor", "hp"):
                    writer.add_pii(cols[key])
                writer.add_pii(pc.filter(rows["person"], pa.array(rows["has_person"])))
                if ch == 0:
                    style = "iso" if (mi + u) % 3 != 1 else "dmy"
                    rel = f"fkdm/{period}/laporan_fkdm_{un.slug}_{period}.csv"
                    writer.csv(rel, FKDM_CSV_HEAD, _csv_columns(cols, style), kind="fkdm/csv", rules=rules)
                else:
                    text_dates = frng.uniform(size=len(rows)) < 0.05
                    rel = f"fkdm/{period}/rekap_fkdm_kecamatan_{un.slug}_{period}.xlsx"
                    build = _xlsx_builder(cols, text_dates, f"Rekap {period}")
                    writer.xlsx(rel, build, kind="fkdm/xlsx", created=created, rules=rules)
    return n_valid
