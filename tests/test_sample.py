"""The sample landing-zone generator (``harmoni sample``): layout, determinism, realism,
planted defects and personal data.

The realism checks read the files back with pandas / python-calamine and recompute what
they claim from the bytes (they do not use generator internals); the reference lists come
from the shared CSVs. One test also runs the project's ingestion parsers over the sample
and compares what they reject with what the generator says it planted.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import python_calamine

from harmoni_pipeline import methodology
from harmoni_pipeline.methodology import all_items, reverse_items
from harmoni_pipeline.sample import SampleSummary, generate_landing_zone

REFERENCE = Path(__file__).resolve().parents[1] / "harmoni_pipeline" / "reference"
ITEMS = all_items()
RULES = {
    "missing_field", "invalid_value", "invalid_date", "out_of_scale", "age_out_of_range", "unknown_region",
    "ambiguous_region", "out_of_scope", "date_order", "duplicate_in_file", "empty_response",
}  # fmt: skip
PERIODS = ["2025-10", "2025-11", "2025-12"]
LIKERT = {k: v for k, v in methodology.load().raw["likert_labels"].items()}


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> SampleSummary:
    out = tmp_path_factory.mktemp("landing")
    return generate_landing_zone(out, start=PERIODS[0], end=PERIODS[-1], seed=0)


@pytest.fixture(scope="module")
def kecamatan_3513() -> pd.DataFrame:
    wilayah = pd.read_csv(REFERENCE / "wilayah_kemendagri_2025.csv", dtype=str)
    kec = wilayah[wilayah["kode"].str.fullmatch(r"35\.13\.\d{2}")].copy()
    kec["key"] = kec["nama"].str.casefold()
    return kec


def _xlsx_rows(path: Path, sheet: int | str = 0) -> list[list]:
    wb = python_calamine.CalamineWorkbook.from_path(str(path))
    ws = wb.get_sheet_by_index(sheet) if isinstance(sheet, int) else wb.get_sheet_by_name(sheet)
    return ws.to_python(skip_empty_area=False)


def _xlsx_frame(path: Path) -> pd.DataFrame:
    rows = _xlsx_rows(path)
    return pd.DataFrame(rows[1:], columns=rows[0])


def _files(sample: SampleSummary, pattern: str) -> list[Path]:
    return sorted(sample.out / f for f in sample.files if re.search(pattern, f))


# --------------------------------------------------------------------------- reading back


def _clean_survey_rows(sample: SampleSummary, kecamatan: pd.DataFrame) -> pd.DataFrame:
    """Rows of every survey file (Google Forms: the last cumulative export only) that
    break no rule, with kecamatan code, sex, age and the 45 answers as numbers."""
    parts = []
    names = dict(zip(kecamatan["key"], kecamatan["kode"]))
    names["pejarakan"] = "35.13.16"
    for f in _files(sample, r"survei_kanonik_.*\.csv$"):
        d = pd.read_csv(f, dtype=str, keep_default_na=False)
        bad_ts = ~d["submitted_at"].str.match(r"\d{4}-\d{2}-\d{2}[T ]")
        ok_ts = ~bad_ts & (d["submitted_at"].str[:7] == f.parent.name)
        d = d[ok_ts & ~d.duplicated("response_id") & (d["response_id"] != "")]
        parts.append(pd.DataFrame({"kec": d["kode_kecamatan"], "sex": d["jenis_kelamin"], "age": d["umur"],
                                   **{c: d[c] for c in ITEMS}}))  # fmt: skip
    kobo = [pd.read_csv(f, dtype=str, sep=";", keep_default_na=False) for f in _files(sample, r"kobo_.*\.csv$")]
    kobo += [_xlsx_frame(f).astype(str).replace({"None": "", "nan": ""}) for f in _files(sample, r"kobo_.*\.xlsx$")]
    for d in kobo:
        d = d[(d["_uuid"] != "") & ~d.duplicated("_uuid") & d["_submission_time"].str.match(r"\d{4}-\d{2}-\d{2}T")]
        items = {c: d[("ihai/" if c.startswith("X") else "ikn/") + c].str.replace(r"\.0$", "", regex=True) for c in ITEMS}
        parts.append(pd.DataFrame({"kec": d["identitas/kecamatan"].str.replace("_", "."),
                                   "sex": d["identitas/jk"].str.upper(),
                                   "age": d["identitas/umur"].str.replace(r"\.0$", "", regex=True), **items}))  # fmt: skip
    gf = pd.read_csv(_files(sample, r"gform_.*\.csv$")[-1], dtype=str, keep_default_na=False)
    key = gf["Kecamatan"].str.strip().str.casefold().str.replace(r"^kec\.\s*", "", regex=True)
    headers = {c: next(h for h in gf.columns if f"[{c}]" in h) for c in ITEMS}
    answers = {c: gf[h].str.casefold().map(LIKERT).astype("Int64").astype(str).replace("<NA>", "")
               for c, h in headers.items()}  # fmt: skip
    unknown_label = pd.concat([(gf[h] != "") & (answers[c] == "") for c, h in headers.items()], axis=1).any(axis=1)
    sex = gf["Jenis Kelamin"].map({"Laki-laki": "L", "Perempuan": "P"}).fillna("")
    gf_part = pd.DataFrame({"kec": key.map(names).fillna(""), "sex": sex, "age": gf["Usia"], **answers})
    parts.append(gf_part[~unknown_label & ~gf["Stempel waktu"].str.contains("/11/2025|/31/", regex=True)
                         & gf["Kabupaten/Kota"].str.contains("Probolinggo|35.13", case=False)])  # fmt: skip
    rows = pd.concat(parts, ignore_index=True)
    x = rows[ITEMS].apply(pd.to_numeric, errors="coerce")
    answered = rows[ITEMS] != ""
    valid_items = (x.isin([1, 2, 3, 4, 5]) | ~answered).all(axis=1) & answered.any(axis=1)
    age = pd.to_numeric(rows["age"], errors="coerce")
    keep = (
        valid_items & rows["kec"].isin(kecamatan["kode"]) & rows["sex"].isin(["L", "P"]) & age.between(17, 100)
    )
    out = x[keep].copy()
    out["kec"], out["sex"], out["age"] = rows.loc[keep, "kec"], rows.loc[keep, "sex"], age[keep]
    return out


def _item_scores(rows: pd.DataFrame) -> pd.DataFrame:
    s = (rows[ITEMS] - 1) * 25
    for code in reverse_items():
        s[code] = 100 - s[code]
    return s


def _blocks() -> list[str]:
    meth = methodology.load().raw
    return list(meth["ihai"]["variables"]) + list(meth["ikn"]["dimensions"])


@pytest.fixture(scope="module")
def clean_rows(sample, kecamatan_3513) -> pd.DataFrame:
    return _clean_survey_rows(sample, kecamatan_3513)


# --------------------------------------------------------------------------- layout


def test_layout_all_formats_every_month(sample):
    files = set(sample.files)
    for period in PERIODS:
        month = [f for f in files if f.startswith(f"survey/{period}/")]
        assert any(f.endswith(".xlsx") and "kobo" in f for f in month)
        assert any(f.endswith(".csv") and "kobo" in f for f in month)
        assert any(f.endswith(".csv") and "gform" in f for f in month)
        assert any(f.endswith(".csv") and "kanonik" in f for f in month)
        fkdm = [f for f in files if f.startswith(f"fkdm/{period}/")]
        assert {Path(f).suffix for f in fkdm} == {".csv", ".xlsx"}
    stats = [f for f in files if f.startswith("stats/2025/")]
    assert {Path(f).suffix for f in stats} == {".csv", ".json", ".xlsx"}
    assert "reference/penanggung_jawab.csv" in files and "README.txt" in files
    assert all((sample.out / f).is_file() for f in files)
    for key in ("survey/google_forms", "survey/kobo_xlsx", "survey/kobo_csv", "survey/canonical", "fkdm/csv",
                "fkdm/xlsx", "stats/long_csv", "stats/bps_json", "stats/dalam_angka"):  # fmt: skip
        assert sample.rows.get(key, 0) > 0, key


def test_same_seed_same_bytes(sample, tmp_path):
    again = generate_landing_zone(tmp_path / "again", start=PERIODS[0], end=PERIODS[-1], seed=0)
    assert again.files == sample.files
    for f in sample.files:
        assert (sample.out / f).read_bytes() == (again.out / f).read_bytes(), f
    assert again.planted_rules == sample.planted_rules and again.planted_pii == sample.planted_pii
    other = generate_landing_zone(tmp_path / "other", start="2025-12", end="2025-12", seed=1)
    same_name = "survey/2025-12/gform_survei_ihai_ikn_kab_probolinggo.csv"
    assert (other.out / same_name).read_bytes() != (sample.out / same_name).read_bytes()


def test_google_forms_export(sample):
    exports = _files(sample, r"gform_.*\.csv$")
    frames = [pd.read_csv(f, dtype=str, keep_default_na=False) for f in exports]
    header = list(frames[0].columns)
    assert {"Stempel waktu", "Alamat email", "Kecamatan", "Desa/Kelurahan", "Jenis Kelamin", "Usia",
            "Nomor HP", "Kabupaten/Kota"} <= set(header)  # fmt: skip
    assert any(re.match(r"^\[X01_PER\] \w", h) for h in header)
    assert any(re.fullmatch(r"Budaya \[X06_PER\]", h) for h in header)
    # cumulative: each export holds every response of the earlier ones (matched on e-mail)
    sizes = [len(f) for f in frames]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    first = set(frames[0]["Alamat email"]) - {""}
    assert first <= set(frames[-1]["Alamat email"])
    # one Sheets timestamp style per file, among the contract's forms
    styles = {
        "ymd": r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} GMT\+7",
        "dmy": r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}",
        "dmy_dot": r"\d{2}/\d{2}/\d{4} \d{2}\.\d{2}\.\d{2}",
        "us": r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2} [AP]M",
    }
    for f in frames:
        matching = [k for k, rx in styles.items() if f["Stempel waktu"].str.fullmatch(rx).all()]
        assert len(matching) >= 1
    names = pd.concat([f["Kecamatan"] for f in frames])
    assert names.str.startswith("Kec. ").any() and (names == "Pejarakan").any()
    assert (names != names.str.strip()).any() or (names.str.isupper()).any()
    answers = pd.concat([f[h] for f in frames for h in f.columns if "[" in h])
    spellings = set(answers[answers.str.casefold() == "sangat setuju"])
    assert len(spellings) >= 2  # varying case


def test_kobo_exports(sample):
    for f in _files(sample, r"kobo_.*\.xlsx$"):
        rows = _xlsx_rows(f)
        head = rows[0]
        for col in ("start", "end", "_submission_time", "_uuid", "_id", "_index", "meta/instanceID",
                    "_validation_status", "identitas/kecamatan", "identitas/desa", "identitas/jk",
                    "identitas/umur", "ihai/X01_PER", "ikn/KN5_AKS"):  # fmt: skip
            assert col in head, col
        d = pd.DataFrame(rows[1:], columns=head)
        assert d["start"].map(lambda v: isinstance(v, dt.datetime)).all()  # native Excel datetimes
        assert d["identitas/kecamatan"].astype(str).str.fullmatch(r"35_13_\d{2}").mean() > 0.9
        assert d["identitas/desa"].astype(str).str.fullmatch(r"35_13_\d{2}_\d{4}").mean() > 0.9
        assert d["identitas/jk"].isin(["l", "p"]).mean() > 0.9
        # _submission_time is UTC: 7 hours behind the local `end` (plus the upload lag)
        submitted = pd.to_datetime(d["_submission_time"], errors="coerce", format="%Y-%m-%dT%H:%M:%S")
        lag = (submitted - pd.to_datetime(d["end"])).dropna()
        assert ((lag >= pd.Timedelta(hours=-7)) & (lag < pd.Timedelta(hours=4))).mean() > 0.9
    for f in _files(sample, r"kobo_.*\.csv$"):
        text = f.read_text(encoding="utf-8")
        assert text.startswith('"start";"end";')


def test_canonical_export(sample):
    d = pd.read_csv(_files(sample, r"survei_kanonik_.*\.csv$")[0], dtype=str, keep_default_na=False)
    assert list(d.columns) == ["response_id", "submitted_at", "kode_kecamatan", "kode_desa", "jenis_kelamin",
                               "umur", "pendidikan", "pekerjaan", "email", "no_hp", "nik", *ITEMS]  # fmt: skip
    assert d["nik"][d["nik"] != ""].str.fullmatch(r"\d{16}").all()


# --------------------------------------------------------------------------- realism


def test_kecamatan_ihai_spans_categories(clean_rows):
    s = _item_scores(clean_rows)
    weights = {k: v[2] for k, v in methodology.load().raw["ihai"]["variables"].items()}
    variables = pd.DataFrame({v: s[[f"{v}_PER", f"{v}_PAR", f"{v}_AKS"]].mean(axis=1, skipna=False) for v in weights})
    variables["kec"] = clean_rows["kec"]
    by_kec = variables.groupby("kec").mean()
    n = clean_rows.groupby("kec").size()
    by_kec = by_kec[n.reindex(by_kec.index) >= 30]
    ihai = sum(by_kec[v] * w for v, w in weights.items()) / sum(weights.values())
    categories = pd.cut(ihai, [-np.inf, 60, 80, np.inf], right=False, labels=["Rendah", "Sedang", "Tinggi"])
    assert categories.nunique() >= 2, ihai.sort_values().round(1).to_dict()


def test_ikn_survey_dimensions_span_bands(clean_rows):
    s = _item_scores(clean_rows)
    dims = list(methodology.load().raw["ikn"]["dimensions"])
    scores = pd.DataFrame({d: s[[f"{d}_PER", f"{d}_PAR", f"{d}_AKS"]].mean(axis=1, skipna=False) for d in dims})
    scores["kec"] = clean_rows["kec"]
    n = clean_rows.groupby("kec").size()
    pillar = scores.groupby("kec").mean().mean(axis=1)
    pillar = pillar[n.reindex(pillar.index) >= 30]
    bands = pd.cut(pillar, [-np.inf, 40, 60, 80, np.inf], right=False)
    # the survey pillar alone spreads over >= 3 IKN bands (Rawan/Kurang/Baik/Sangat baik),
    # so with the event and context pillars at least three IKN categories are plausible
    assert bands.nunique() >= 3, pillar.sort_values().round(1).to_dict()


def test_cronbach_alpha_per_ppa_block(clean_rows):
    s = _item_scores(clean_rows)
    for block in _blocks():
        m = s[[f"{block}_PER", f"{block}_PAR", f"{block}_AKS"]].dropna()
        k = m.shape[1]
        alpha = k / (k - 1) * (1 - m.var(ddof=1).sum() / m.sum(axis=1).var(ddof=1))
        assert 0.6 <= alpha <= 0.9, (block, alpha)


def test_respondents_skewed_young_and_male(sample, clean_rows):
    pop = pd.read_csv(sample.out / "stats/2025/penduduk_kecamatan_2025.csv", dtype={"kode_wilayah": str})
    adults = pop[(pop["indikator"] == "jumlah_penduduk") & (pop["kelompok_umur"] != "0-16")]
    pop_male = adults.loc[adults["jenis_kelamin"] == "L", "nilai"].sum() / adults["nilai"].sum()
    pop_young = adults.loc[adults["kelompok_umur"] == "17-24", "nilai"].sum() / adults["nilai"].sum()
    resp_male = (clean_rows["sex"] == "L").mean()
    resp_young = clean_rows["age"].between(17, 24).mean()
    assert resp_male - pop_male >= 0.10 or resp_young - pop_young >= 0.10, (resp_male, pop_male, resp_young, pop_young)


def test_survey_volume_and_small_kecamatan(sample, clean_rows, kecamatan_3513):
    per_month = sample.responses.groupby("period")["n"].sum() / len(kecamatan_3513)
    assert per_month.between(40, 80).all(), per_month.to_dict()
    counted = clean_rows.groupby("kec").size().reindex(kecamatan_3513["kode"], fill_value=0)
    assert (counted < 30).sum() >= 1, counted.to_dict()      # some kecamatan stay under 30
    assert (counted >= 30).sum() >= len(counted) // 2


def test_population_is_synthetic_split_of_real_totals(sample):
    pop = pd.read_csv(sample.out / "stats/2025/penduduk_kecamatan_2025.csv", dtype={"kode_wilayah": str})
    five = pd.read_csv(sample.out / "stats/2025/penduduk_kelompok_umur_5tahunan_2025.csv", dtype={"kode_wilayah": str})
    assert set(pop["kelompok_umur"]) == {"0-16", "17-24", "25-39", "40-54", "55+"}
    assert {"15-19", "75+"} <= set(five["kelompok_umur"])
    assert (pop["sumber"].str.contains("sintetis") & pop["sumber"].str.contains("bukan data BPS")).all()
    assert not set(pop["kode_wilayah"]) & set(five["kode_wilayah"])
    real = pd.read_csv(REFERENCE / "penduduk_kabkota_2025.csv", dtype={"kode": str}).set_index("kode")
    men = pop.loc[pop["jenis_kelamin"] == "L", "nilai"].sum() + five.loc[five["jenis_kelamin"] == "L", "nilai"].sum()
    assert men == real.at["35.13", "pria"]
    frame = sample.population
    assert frame.groupby("jenis_kelamin")["jumlah"].sum().to_dict() == {"L": 592_531, "P": 608_400}
    assert "SINTETIS" in (sample.out / "README.txt").read_text(encoding="utf-8")


def test_statistics_files(sample):
    ctx = pd.read_csv(_files(sample, r"indikator_konteks_.*\.csv$")[0], dtype=str)
    tpt = ctx[ctx["indikator"] == "tpt"]
    assert "35.13" in set(tpt["kode_wilayah"])  # kabupaten level: inherited by kecamatan
    assert {"130", "-2.5"} <= set(ctx["nilai"])  # planted invalid values
    body = json.loads(_files(sample, r"\.json$")[0].read_text(encoding="utf-8"))
    assert {"status", "data-availability", "var", "turvar", "labelvervar", "vervar", "tahun", "turtahun",
            "datacontent"} <= set(body)  # fmt: skip
    var, th = body["var"][0]["val"], body["tahun"][0]["val"]
    assert int(body["tahun"][0]["label"]) - 1900 == th
    vervar = [v["val"] for v in body["vervar"]]
    assert all(len(str(v)) == 7 for v in vervar)
    keys = set(body["datacontent"])
    assert all(any(k.startswith(f"{v}{var}") and k.endswith(f"{th}{body['turtahun'][0]['val']}") for v in vervar)
               for k in keys)  # fmt: skip
    assert len(keys) == len(vervar) - 1  # one kecamatan has no context of its own
    workbook = _files(sample, r"dalam_angka.*\.xlsx$")[0]
    rows = _xlsx_rows(workbook, "4.1.1")
    assert rows[0][0].startswith("Tabel 4.1.1 Persentase Desa dengan Poskamling Aktif Menurut Kecamatan di Kabupaten Probolinggo, ")
    names = [r[0] for r in rows if isinstance(r[0], str) and re.match(r"^\d{3}\. ", r[0])]
    assert names[0] == "010. Sukapura" and len(names) == 24
    assert any(r[0] == "Jumlah" for r in rows)
    assert any(isinstance(r[0], str) and r[0].startswith("Sumber: BPS Kabupaten Probolinggo") for r in rows)
    cells = [c for r in rows for c in r[1:] if isinstance(c, str)]
    assert any(re.fullmatch(r"\d+,\d{2}", c) for c in cells) and "…" in cells
    konflik = [c for r in _xlsx_rows(workbook, "4.2.3") for c in r[1:] if isinstance(c, str)]
    assert "-" in konflik
    merged = python_calamine.CalamineWorkbook.from_path(str(workbook)).get_sheet_by_name("4.1.1").merged_cell_ranges
    assert merged


def _dates(values: pd.Series) -> pd.Series:
    """FKDM dates (native Excel dates, ``YYYY-MM-DD`` or ``DD/MM/YYYY`` text) → timestamps."""
    native = values.map(lambda v: pd.Timestamp(v) if isinstance(v, dt.date) else pd.NaT)
    text = values.map(lambda v: v if isinstance(v, str) else None)
    iso = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    dmy = pd.to_datetime(text, format="%d/%m/%Y", errors="coerce")
    return pd.to_datetime(native).fillna(iso).fillna(dmy)


def test_fkdm_reports(sample):
    csvs = [pd.read_csv(f, dtype=str, keep_default_na=False) for f in _files(sample, r"fkdm/.*\.csv$")]
    xlsxs = [_xlsx_frame(f) for f in _files(sample, r"fkdm/.*\.xlsx$")]
    allcsv = pd.concat(csvs, ignore_index=True)
    good = allcsv["no_laporan"].str.fullmatch(r"FKDM/3513/2025/\d{4}")
    assert good.mean() > 0.9
    assert set(allcsv["kualifikasi"]) >= {"hijau", "kuning", "merah1"}
    assert {"Ancaman", "Tantangan", "Hambatan", "Gangguan"} & set(pd.concat(xlsxs)["Jenis ATHG"])
    assert any(isinstance(v, dt.date) for v in pd.concat(xlsxs)["Tgl Lapor"])
    # updates: a report re-sent in a later month with a new status
    seen = allcsv[good].groupby("no_laporan")["status"].agg(list)
    assert any(len(s) > 1 and s[-1] == "selesai" for s in seen), seen.head()
    assert "ditolak" in set(allcsv["status"])
    # red alerts: merah1/merah2 with tgl_kejadian within 90 days of the month end, in some months
    alerts = 0
    for f, d in zip(_files(sample, r"fkdm/.*\.csv$"), csvs):
        end = pd.Period(f.parent.name, "M").end_time.normalize()
        kej = _dates(d["tgl_kejadian"])
        merah = d["kualifikasi"].str.replace(" ", "").str.casefold().isin(["merah1", "merah2"])
        alerts += int((merah & (kej >= end - pd.Timedelta(days=89)) & (d["status"] != "ditolak")).sum())
    assert alerts > 0
    xlsx = pd.concat(xlsxs, ignore_index=True).rename(
        columns={"Tgl Lapor": "tgl_lapor", "Tgl Kejadian": "tgl_kejadian", "Tgl Selesai": "tgl_selesai"}
    )
    both = pd.concat([allcsv, xlsx], ignore_index=True)
    kejadian, lapor, selesai = (_dates(both[c]) for c in ("tgl_kejadian", "tgl_lapor", "tgl_selesai"))
    assert ((kejadian > lapor) | (selesai < lapor)).sum() >= 1  # planted date_order
    assert (kejadian <= lapor).mean() > 0.9


def test_penanggung_jawab_positions_not_people(sample, kecamatan_3513):
    d = pd.read_csv(sample.out / "reference/penanggung_jawab.csv", dtype=str)
    assert list(d.columns) == ["kode_kecamatan", "penanggung_jawab"]
    assert d["penanggung_jawab"].str.match(r"^(Camat |Kasi Trantib Kec\. )").all()
    assert 1 <= len(kecamatan_3513) - len(d) <= 2


# --------------------------------------------------------------------------- defects and PII


def test_every_rule_planted(sample, tmp_path):
    planted = {r for r, n in sample.planted_rules.items() if n > 0}
    assert set(sample.planted_rules) <= RULES
    # Kabupaten Probolinggo has no two kecamatan (nor two desa of one kecamatan) sharing a
    # name, so an ambiguous name needs a wider scope: see test_all_scope_small
    assert planted >= RULES - {"ambiguous_region"}, RULES - planted
    sources = {f.split("/")[0] for f in sample.file_rules}
    assert sources == {"survey", "fkdm", "stats"}


def test_planted_defects_visible_in_files(sample):
    canon = pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in _files(sample, r"kanonik.*\.csv$")])
    items = canon[ITEMS]
    assert (items == "3.5").any().any() and (items == "0").any().any() and (items == "6").any().any()
    assert {"15", "104"} <= set(canon["umur"])
    assert canon["response_id"].duplicated().any()
    assert ((items == "").all(axis=1)).any()
    # after the end of the arrival month (the file's folder); canonical is 5 % of the
    # responses, so its small files plant their kinds in turn, not all in December
    assert any((pd.read_csv(f, dtype=str, keep_default_na=False)["submitted_at"].str[:7] > f.parent.name).any()
               for f in _files(sample, r"kanonik.*\.csv$"))  # fmt: skip
    assert canon["kode_kecamatan"].str.startswith("35.74.").any()  # Kota Probolinggo: out of scope
    kobo = pd.concat([pd.read_csv(f, dtype=str, sep=";", keep_default_na=False) for f in _files(sample, r"kobo_.*\.csv$")])
    assert kobo["_uuid"].duplicated().any() or any(
        _xlsx_frame(f)["_uuid"].duplicated().any() for f in _files(sample, r"kobo_.*\.xlsx$")
    )
    gf = pd.read_csv(_files(sample, r"gform_.*\.csv$")[-1], dtype=str, keep_default_na=False)
    answers = pd.concat([gf[h] for h in gf.columns if "[" in h])
    assert not answers[answers != ""].str.casefold().isin(LIKERT).all()  # an unknown label


def test_planted_pii_is_in_the_landing_files(sample):
    pii = sample.planted_pii
    assert any(re.fullmatch(r"\d{16}", v) for v in pii)
    assert any(re.fullmatch(r"[\w.]+@[\w.]+", v) for v in pii)
    assert any(re.fullmatch(r"(\+62|0)8[\d\s-]+", v) for v in pii)
    assert any(re.fullmatch(r"[A-Z][a-z.']+ [A-Z][a-z']+", v) for v in pii)
    text = []
    for f in sample.files:
        path = sample.out / f
        if path.suffix == ".xlsx":
            text += [str(c) for r in _xlsx_rows(path) for c in r]
        else:
            text.append(path.read_text(encoding="utf-8"))
    blob = "\n".join(text)
    rng = np.random.default_rng(0)
    for value in rng.choice(sorted(pii), 200, replace=False):
        assert value in blob, value
    assert all(len(v) >= 8 for v in pii)  # long enough to be searched for in outputs


def test_parsers_reject_exactly_what_was_planted(sample):
    """The project's parsers, run over the sample, reject per file exactly the rows the
    generator says it planted (by rule), and nothing else."""
    from harmoni_pipeline.ingest.fkdm import parse_fkdm_file
    from harmoni_pipeline.ingest.stats import parse_stats_file
    from harmoni_pipeline.ingest.survey import parse_survey_file
    from harmoni_pipeline.pii import Pseudonymizer
    from harmoni_pipeline.regions import Regions

    regions, pseudonymizer = Regions.load(), Pseudonymizer("test")
    for f in sample.files:
        source = f.split("/")[0]
        if source not in ("survey", "fkdm", "stats"):
            continue
        path, period = sample.out / f, f.split("/")[1]
        if source == "survey":
            parsed = parse_survey_file(path, display_path=f, regions=regions, scope="35.13", period=period,
                                       pseudonymizer=pseudonymizer)  # fmt: skip
        elif source == "fkdm":
            parsed = parse_fkdm_file(path, display_path=f, regions=regions, scope="35.13", period=period,
                                     pseudonymizer=pseudonymizer)  # fmt: skip
        else:
            parsed = parse_stats_file(path, display_path=f, regions=regions, scope="35.13")
        rejected = parsed.rejected
        found = {}
        if len(rejected):
            key = "line" if rejected["line"].notna().all() else "column"
            found = {rule: int(g[key].nunique()) for rule, g in rejected.groupby("rule")}
        assert found == sample.file_rules.get(f, {}), f


def test_all_scope_small(tmp_path):
    s = generate_landing_zone(tmp_path / "all", start="2025-11", end="2025-11", seed=5, scope="ALL",
                              responses=4000, reports=600)  # fmt: skip
    assert s.scope == "ALL" and s.responses["n"].sum() == 4000 and s.reports == 600
    kobo = pd.concat([pd.read_csv(f, dtype=str, sep=";", keep_default_na=False)
                      for f in _files(s, r"kobo_.*\.csv$")])  # fmt: skip
    provinces = set(kobo["identitas/kecamatan"].str[:2])
    assert len(provinces) >= 10
    assert len({f.split("/")[-1] for f in s.files if f.startswith("survey/")}) > 20
    assert s.planted_rules.get("ambiguous_region", 0) >= 1
    assert len(s.population) == 7285 * 10


def test_format_mix_is_exact(tmp_path):
    """``--responses``/``--reports`` are split by count: survey 60 % Google Forms, 30 % Kobo
    CSV, 5 % Kobo XLSX, 5 % canonical CSV; FKDM 80 % CSV, 20 % XLSX. Valid rows per format
    = data rows read back from the files minus the rows planted to break a rule (one month,
    so no cumulative re-export or status re-send adds rows)."""
    s = generate_landing_zone(tmp_path / "mix", start="2025-11", end="2025-11", seed=2, scope="ALL",
                              responses=3000, reports=500)  # fmt: skip
    kinds = {
        "survey/google_forms": r"survey/.*/gform_.*\.csv$", "survey/kobo_csv": r"survey/.*/kobo_.*\.csv$",
        "survey/kobo_xlsx": r"survey/.*/kobo_.*\.xlsx$", "survey/canonical": r"survey/.*/survei_kanonik_.*\.csv$",
        "fkdm/csv": r"fkdm/.*\.csv$", "fkdm/xlsx": r"fkdm/.*\.xlsx$",
    }  # fmt: skip
    valid = {}
    for kind, pattern in kinds.items():
        files = _files(s, pattern)
        assert files, kind
        rows = 0
        for f in files:
            if f.suffix == ".xlsx":
                rows += sum(any(v not in ("", None) for v in r) for r in _xlsx_rows(f)[1:])
            else:
                rows += len(pd.read_csv(f, dtype=str, sep=None, engine="python", keep_default_na=False))
        planted = sum(sum(s.file_rules.get(str(f.relative_to(s.out)), {}).values()) for f in files)
        valid[kind] = rows - planted
    assert valid == {"survey/google_forms": 1800, "survey/kobo_csv": 900, "survey/kobo_xlsx": 150,
                     "survey/canonical": 150, "fkdm/csv": 400, "fkdm/xlsx": 100}  # fmt: skip
    # wide scopes: the XLSX rekap carries desa codes (names would be ambiguous nationally)
    head = _xlsx_rows(_files(s, r"fkdm/.*\.xlsx$")[0])[0]
    assert "Kode Desa" in head and "Kecamatan" not in head


def test_unknown_desa_code_exists_for_every_kecamatan():
    """A planted unknown desa code is well-formed, of the row's kecamatan and not in the
    reference — also in a kecamatan whose desa fill 2001…2099 (Papua Pegunungan)."""
    from harmoni_pipeline.regions import Regions
    from harmoni_pipeline.sample.context import SampleContext
    from harmoni_pipeline.sample.fkdm import _unknown_desa_code

    ctx = SampleContext(Regions.load(), "ALL", "2025-01", "2025-01", 0)
    known = set(ctx.desa_code)
    crowded = int(np.argmax(np.bincount(ctx.desa_kec, minlength=ctx.n_kec)))
    for k in (0, crowded):
        code = _unknown_desa_code(ctx, k)
        assert re.fullmatch(re.escape(ctx.kec_code[k]) + r"\.\d{4}", code) and code not in known
