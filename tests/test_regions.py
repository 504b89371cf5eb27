"""harmoni_pipeline.regions against the real packaged reference data."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
import yaml

from harmoni_pipeline.regions import REFERENCE_DIR, RULES, Regions, normalise_name


@pytest.fixture(scope="module")
def regions() -> Regions:
    return Regions.load()


def kodes(df: pd.DataFrame) -> list:
    return [None if pd.isna(v) else v for v in df["kode"]]


def rules(df: pd.DataFrame) -> list:
    return [None if pd.isna(v) else v for v in df["rule"]]


def one(df: pd.DataFrame) -> tuple:
    assert len(df) == 1
    row = df.iloc[0]
    return (
        None if pd.isna(row["kode"]) else row["kode"],
        None if pd.isna(row["rule"]) else row["rule"],
        None if pd.isna(row["message"]) else row["message"],
    )


def kec(regions: Regions, value, scope="35.13", kabupaten=None) -> tuple:
    kab = None if kabupaten is None else pd.Series([kabupaten], dtype=object)
    return one(regions.resolve_kecamatan(pd.Series([value], dtype=object), scope, kabupaten=kab))


# ---------------------------------------------------------------------- loading, counts


def test_load_is_cached():
    # (how long a load takes is measured by make bench, not asserted: a loaded machine varies)
    fresh = Regions.from_directory(REFERENCE_DIR)
    assert Regions.load() is Regions.load()
    assert len(fresh.kecamatan) == len(Regions.load().kecamatan)


def test_counts(regions):
    assert len(regions.provinsi) == 38
    assert len(regions.kabupaten) == 514
    assert len(regions.kecamatan) == 7_285
    assert len(regions.desa) == 83_762
    assert regions.kecamatan["kode"].is_unique and regions.desa["kode"].is_unique


def test_kabupaten_probolinggo(regions):
    kec = regions.kecamatan_in_scope("35.13")
    assert len(kec) == 24
    assert set(kec["kode_kabupaten"]) == {"35.13"}
    desa = regions.desa[regions.desa["kode_kecamatan"].isin(set(kec["kode"]))]
    assert len(desa) == 330
    kelurahan = desa[desa["kode"].str.slice(9, 10) == "1"]
    assert len(kelurahan) == 5 and set(kelurahan["kode_kecamatan"]) == {"35.13.14"}  # all in Kraksaan
    assert regions.name_of("35.13") == "Kabupaten Probolinggo"
    assert regions.name_of("35.13.16") == "Pajarakan"


def test_frames_shapes(regions):
    assert list(regions.provinsi.columns) == ["kode", "nama"]
    assert list(regions.kabupaten.columns) == ["kode", "nama", "kode_provinsi"]
    assert list(regions.kecamatan.columns) == ["kode", "nama", "kode_kabupaten", "kode_provinsi"]
    assert list(regions.desa.columns) == ["kode", "nama", "kode_kecamatan"]
    row = regions.kecamatan.set_index("kode").loc["35.13.19"]
    assert (row["nama"], row["kode_kabupaten"], row["kode_provinsi"]) == ("Dringu", "35.13", "35")
    assert regions.desa.set_index("kode").loc["35.13.19.2001", "kode_kecamatan"] == "35.13.19"
    assert regions.kabupaten.set_index("kode").loc["35.74", "nama"] == "Kota Probolinggo"


def test_population(regions):
    pop = regions.population
    assert list(pop.columns) == ["kode", "nama", "pria", "wanita", "total"]
    assert "0" not in set(pop["kode"])
    assert len(pop) == 38 + 514
    p = pop.set_index("kode").loc["35.13"]
    assert (p["pria"], p["wanita"], p["total"]) == (592_531, 608_400, 1_200_931)
    assert (pop["pria"] + pop["wanita"] == pop["total"]).all()


# ---------------------------------------------------------------------- scope


@pytest.mark.parametrize(
    "given, expected",
    [("35.13", "35.13"), ("35", "35"), ("ALL", "ALL"), ("all", "ALL"), (" All ", "ALL"), ("3513", "35.13"), ("35_13", "35.13")],
)
def test_validate_scope(regions, given, expected):
    assert regions.validate_scope(given) == expected


@pytest.mark.parametrize("bad", ["35.13.19", "99", "35.99", "Probolinggo", "", None, "35.13.19.2001", "nationwide"])
def test_invalid_scope(regions, bad):
    with pytest.raises(ValueError, match="scope"):
        regions.validate_scope(bad)
    with pytest.raises(ValueError):
        regions.resolve_kecamatan(pd.Series(["Dringu"]), bad)


def test_in_scope_whole_segments(regions):
    codes = pd.Series(["35.13", "35.13.01", "35.13.19.2001", "35.131", "35.74.01", "35", None], index=list("abcdefg"))
    assert regions.in_scope(codes, "35.13").tolist() == [True, True, True, False, False, False, False]
    assert regions.in_scope(codes, "35").tolist() == [True] * 6 + [False]
    assert regions.in_scope(codes, "ALL").tolist() == [True] * 6 + [False]
    assert list(regions.in_scope(codes, "35.13").index) == list("abcdefg")
    assert regions.in_scope(codes, "35.13").dtype == bool


def test_kecamatan_in_scope(regions):
    assert len(regions.kecamatan_in_scope("35")) == (regions.kecamatan["kode_provinsi"] == "35").sum()
    assert len(regions.kecamatan_in_scope("all")) == 7_285
    assert list(regions.kecamatan_in_scope("35.13").columns) == list(regions.kecamatan.columns)


# ---------------------------------------------------------------------- kecamatan: codes


@pytest.mark.parametrize("value", ["35.13.19", "35_13_19", "351319", " 35.13.19 ", 351319, 351319.0, "351319.0"])
def test_kecamatan_code_forms(regions, value):
    assert kec(regions, value) == ("35.13.19", None, None)


def test_kecamatan_bps_code(regions):
    assert kec(regions, "3513060") == ("35.13.20", None, None)  # Tegalsiwalan
    assert kec(regions, 3513060) == ("35.13.20", None, None)
    kode, rule, message = kec(regions, "3599999")
    assert (kode, rule) == (None, "unknown_region") and "bridge" in message


def test_kecamatan_code_errors(regions):
    assert kec(regions, "35.74.01")[:2] == (None, "out_of_scope")  # Kademangan, Kota Probolinggo
    assert "outside scope 35.13" in kec(regions, "35.74.01")[2]
    assert kec(regions, "35.74.01", scope="35") == ("35.74.01", None, None)
    assert kec(regions, "35.13.99")[:2] == (None, "unknown_region")
    assert kec(regions, "35.13")[:2] == (None, "unknown_region")  # a kabupaten code
    assert kec(regions, "35.13.19.2001")[:2] == (None, "unknown_region")  # a desa code
    assert kec(regions, "35.13.9")[:2] == (None, "unknown_region")  # malformed
    assert kec(regions, "12345")[:2] == (None, "unknown_region")


@pytest.mark.parametrize("value", [None, np.nan, pd.NA, "", "   "])
def test_kecamatan_missing(regions, value):
    assert kec(regions, value)[:2] == (None, "missing_field")


# ---------------------------------------------------------------------- kecamatan: names


@pytest.mark.parametrize(
    "value",
    [
        "Dringu",
        "DRINGU",
        "dringu",
        "  Dringu  ",
        "Kec. Dringu",
        "Kec.Dringu",
        "Kec Dringu",
        "KECAMATAN DRINGU",
        "kecamatan   dringu",
        "200. Dringu",  # BPS number prefix (Dringu is BPS 3513200)
        "200 Dringu",
        "200. Kec. Dringu",
        "Dringu.",
        "'Dringu'",
    ],
)
def test_kecamatan_name_variations(regions, value):
    assert kec(regions, value) == ("35.13.19", None, None)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("Tegal Siwalan", "35.13.20"),  # spaces are ignored only as a fallback
        ("Tegal-Siwalan", "35.13.20"),
        ("Kota Anyar", "35.13.11"),
        ("Sumber Asih", "35.13.21"),
        ("Pejarakan", "35.13.16"),  # name_variants.yaml
        ("PEJARAKAN", "35.13.16"),
        ("Kec. Pejarakan", "35.13.16"),
        ("Pajarakan", "35.13.16"),
        ("010. Sukapura", "35.13.01"),
        ("010 Sukapura", "35.13.01"),
    ],
)
def test_kecamatan_spellings(regions, value, expected):
    assert kec(regions, value) == (expected, None, None)


def test_kecamatan_name_with_digits_is_tried_literally_first(regions):
    # '2 x 11 Kayu Tanam' (Padang Pariaman) starts with a number but is a real name
    assert kec(regions, "2 x 11 Kayu Tanam", scope="13") == ("13.05.15", None, None)
    assert kec(regions, "010. 2 x 11 Kayu Tanam", scope="13") == ("13.05.15", None, None)


def test_kecamatan_ambiguous_in_province(regions):
    # Lumbang is a kecamatan of Kabupaten Probolinggo (35.13.24) and of Kabupaten Pasuruan (35.14.04)
    kode, rule, message = kec(regions, "Lumbang", scope="35")
    assert (kode, rule) == (None, "ambiguous_region")
    assert message == "kecamatan 'Lumbang' matches 2 kecamatan in scope 35: 35.13.24, 35.14.04"
    assert kec(regions, "Lumbang", scope="35.13") == ("35.13.24", None, None)
    assert kec(regions, "Lumbang", scope="35.14") == ("35.14.04", None, None)
    # Gondang: four kecamatan in Jawa Timur
    kode, rule, message = kec(regions, "Gondang", scope="35")
    assert rule == "ambiguous_region" and "matches 4 kecamatan" in message


def test_kecamatan_ambiguous_nationally(regions):
    # Kuripan: Probolinggo, Lombok Barat, Banjar; unique in scope 35
    assert kec(regions, "Kuripan", scope="35") == ("35.13.03", None, None)
    kode, rule, message = kec(regions, "Kuripan", scope="ALL")
    assert (kode, rule) == (None, "ambiguous_region")
    assert "35.13.03" in message and "52.01.15" in message and "63.04.11" in message
    assert kec(regions, "Tongas", scope="ALL") == ("35.13.23", None, None)


def test_out_of_scope_vs_unknown(regions):
    # exactly one elsewhere
    kode, rule, message = kec(regions, "Kedungjajang")  # 35.08.16, Lumajang
    assert (kode, rule) == (None, "out_of_scope")
    assert "35.08.16" in message
    # several elsewhere, none here: still out_of_scope (it exists, just not here)
    kode, rule, message = kec(regions, "Kademangan")  # Blitar 35.05.04, Kota Probolinggo 35.74.01
    assert (kode, rule) == (None, "out_of_scope")
    assert "35.05.04" in message and "35.74.01" in message
    # nowhere
    assert kec(regions, "Xyz") == (None, "unknown_region", "kecamatan 'Xyz' not found")
    assert kec(regions, "Kedungrejo")[:2] == (None, "unknown_region")  # a desa name, not a kecamatan
    assert kec(regions, "Probolinggo")[:2] == (None, "unknown_region")


def test_kecamatan_within_kabupaten_column(regions):
    # the row's Kabupaten/Kota narrows names; bare 'Probolinggo' narrows to both candidates
    assert kec(regions, "Lumbang", scope="35", kabupaten="Kab. Probolinggo") == ("35.13.24", None, None)
    assert kec(regions, "Lumbang", scope="35", kabupaten="Kabupaten Pasuruan") == ("35.14.04", None, None)
    assert kec(regions, "Lumbang", scope="35", kabupaten="3514") == ("35.14.04", None, None)
    assert kec(regions, "Lumbang", scope="35", kabupaten="Probolinggo") == ("35.13.24", None, None)
    assert kec(regions, "Kademangan", scope="35", kabupaten="Probolinggo") == ("35.74.01", None, None)
    assert kec(regions, "Kademangan", scope="35", kabupaten="Kota Probolinggo") == ("35.74.01", None, None)
    # the kabupaten lies outside scope
    assert kec(regions, "Kademangan", scope="35.13", kabupaten="Kota Probolinggo")[:2] == (None, "out_of_scope")
    # not in the given kabupaten, but exists elsewhere
    kode, rule, message = kec(regions, "Dringu", scope="35", kabupaten="Kota Probolinggo")
    assert (kode, rule) == (None, "out_of_scope") and "35.13.19" in message
    # an unusable kabupaten value falls back to scope
    assert kec(regions, "Dringu", scope="35.13", kabupaten="Xyz") == ("35.13.19", None, None)
    assert kec(regions, "Dringu", scope="35.13", kabupaten=None) == ("35.13.19", None, None)


def test_kabupaten_argument_forms(regions):
    values = pd.Series(["Lumbang", "Lumbang", "Lumbang"], index=[10, 20, 30])
    kab = pd.Series(["Kabupaten Pasuruan", None, "Kab. Probolinggo"], index=[10, 20, 30])
    out = regions.resolve_kecamatan(values, "35", kabupaten=kab)
    assert kodes(out) == ["35.14.04", None, "35.13.24"]
    assert rules(out) == [None, "ambiguous_region", None]
    # aligned by label when both indexes hold the same labels in another order
    out = regions.resolve_kecamatan(values, "35", kabupaten=kab.iloc[::-1])
    assert kodes(out) == ["35.14.04", None, "35.13.24"]
    # a scalar applies to every row
    out = regions.resolve_kecamatan(values, "35", kabupaten="Kabupaten Pasuruan")
    assert kodes(out) == ["35.14.04"] * 3


# ---------------------------------------------------------------------- result frame


def test_result_frame_shape(regions):
    values = pd.Series(["Dringu", None, "Xyz", "35.74.01", "Kuripan"], index=[7, 3, 9, 1, 5])
    out = regions.resolve_kecamatan(values, "35.13")
    assert list(out.columns) == ["kode", "rule", "message"]
    assert list(out.index) == [7, 3, 9, 1, 5]
    for col in out.columns:
        assert out[col].dtype == "string"
    assert kodes(out) == ["35.13.19", None, None, None, "35.13.03"]
    assert rules(out) == [None, "missing_field", "unknown_region", "out_of_scope", None]
    assert out["message"].isna().tolist() == [True, False, False, False, True]
    assert set(out["rule"].dropna()) <= set(RULES)


def test_empty_input(regions):
    out = regions.resolve_kecamatan(pd.Series([], dtype=object), "35.13")
    assert len(out) == 0 and list(out.columns) == ["kode", "rule", "message"]


def test_million_rows(regions):
    names = list(regions.kecamatan_in_scope("35")["nama"]) + ["35.13.19", "35_13_01", "3513060", "Xyz", None, "Pejarakan"]
    rng = np.random.default_rng(1)
    values = pd.Series(rng.choice(np.array(names, dtype=object), 1_000_000))
    kab = pd.Series(rng.choice(np.array(["Kab. Probolinggo", "Kota Probolinggo", None], dtype=object), 1_000_000))
    t0 = time.perf_counter()
    out = regions.resolve_kecamatan(values, "35")
    out_kab = regions.resolve_kecamatan(values, "35", kabupaten=kab)
    elapsed = time.perf_counter() - t0
    assert len(out) == len(out_kab) == 1_000_000
    assert out["kode"][values == "Pejarakan"].eq("35.13.16").all()
    assert out["rule"][values.isna()].eq("missing_field").all()
    # the same answer as resolving each distinct value on its own
    single = regions.resolve_kecamatan(pd.Series(names, dtype=object), "35")
    expected = dict(zip(names, single["kode"].tolist()))
    sample = values.iloc[:1000]
    assert out["kode"].iloc[:1000].tolist() == [pd.NA if pd.isna(v) else expected[v] for v in sample]
    print(f"1,000,000 rows x 2 resolved in {elapsed:.2f} s")


# ---------------------------------------------------------------------- desa


def desa(regions, values, kecs, scope="35.13", **kw):
    return regions.resolve_desa(pd.Series(values, dtype=object), pd.Series(kecs, dtype=object), scope, **kw)


def test_desa_code_forms(regions):
    out = desa(regions, ["35.13.19.2001", "35_13_19_2001", "3513192001", 3513192001], ["35.13.19"] * 4)
    assert kodes(out) == ["35.13.19.2001"] * 4
    assert rules(out) == [None] * 4


def test_desa_code_in_wrong_kecamatan(regions):
    out = desa(regions, ["35.13.19.2001"], ["35.13.18"])
    kode, rule, message = one(out)
    assert (kode, rule) == (None, "unknown_region")
    assert "not in kecamatan 35.13.18 (Gending)" in message
    # without a kecamatan the code resolves on its own
    assert kodes(desa(regions, ["35.13.19.2001"], [None])) == ["35.13.19.2001"]
    # unknown and out-of-scope codes
    assert rules(desa(regions, ["35.13.19.2999"], ["35.13.19"])) == ["unknown_region"]
    assert rules(desa(regions, ["35.74.01.1001"], [None])) == ["out_of_scope"]
    assert rules(desa(regions, ["35.74.01.1001"], ["35.74.01"], scope="35")) == [None]


def test_desa_names_within_kecamatan(regions):
    # Patokan is a desa of Bantaran (35.13.04.2003) and a kelurahan of Kraksaan (35.13.14.1017)
    out = desa(
        regions,
        ["Patokan", "patokan", "Desa Patokan", "Kel. Patokan", "Patokan", "Watuwungkuk", "WATU WUNGKUK"],
        ["35.13.04", "35.13.04", "35.13.04", "35.13.14", "35.13.19", "35.13.19", "35_13_19"],
    )
    assert kodes(out) == ["35.13.04.2003", "35.13.04.2003", "35.13.04.2003", "35.13.14.1017", None, "35.13.19.2001", "35.13.19.2001"]
    assert rules(out) == [None, None, None, None, "unknown_region", None, None]
    assert "not found in kecamatan 35.13.19 (Dringu)" in out["message"].iloc[4]


def test_desa_apostrophe(regions):
    # Remba'an, Kecamatan Sumber
    out = desa(regions, ["Remba'an", "Rembaan", "REMBA’AN", "Desa Remba'an"], ["35.13.02"] * 4)
    assert kodes(out) == ["35.13.02.2009"] * 4


def test_desa_ambiguous_and_kelurahan_hint(regions):
    # Sorkam Kanan is both a kelurahan (..1001) and a desa (..2018) of kecamatan 12.01.10
    out = desa(regions, ["Sorkam Kanan", "Kel. Sorkam Kanan", "Desa Sorkam Kanan"], ["12.01.10"] * 3, scope="ALL")
    assert rules(out) == ["ambiguous_region", None, None]
    assert kodes(out) == [None, "12.01.10.1001", "12.01.10.2018"]
    # names that differ only by spaces/punctuation stay distinct when written out
    out = desa(regions, ["Lubuk Pakam I,II", "Lubuk Pakam III"], ["12.07.28"] * 2, scope="ALL")
    assert kodes(out) == ["12.07.28.1007", "12.07.28.1008"]


def test_desa_empty_and_without_kecamatan(regions):
    out = desa(regions, [None, "", "Watuwungkuk"], ["35.13.19", "35.13.19", None])
    assert kodes(out) == [None, None, None]
    assert rules(out) == [None, None, "unknown_region"]
    assert out["message"].isna().tolist() == [True, True, False]
    assert rules(desa(regions, [None], ["35.13.19"], required=True)) == ["missing_field"]
    # an unknown kecamatan code: a desa name cannot be found in it
    assert rules(desa(regions, ["Watuwungkuk"], ["35.13.99"])) == ["unknown_region"]


def test_desa_out_of_scope_kecamatan(regions):
    out = desa(regions, ["Ketapang"], ["35.74.01"], scope="35.13")
    assert rules(out) == ["out_of_scope"]


# ---------------------------------------------------------------------- kabupaten


def test_resolve_kabupaten(regions):
    values = pd.Series(
        [
            "Kab. Probolinggo",
            "Kab Probolinggo",
            "Kabupaten Probolinggo",
            "KABUPATEN  PROBOLINGGO",
            "Kota Probolinggo",
            "kota probolinggo",
            "Probolinggo",
            "35.13",
            "3513",
            "35_74",
            "Pasuruan",
            "Batu",
            "Kota Adm. Jakarta Pusat",
            "Kepulauan Seribu",
            "35",
            "Xyz",
            None,
        ]
    )
    out = regions.resolve_kabupaten(values)
    assert list(out.columns) == ["kode", "rule", "message"]
    assert kodes(out) == [
        "35.13", "35.13", "35.13", "35.13", "35.74", "35.74", None, "35.13", "35.13", "35.74",
        None, "35.79", "31.71", "31.01", None, None, None,
    ]
    assert rules(out) == [None] * 6 + ["ambiguous_region"] + [None] * 3 + ["ambiguous_region"] + [None] * 3 + [
        "unknown_region", "unknown_region", "missing_field",
    ]
    assert "35.13 (Kabupaten Probolinggo)" in out["message"].iloc[6]
    assert "35.74 (Kota Probolinggo)" in out["message"].iloc[6]


# ---------------------------------------------------------------------- statistics codes


def test_resolve_wilayah_code(regions):
    values = pd.Series(["35.13", "3513", "35.13.20", "351320", "35_13_20", "3513060", "35.74", "35.74.01",
                        "35", "35.13.20.2001", "Dringu", "35.13.99", "", None])
    out = regions.resolve_wilayah_code(values, "35.13")
    assert list(out.columns) == ["kode", "rule", "message", "level"]
    assert kodes(out) == ["35.13", "35.13", "35.13.20", "35.13.20", "35.13.20", "35.13.20"] + [None] * 8
    assert [None if pd.isna(v) else v for v in out["level"]] == ["kabupaten"] * 2 + ["kecamatan"] * 4 + [None] * 8
    assert rules(out) == [None] * 6 + ["out_of_scope", "out_of_scope", "unknown_region", "unknown_region",
                                       "unknown_region", "unknown_region", "missing_field", "missing_field"]
    assert kodes(regions.resolve_wilayah_code(pd.Series(["35.74", "35.74.01"]), "35")) == ["35.74", "35.74.01"]


# ---------------------------------------------------------------------- BPS bridge


def test_bps_bridge_tegalsiwalan(regions):
    bridge = pd.read_csv(REFERENCE_DIR / "kecamatan_bps_kemendagri_2020.csv", dtype=str)
    row = bridge.set_index("kode_bps").loc["3513060"]
    assert (row["nama_bps"], row["kode_kemendagri"]) == ("TEGALSIWALAN", "35.13.20")
    assert regions.name_of("35.13.20") == "Tegalsiwalan"
    out = regions.bps_to_kemendagri(pd.Series(["3513060", 3513060, "3513170", "9999999", None, " 3513060 "], index=list("abcdef")))
    assert out.dtype == "string"
    assert list(out.index) == list("abcdef")
    assert [None if pd.isna(v) else v for v in out] == ["35.13.20", "35.13.20", "35.13.16", None, None, "35.13.20"]


def test_bps_bridge_covers_probolinggo_and_points_at_2025_codes(regions):
    bridge = pd.read_csv(REFERENCE_DIR / "kecamatan_bps_kemendagri_2020.csv", dtype=str)
    mapped = regions.bps_to_kemendagri(bridge["kode_bps"])
    known = set(regions.kecamatan["kode"])
    assert mapped.dropna().isin(known).all()
    prob = mapped[bridge["kode_bps"].str.startswith("3513")]
    assert len(prob) == 24 and set(prob) == set(regions.kecamatan_in_scope("35.13")["kode"])
    # a 2020 Papua Barat code (92.04.04 Inanwatan) re-pointed after the 2022 split
    assert mapped[bridge["kode_bps"] == "9106010"].iloc[0] == "96.02.02"
    assert regions.name_of("96.02.02") == "Inanwatan"


# ---------------------------------------------------------------------- variants table


def test_name_variants_table(regions):
    with (REFERENCE_DIR / "name_variants.yaml").open(encoding="utf-8") as fh:
        table = yaml.safe_load(fh)
    assert table["version"] == regions.name_variants_version == 1
    assert {"level": "kecamatan", "within": "35.13", "variant": "Pejarakan", "kode": "35.13.16"}.items() <= table["variants"][0].items()
    official = {normalise_name(n) for n in regions.kecamatan["nama"]}
    for entry in table["variants"]:
        assert entry["level"] == "kecamatan"
        assert entry["kode"].startswith(entry["within"] + ".")
        assert normalise_name(entry["variant"]) not in official  # never shadows an official name
        out = regions.resolve_kecamatan(pd.Series([entry["variant"]]), entry["within"])
        assert kodes(out) == [entry["kode"]], entry


def test_normalise_name():
    assert normalise_name("  Kec.  Tegal-Siwalan ") == "kec tegal siwalan"
    assert normalise_name("Remba'an") == normalise_name("REMBA’AN") == "rembaan"
    assert normalise_name("Lubuk Pakam I,II") == "lubuk pakam i ii"
    assert normalise_name("Pulau-Pulau/Kur") == "pulau pulau kur"
