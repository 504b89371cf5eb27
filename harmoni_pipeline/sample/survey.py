"""Survey responses and their three export formats (data-contracts §3.1).

Room: drawing survey respondents (kecamatan, desa, sex, age, timestamps, personal data)
and their 45 Likert answers from the kecamatan profiles, and rendering them as the files
that arrive in ``survey/YYYY-MM/``:

- **Google Forms** CSV — kecamatan/desa/kabupaten as *names* (with case, ``Kec.``/``Desa``
  prefixes and the ``Pejarakan`` spelling), answers as labels in varying case, one
  Sheets timestamp style per file, and *cumulative*: the export of month M holds every
  response of the form since the first month (re-formatted each time);
- **KoboToolbox** XLSX (native datetime cells for ``start``/``end``, ``_submission_time``
  in UTC) and Kobo ``;`` CSV;
- **canonical** CSV.

Format mix: each month's new valid responses are split exactly (largest remainder) 60 %
Google Forms, 30 % Kobo CSV, 5 % Kobo XLSX, 5 % canonical CSV (``CHANNEL_SHARE``);
planted defect rows and the cumulative re-exports of Google Forms come on top.

Answers: each respondent has a latent level per IHaI variable / IKN dimension (kecamatan
level + respondent factor + variable noise); the three items PER/PAR/AKS add item noise
and are rounded to 1–5 (reversed items mirrored), which gives Cronbach alphas of about
0.75–0.85 per block over a kabupaten's respondents. Respondents are skewed young and male, as in online surveys.

Everything is column-wise numpy/pyarrow; Python loops run over months, file units and
columns, never over responses (XLSX cells are the exception: xlsxwriter writes cell by
cell, which is why Kobo XLSX takes only 5 % of the responses).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from harmoni_pipeline import methodology
from harmoni_pipeline.methodology import all_items, ihai_variables, ikn_dimensions, reverse_items
from harmoni_pipeline.periods import JAKARTA_OFFSET_S, shift
from harmoni_pipeline.sample import defects as D
from harmoni_pipeline.sample import people
from harmoni_pipeline.sample.batch import Batch
from harmoni_pipeline.sample.context import (
    RESPONSES_PER_KECAMATAN_MONTH,
    WIDE_SCOPE_DEFAULT_RESPONSES,
    SampleContext,
    Unit,
    days_in_month,
    month_start_unix,
)
from harmoni_pipeline.sample.people import join, pad
from harmoni_pipeline.sample.survey_text import (
    _components, _lookup, _null_where, _region_codes, _regions_as_names, _set_where, format_datetime,
)
from harmoni_pipeline.sample.writer import LandingWriter, excel_serial, nullable_list, write_table

ITEMS = all_items()
N_ITEMS = len(ITEMS)
BLOCKS = ihai_variables() + ikn_dimensions()
N_IHAI_BLOCKS = len(ihai_variables())
REVERSED = np.array([code in reverse_items() for code in ITEMS])
IHAI_COLS = np.arange(3 * N_IHAI_BLOCKS)
IKN_COLS = np.arange(3 * N_IHAI_BLOCKS, N_ITEMS)

CHANNELS = ["google_forms", "kobo_xlsx", "kobo_csv", "canonical"]
#: share of each month's new valid responses per export format (split exactly)
CHANNEL_SHARE = {"google_forms": 0.60, "kobo_csv": 0.30, "kobo_xlsx": 0.05, "canonical": 0.05}

# latent model, in item-score points (0–100; one Likert step = 25 points)
SIGMA_RESPONDENT = 9.0      # general disposition shared by all variables of an index
SIGMA_VARIABLE = 12.0       # respondent × variable
SIGMA_ITEM = 17.0           # item noise (PER/PAR/AKS of one variable)
P_ITEM_MISSING = 0.012
P_IHAI_ONLY, P_IKN_ONLY = 0.04, 0.02
# systematic offsets of variables (IHaI X01–X10, IKN KN1–KN5), score points
BLOCK_OFFSET = np.array([-3, -6, 2, 3, 6, 0, 4, -2, 1, -1, 0, 3, -8, -3, -5], dtype=np.float64)

AGE_BANDS = [(17, 24), (25, 39), (40, 54), (55, 85)]
AGE_BAND_P = [0.34, 0.36, 0.20, 0.10]  # online respondents (population: ≈ 0.17/0.32/0.27/0.24)
PENDIDIKAN = ["SD/sederajat", "SMP/sederajat", "SMA/SMK", "D3", "S1", "S2"]
PENDIDIKAN_P = [0.08, 0.14, 0.45, 0.08, 0.22, 0.03]
PEKERJAAN = ["Petani", "Wiraswasta", "Karyawan swasta", "PNS/ASN", "Guru", "Ibu rumah tangga", "Buruh",
             "Nelayan", "Pedagang", "Pelajar/Mahasiswa", "Perangkat desa", "Tidak bekerja"]  # fmt: skip
PEKERJAAN_P = [0.16, 0.15, 0.15, 0.07, 0.07, 0.12, 0.09, 0.02, 0.08, 0.0, 0.04, 0.05]
_HOUR_P = np.array([1, 0.5, 0.3, 0.3, 1, 3, 5, 7, 8, 9, 9, 8, 7, 7, 7, 6, 6, 6, 7, 9, 10, 9, 6, 3], dtype=float)
_HOUR_P /= _HOUR_P.sum()

LIKERT = [label for label, _ in sorted(methodology.load().raw["likert_labels"].items(), key=lambda kv: kv[1])]
UNKNOWN_LABELS = ["Setuju sekali", "Netral", "Tidak tahu", "Kurang setuju"]

WORDING = {
    "X01": ("Kebutuhan pangan keluarga saya tercukupi", "Saya ikut kegiatan lumbung pangan atau pasar murah di desa",
            "Saya menerima program pangan yang dijalankan bersama warga"),
    "X02": ("Saya merasa diperlakukan adil oleh pemerintah desa", "Saya ikut musyawarah desa",
            "Saya menerima cara pembagian bantuan di desa"),
    "X03": ("Keberagaman warga memperkaya kehidupan desa", "Saya ikut kegiatan bersama warga dari kelompok lain",
            "Saya keberatan bertetangga dengan pemeluk agama lain"),
    "X04": ("Sekolah di daerah saya mengajarkan toleransi", "Saya ikut kegiatan sekolah atau PKBM",
            "Saya menerima kurikulum wawasan kebangsaan"),
    "X05": ("Saya bangga menjadi warga negara Indonesia", "Saya ikut pemilu dan kerja bakti",
            "Saya menerima Pancasila sebagai dasar bersama"),
    "X06": ("Budaya kelompok lain memperkaya kehidupan saya", "Saya ikut acara budaya kelompok lain",
            "Saya menolak tradisi kelompok lain di lingkungan saya"),
    "X07": ("Kearifan lokal menjaga kerukunan warga", "Saya ikut tradisi desa",
            "Saya menerima adat sebagai penengah perselisihan"),
    "X08": ("Pemerintah daerah mendukung kerukunan umat beragama", "Saya ikut sosialisasi FKUB",
            "Saya menerima aturan pendirian rumah ibadah"),
    "X09": ("Ormas keagamaan membantu warga", "Saya ikut kegiatan ormas keagamaan",
            "Saya menerima ormas lain berkegiatan di desa saya"),
    "X10": ("Pemeluk agama lain mengancam kehidupan beragama saya", "Saya ikut dialog antarumat beragama",
            "Saya menerima perbedaan tafsir dalam agama saya"),
    "KN1": ("Konflik di lingkungan saya ditangani dengan cepat", "Saya ikut mediasi warga saat ada perselisihan",
            "Saya menerima penyelesaian konflik secara damai"),
    "KN2": ("Forkopimda hadir saat ada masalah keamanan", "Saya ikut rapat keamanan lingkungan",
            "Saya percaya koordinasi aparat keamanan"),
    "KN3": ("Saya mudah percaya berita di media sosial", "Saya ikut melaporkan hoaks",
            "Saya menerima klarifikasi resmi pemerintah"),
    "KN4": ("FKDM dikenal oleh warga di lingkungan saya", "Saya ikut ronda atau poskamling",
            "Saya bersedia melapor jika melihat gejala rawan"),
    "KN5": ("Keberadaan orang asing di lingkungan saya terpantau", "Saya ikut melapor tamu 1x24 jam",
            "Saya menerima aturan tentang warga negara asing"),
}  # fmt: skip
GRID_TITLE = {"X06": "Budaya", "X07": "Budaya", "X08": "Keberagamaan", "X09": "Keberagamaan", "X10": "Keberagamaan"}


def gf_item_header(code: str) -> str:
    """``[X01_PER] <wording>``, or the grid style ``Budaya [X06_PER]`` for X06–X10."""
    block, aspect = code.split("_")
    if block in GRID_TITLE:
        return f"{GRID_TITLE[block]} [{code}]"
    return f"[{code}] {WORDING[block][('PER', 'PAR', 'AKS').index(aspect)]}"


# --------------------------------------------------------------------------- volume


def default_total(ctx: SampleContext) -> int:
    total = RESPONSES_PER_KECAMATAN_MONTH * ctx.n_kec * len(ctx.periods)
    return total if ctx.single_kabupaten else min(total, WIDE_SCOPE_DEFAULT_RESPONSES)


def plan_counts(ctx: SampleContext, total: int) -> np.ndarray:
    """Valid responses per (month, kecamatan), summing to ``total``."""
    rng = ctx.rng("survey-volume")
    month_factor = rng.uniform(0.8, 1.2, size=len(ctx.periods))
    p = np.outer(month_factor, ctx.profiles.volume)
    return rng.multinomial(int(total), (p / p.sum()).ravel()).reshape(p.shape)


# --------------------------------------------------------------------------- drawing


def draw_items(rng: np.random.Generator, ctx: SampleContext, kec: np.ndarray) -> np.ndarray:
    """Likert answers (n, 45) int8, 0 = not answered, reversed items already mirrored."""
    prof = ctx.profiles
    n = len(kec)
    out = np.zeros((n, N_ITEMS), dtype=np.int8)
    kec_block = prof.block_offset
    aspect = np.stack([prof.gap / 2, -prof.gap / 2, np.zeros_like(prof.gap)], axis=1)  # PER, PAR, AKS
    chunk = 200_000
    for a in range(0, n, chunk):
        k = kec[a : a + chunk]
        m = len(k)
        level = np.empty((m, len(BLOCKS)), dtype=np.float32)
        level[:, :N_IHAI_BLOCKS] = prof.ihai_level[k, None]
        level[:, N_IHAI_BLOCKS:] = prof.ikn_level[k, None]
        level += (BLOCK_OFFSET[None, :] + kec_block[k]).astype(np.float32)
        g1 = rng.standard_normal(m, dtype=np.float32)
        g2 = 0.5 * g1 + 0.866 * rng.standard_normal(m, dtype=np.float32)
        level[:, :N_IHAI_BLOCKS] += SIGMA_RESPONDENT * g1[:, None]
        level[:, N_IHAI_BLOCKS:] += SIGMA_RESPONDENT * g2[:, None]
        level += SIGMA_VARIABLE * rng.standard_normal(level.shape, dtype=np.float32)
        y = level[:, :, None] + aspect[k][:, None, :].astype(np.float32)
        y += SIGMA_ITEM * rng.standard_normal(y.shape, dtype=np.float32)
        x = np.clip(np.rint(1.0 + y / 25.0), 1, 5).astype(np.int8).reshape(m, N_ITEMS)
        x[:, REVERSED] = 6 - x[:, REVERSED]
        x[rng.uniform(size=x.shape) < P_ITEM_MISSING] = 0
        form = rng.uniform(size=m)
        x[np.ix_(form < P_IHAI_ONLY, IKN_COLS)] = 0
        x[np.ix_((form >= P_IHAI_ONLY) & (form < P_IHAI_ONLY + P_IKN_ONLY), IHAI_COLS)] = 0
        out[a : a + m] = x
    return out


def draw_responses(ctx: SampleContext, rng: np.random.Generator, period: str, kec: np.ndarray) -> Batch:
    """``len(kec)`` respondents submitting in ``period`` (Asia/Jakarta)."""
    n = len(kec)
    prof = ctx.profiles
    kec = np.asarray(kec, dtype=np.int64)
    female = rng.uniform(size=n) >= prof.male_share[kec]
    band = rng.choice(len(AGE_BANDS), n, p=AGE_BAND_P)
    lo = np.array([b[0] for b in AGE_BANDS])[band]
    hi = np.array([b[1] for b in AGE_BANDS])[band]
    old = band == len(AGE_BANDS) - 1
    age = np.where(old, 55 + np.minimum(rng.geometric(0.11, n) - 1, 30), rng.integers(lo, hi + 1))
    day = rng.integers(0, days_in_month(period), n)
    hour = rng.choice(24, n, p=_HOUR_P)
    local = month_start_unix(period) + day * 86400 + hour * 3600 + rng.integers(0, 3600, n)
    ts = local - JAKARTA_OFFSET_S
    cnt = ctx.desa_count[kec]
    desa = np.where(cnt > 0, ctx.desa_start[kec] + (rng.uniform(size=n) * cnt).astype(np.int64), -1)
    desa = ctx.usable_desa(desa)
    birth = (local // 86400 - age * 365.25 - rng.integers(0, 365, n)).astype("datetime64[D]")
    first, second, name = people.draw_names(rng, female)
    job = rng.choice(len(PEKERJAAN), n, p=PEKERJAAN_P)
    job = np.where((age < 25) & (rng.uniform(size=n) < 0.45), PEKERJAAN.index("Pelajar/Mahasiswa"), job)
    job = np.where(~female & (job == PEKERJAAN.index("Ibu rumah tangga")), PEKERJAAN.index("Wiraswasta"), job)
    kec_digits = pa.array(ctx.kec_digits[kec].astype(str), type=pa.string()) if n else pa.array([], pa.string())
    return Batch(
        {
            "kec": kec,
            "desa": desa,
            "alt_desa": np.full(n, -1, dtype=np.int64),
            "female": female,
            "sex": female.astype(np.int8),          # 0 L, 1 P, -1 missing, 2 invalid
            "age": age.astype(np.int16),            # -1 missing, -2 not a number
            "ts": ts.astype(np.int64),              # UTC seconds
            "ts_mode": np.zeros(n, dtype=np.int8),  # 0 ok, 1 missing, 2 impossible date
            "dur": rng.integers(240, 1800, n),      # Kobo start → end, seconds
            "lag": np.where(rng.uniform(size=n) < 0.8, rng.integers(5, 120, n), rng.integers(600, 36000, n)),
            "items": draw_items(rng, ctx, kec),
            "edu": rng.choice(len(PENDIDIKAN), n, p=PENDIDIKAN_P),
            "job": job,
            "name": name,
            "email": people.draw_emails(rng, first, second, (local // 86400 / 365.25 + 1970 - age).astype(int)),
            "phone": people.draw_phones(rng, n),
            "nik": people.draw_niks(rng, kec_digits, female, birth),
            "uuid": people.draw_uuids(rng, n),
            "has_email": rng.uniform(size=n) < 0.85,
            "has_phone": rng.uniform(size=n) < 0.6,
            "has_nik": rng.uniform(size=n) < 0.7,
            "has_name": rng.uniform(size=n) < 0.75,
            "u_render": rng.uniform(size=n),        # per-row spelling choices (stable across re-exports)
            "u_render2": rng.uniform(size=n),
            "region_mode": np.zeros(n, dtype=np.int8),
            "id_missing": np.zeros(n, dtype=bool),
            "kind": np.full(n, D.NO_KIND, dtype=object),
        }
    )


# --------------------------------------------------------------------------- formats


def _label_table(case: int) -> list[str]:
    if case == 1:
        return [s.title() for s in LIKERT]
    if case == 2:
        return [s.lower() for s in LIKERT]
    if case == 3:
        return [s.upper() for s in LIKERT]
    return [s[0].upper() + s[1:] for s in LIKERT]


def render_google_forms(ctx: SampleContext, rd: D.RegionDefects, b: Batch, rng: np.random.Generator,
                        english: bool) -> tuple[list[str], list[pa.Array]]:  # fmt: skip
    n = len(b)
    style = ["gf_ymd", "gf_dmy", "gf_dmy_dot", "gf_us"][int(rng.integers(0, 4))]
    local = b["ts"] + JAKARTA_OFFSET_S
    if style == "gf_us" and not (_components(local)["d"] > 12).any():
        style = "gf_ymd"  # a month-first file must show a day > 12 to be read right
    ts = format_datetime(local, style, impossible=b["ts_mode"] == 2)
    case = int(rng.integers(0, 4))
    # labels: table of 4 spellings × (missing, 1..5, 6 unused, 9 unused, 10 = unknown label)
    table: list[str | None] = []
    for c in range(4):
        labels = _label_table(c)
        table += [None, *labels]
    unknown_base = len(table)
    table += UNKNOWN_LABELS
    row_case = np.where(b["u_render2"] < 0.97, case, (case + 1 + (b["u_render"] * 3).astype(int)) % 4)
    items = b["items"]
    kab, kec, desa = _regions_as_names(ctx, rd, b)
    sex = _lookup(["Laki-laki", "Perempuan", "Lainnya", None], np.where(b["sex"] < 0, 3, b["sex"]))
    age = pc.cast(pa.array(b["age"]), pa.string())
    age = _null_where(age, b["age"] < 0)
    email = _null_where(b["email"], ~b["has_email"])
    phone = _null_where(b["phone"], ~b["has_phone"])
    name = _null_where(b["name"], ~b["has_name"])
    header = ["Timestamp" if english else "Stempel waktu", "Email Address" if english else "Alamat email",
              "Nama Lengkap", "Kabupaten/Kota", "Kecamatan", "Desa/Kelurahan", "Jenis Kelamin", "Usia",
              "Nomor HP"]  # fmt: skip
    columns = [ts, email, name, kab, kec, desa, sex, age, phone]
    base = row_case * 6
    unknown = unknown_base + (b["u_render"] * len(UNKNOWN_LABELS)).astype(int) % len(UNKNOWN_LABELS)
    for j, code in enumerate(ITEMS):
        x = items[:, j].astype(np.int64)
        idx = np.where(x == 10, unknown, np.where((x >= 1) & (x <= 5), base + x, base))
        header.append(gf_item_header(code))
        columns.append(_lookup(table, idx))
    assert len(columns[0]) == n
    return header, columns


KOBO_META_TAIL = ["meta/instanceID", "_id", "_uuid", "_submission_time", "_validation_status", "_notes",
                  "_status", "_submitted_by", "__version__", "_tags", "_index"]  # fmt: skip
KOBO_ID_FIELDS = ["identitas/nama_responden", "identitas/kabupaten", "identitas/kecamatan", "identitas/desa",
                  "identitas/jk", "identitas/umur", "identitas/no_hp"]  # fmt: skip


def kobo_item_header(code: str) -> str:
    return ("ihai/" if code.startswith("X") else "ikn/") + code


def _kobo_common(ctx: SampleContext, rd: D.RegionDefects, b: Batch, first_id: int, form_version: str):
    """Column values shared by the Kobo XLSX and CSV renderings (strings as pyarrow)."""
    n = len(b)
    kec, desa = _region_codes(ctx, rd, b, "_")
    kab = pa.array(ctx.kec_kab[b["kec"]].astype(str), type=pa.string())
    kab = pc.replace_substring(kab, ".", "_")
    sex = _lookup(["l", "p", "x", None], np.where(b["sex"] < 0, 3, b["sex"]))
    uuid = _null_where(b["uuid"], b["id_missing"])
    instance = join("uuid:", uuid)
    submission = format_datetime(b["ts"], "iso_naive", impossible=b["ts_mode"] == 2)
    submission = _null_where(submission, b["ts_mode"] == 1)
    validation = _lookup(["", "validation_status_approved", "validation_status_on_hold"],
                         np.digitize(b["u_render2"], [0.7, 0.97]))  # fmt: skip
    validation = _null_where(validation, b["u_render2"] < 0.7)
    submitted_by = join("enum_", pc.utf8_lower(pa.array(ctx.kec_name[b["kec"]].astype(str), type=pa.string())))
    submitted_by = pc.replace_substring_regex(submitted_by, r"[^a-z_]", "")
    return {
        "kec": kec, "desa": desa, "kab": kab, "sex": sex, "uuid": uuid, "instance": instance,
        "submission": submission, "validation": validation, "submitted_by": submitted_by,
        "ids": np.arange(first_id, first_id + n), "index": np.arange(1, n + 1),
        "name": _null_where(b["name"], ~b["has_name"]), "phone": _null_where(b["phone"], ~b["has_phone"]),
        "end_local": b["ts"] + JAKARTA_OFFSET_S - b["lag"],
        "version": form_version,
    }  # fmt: skip


def kobo_header() -> list[str]:
    return ["start", "end", *KOBO_ID_FIELDS, *[kobo_item_header(c) for c in ITEMS], *KOBO_META_TAIL]


def render_kobo_csv(ctx, rd, b: Batch, first_id: int, form_version: str) -> tuple[list[str], list[pa.Array]]:
    c = _kobo_common(ctx, rd, b, first_id, form_version)
    n = len(b)
    start = format_datetime(c["end_local"] - b["dur"], "iso_ms_offset")
    end = format_datetime(c["end_local"], "iso_ms_offset")
    age = _null_where(pc.cast(pa.array(b["age"]), pa.string()), b["age"] < 0)
    table = [None, "1", "2", "3", "4", "5", "6", None, None, "0", "3.5"]
    items = [_lookup(table, b["items"][:, j]) for j in range(N_ITEMS)]
    empty = pa.nulls(n, pa.string())
    cols = [start, end, c["name"], c["kab"], c["kec"], c["desa"], c["sex"], age, c["phone"], *items,
            c["instance"], pc.cast(pa.array(c["ids"]), pa.string()), c["uuid"], c["submission"], c["validation"],
            empty, pa.array(["submitted_via_web"] * n, pa.string()), c["submitted_by"],
            pa.array([form_version] * n, pa.string()), empty, pc.cast(pa.array(c["index"]), pa.string())]  # fmt: skip
    return kobo_header(), cols


def build_kobo_xlsx(ctx, rd, b: Batch, first_id: int, form_version: str, sheet: str):
    """A ``build(workbook)`` callable for :meth:`LandingWriter.xlsx`."""
    c = _kobo_common(ctx, rd, b, first_id, form_version)
    n = len(b)
    start = excel_serial(c["end_local"] - b["dur"]).tolist()
    end = excel_serial(c["end_local"]).tolist()
    age = nullable_list(b["age"].astype(np.int64), b["age"] < 0)
    table = np.array([None, 1, 2, 3, 4, 5, 6, None, None, 0, 3.5], dtype=object)
    items = [table[b["items"][:, j]].tolist() for j in range(N_ITEMS)]
    empty = [None] * n
    cols = [start, end, c["name"].to_pylist(), c["kab"].to_pylist(), c["kec"].to_pylist(), c["desa"].to_pylist(),
            c["sex"].to_pylist(), age, c["phone"].to_pylist(), *items, c["instance"].to_pylist(),
            c["ids"].tolist(), c["uuid"].to_pylist(), c["submission"].to_pylist(), c["validation"].to_pylist(),
            empty, ["submitted_via_web"] * n, c["submitted_by"].to_pylist(), [form_version] * n, empty,
            c["index"].tolist()]  # fmt: skip

    def build(workbook) -> int:
        ws = workbook.add_worksheet(sheet[:31])
        fmt = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        bold = workbook.add_format({"bold": True})
        return write_table(ws, kobo_header(), cols, cell_formats={0: fmt, 1: fmt}, header_format=bold)

    return build


CANONICAL_HEAD = ["response_id", "submitted_at", "kode_kecamatan", "kode_desa", "jenis_kelamin", "umur",
                  "pendidikan", "pekerjaan", "email", "no_hp", "nik"]  # fmt: skip


def render_canonical(ctx, rd, b: Batch, ids: pa.Array, ts_style: str) -> tuple[list[str], list[pa.Array]]:
    kec, desa = _region_codes(ctx, rd, b, ".")
    ts = format_datetime(b["ts"] + JAKARTA_OFFSET_S, ts_style, impossible=b["ts_mode"] == 2)
    ts = _null_where(ts, b["ts_mode"] == 1)
    sex = _lookup(["L", "P", "X", None], np.where(b["sex"] < 0, 3, b["sex"]))
    age = pc.cast(pa.array(b["age"]), pa.string())
    age = _set_where(age, b["age"] == -2, "dua puluh")
    age = _null_where(age, b["age"] == -1)
    table = [None, "1", "2", "3", "4", "5", "6", None, None, "0", "3.5"]
    cols = [
        _null_where(ids, b["id_missing"]), ts, kec, desa, sex, age,
        _lookup(PENDIDIKAN, b["edu"]), _lookup(PEKERJAAN, b["job"]),
        _null_where(b["email"], ~b["has_email"] | (b["u_render"] < 0.45)),
        _null_where(b["phone"], ~b["has_phone"]),
        _null_where(b["nik"], ~b["has_nik"]),
    ]  # fmt: skip
    cols += [_lookup(table, b["items"][:, j]) for j in range(N_ITEMS)]
    return CANONICAL_HEAD + ITEMS, cols


# --------------------------------------------------------------------------- files


def _personal(header: list[str], columns: list[pa.Array], names: tuple[str, ...]) -> list[pa.Array]:
    return [col for h, col in zip(header, columns) if h in names]


GF_PII = ("Alamat email", "Email Address", "Nama Lengkap", "Nomor HP")
KOBO_PII = ("identitas/nama_responden", "identitas/no_hp")
CANONICAL_PII = ("email", "no_hp", "nik")


def _make_defect_rows(ctx, rd, planner: D.Planner, rng, period, valid: Batch, fmt: str) -> tuple[Batch, np.ndarray]:
    """Defect rows for a file whose good rows are ``valid``: fresh respondents of the same
    kecamatan, edited to break one rule each, plus copies of good rows (duplicates)."""
    kinds = planner.kinds(len(valid), fmt)
    if len(kinds) == 0:
        return Batch.concat([]), kinds
    dup = kinds == "duplicate"
    fresh_kinds = kinds[~dup]
    parts = []
    if len(fresh_kinds):
        kec = valid["kec"][rng.integers(0, len(valid), len(fresh_kinds))]
        fresh = draw_responses(ctx, rng, period, kec)
        fresh_kinds = D.apply_survey_defects(ctx, rd, fresh, fresh_kinds, fmt, period, rng)
        fresh["kind"] = fresh_kinds.astype(object)
        parts.append(fresh)
    if dup.any():
        copies = valid.take(rng.choice(len(valid), int(dup.sum()), replace=int(dup.sum()) > len(valid)))
        copies["kind"] = np.full(len(copies), "duplicate", dtype=object)
        parts.append(copies)
    out = Batch.concat(parts)
    return out, out["kind"]


def _sorted(b: Batch) -> Batch:
    return b.take(np.argsort(b["ts"], kind="stable"))


@dataclass
class _FileContext:
    """What the writers of one survey delivery need besides its rows."""

    ctx: SampleContext
    writer: LandingWriter
    regions: D.RegionDefects
    period: str
    unit_index: int
    unit: Unit
    rng: np.random.Generator
    created: dt.datetime

    @property
    def folder(self) -> str:
        return f"survey/{self.period}"


def _write_google_forms(fc: _FileContext, store: list[Batch]) -> None:
    """The cumulative export: every response of the form since the first month."""
    cumulative = _sorted(Batch.concat(store))
    english = fc.unit_index % 3 == 2  # some forms were created with English headers
    header, cols = render_google_forms(fc.ctx, fc.regions, cumulative, fc.rng, english)
    rel = f"{fc.folder}/gform_survei_ihai_ikn_{fc.unit.slug}.csv"
    fc.writer.csv(rel, header, cols, kind="survey/google_forms", rules=D.count_rules(cumulative["kind"]), eol="\r\n")
    for col in _personal(header, cols, GF_PII):
        fc.writer.add_pii(col)


def _write_canonical(fc: _FileContext, rows: Batch) -> None:
    yymm = fc.period[2:4] + fc.period[5:7]
    ids = join(f"HMN-{fc.unit.code.replace('.', '')}-{yymm}-", pad(np.arange(1, len(rows) + 1), 6))
    ids = _ids_for_duplicates(rows, ids)
    style = ["iso_offset", "iso_space", "iso_naive"][int(fc.rng.integers(0, 3))]
    header, cols = render_canonical(fc.ctx, fc.regions, rows, ids, style)
    rel = f"{fc.folder}/survei_kanonik_{fc.unit.slug}_{fc.period}.csv"
    fc.writer.csv(rel, header, cols, kind="survey/canonical", rules=D.count_rules(rows["kind"]))
    for col in _personal(header, cols, CANONICAL_PII):
        fc.writer.add_pii(col)


def _write_kobo(fc: _FileContext, rows: Batch, first_id: int, xlsx: bool) -> None:
    ctx, rd = fc.ctx, fc.regions
    version = f"v{ctx.rng('kobo-version', fc.unit.code).integers(10**9, 10**10)}"
    rel = f"{fc.folder}/kobo_survei_harmoni_{fc.unit.slug}_{fc.period}." + ("xlsx" if xlsx else "csv")
    rules = D.count_rules(rows["kind"])
    if xlsx:
        build = build_kobo_xlsx(ctx, rd, rows, first_id, version, f"Survei Harmoni {fc.unit.name}")
        fc.writer.xlsx(rel, build, kind="survey/kobo_xlsx", created=fc.created, rules=rules)
        c = _kobo_common(ctx, rd, rows, first_id, version)
        fc.writer.add_pii(c["name"])
        fc.writer.add_pii(c["phone"])
        return
    header, cols = render_kobo_csv(ctx, rd, rows, first_id, version)
    fc.writer.csv(rel, header, cols, kind="survey/kobo_csv", sep=";", quote_all=True, rules=rules)
    for col in _personal(header, cols, KOBO_PII):
        fc.writer.add_pii(col)


def channel_counts(n: int) -> np.ndarray:
    """Responses per channel (``CHANNELS`` order) out of ``n``: ``CHANNEL_SHARE`` exactly,
    the rounding remainder going to the largest fractional parts."""
    share = np.array([CHANNEL_SHARE[c] for c in CHANNELS])
    exact = share / share.sum() * n
    counts = np.floor(exact).astype(np.int64)
    short = n - int(counts.sum())
    counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
    return counts


def _split_channels(ctx: SampleContext, rng: np.random.Generator, batch: Batch):
    """Row indexes of ``batch`` per (unit, channel), as a function ``rows(u, c)``."""
    channel = rng.permutation(np.repeat(np.arange(len(CHANNELS)), channel_counts(len(batch))))
    unit = ctx.unit_of_kec[batch["kec"]]
    order = np.lexsort((channel, unit))
    key = unit[order] * len(CHANNELS) + channel[order]
    bounds = np.searchsorted(key, np.arange(len(ctx.units) * len(CHANNELS) + 1))

    def rows(u: int, c: int) -> np.ndarray:
        k = u * len(CHANNELS) + c
        return order[bounds[k] : bounds[k + 1]]

    return rows


def write_survey(ctx: SampleContext, writer: LandingWriter, total: int | None) -> pd.DataFrame:
    """Write every survey export of the range; returns the valid responses per
    (period, kode_kecamatan)."""
    total = default_total(ctx) if total is None else int(total)
    counts = plan_counts(ctx, total)
    rd = D.RegionDefects(ctx)
    planner = D.Planner(ctx.rng("survey-defects"))
    gf_store: dict[int, list[Batch]] = {u: [] for u in range(len(ctx.units))}
    kobo_next_id = {u: 180_000_000 + 1_000_000 * u for u in range(len(ctx.units))}
    for mi, period in enumerate(ctx.periods):
        rng = ctx.rng("survey", period)
        batch = draw_responses(ctx, rng, period, np.repeat(np.arange(ctx.n_kec), counts[mi]))
        rows_of = _split_channels(ctx, rng, batch)
        created = dt.datetime.fromisoformat(shift(period, 1) + "-01") - dt.timedelta(hours=14)
        for u, unit in enumerate(ctx.units):
            for ci, ch in enumerate(CHANNELS):
                fc = _FileContext(ctx, writer, rd, period, u, unit, ctx.rng("survey-file", period, unit.code, ch), created)
                valid = batch.take(rows_of(u, ci))
                rows = valid
                if len(valid):
                    fmt = "kobo" if ch.startswith("kobo") else ch
                    bad, _ = _make_defect_rows(ctx, rd, planner, fc.rng, period, valid, fmt)
                    rows = _sorted(Batch.concat([valid, bad]))
                if ch == "google_forms":
                    if len(rows):
                        gf_store[u].append(rows)
                    if gf_store[u]:
                        _write_google_forms(fc, gf_store[u])
                elif not len(rows):
                    continue
                elif ch == "canonical":
                    _write_canonical(fc, rows)
                else:
                    _write_kobo(fc, rows, kobo_next_id[u], xlsx=ch == "kobo_xlsx")
                    kobo_next_id[u] += len(rows)
    k, m = np.nonzero(counts.T)
    return pd.DataFrame(
        {"period": np.array(ctx.periods, dtype=object)[m], "kode_kecamatan": ctx.kec_code[k], "n": counts.T[k, m]}
    ).sort_values(["period", "kode_kecamatan"], ignore_index=True)


def _ids_for_duplicates(rows: Batch, ids: pa.Array) -> pa.Array:
    """A duplicate row (a copy: same uuid) repeats the id of the row it copies."""
    codes, _ = pd.factorize(rows["uuid"].to_numpy(zero_copy_only=False))
    _, first = np.unique(codes, return_index=True)
    return pc.take(ids, pa.array(first[codes]))
