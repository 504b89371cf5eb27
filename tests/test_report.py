"""The monthly report (harmoni_pipeline/report/): map data, colours, numbers, the report's
own check and publication, determinism, the boundary layers — on synthetic published
marts (tests/report_helpers.py), so each test renders in seconds."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from harmoni_pipeline import methodology as methodology_mod
from harmoni_pipeline.regions import Regions
from harmoni_pipeline.report import boundaries, build, check, content, numbers
from harmoni_pipeline.report.palette import NO_DATA_FILL, themes
from harmoni_pipeline.registry import catalog_tables
from harmoni_pipeline.warehouse import Warehouse
from tests.report_helpers import publish_synthetic

PERIODS = ["2025-02", "2025-03"]
PATH_RE = re.compile(r'<path data-kode="([^"]+)" d="[^"]*" fill="([^"]+)"><title>')


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    wh = Warehouse(tmp_path_factory.mktemp("warehouse"), catalog_tables())
    publish_synthetic(wh, "35", PERIODS, seed=3)  # the province: its kabupaten 35.13 too
    return wh


@pytest.fixture(scope="module")
def rendered(warehouse):
    return build.render(warehouse, PERIODS[-1], "35.13")


def _features(svg: str) -> dict[str, str]:
    found = PATH_RE.findall(svg)
    assert len(found) == len({k for k, _ in found}), "a feature is drawn twice"
    return dict(found)


# ---- numbers ------------------------------------------------------------------------------

def test_numbers_are_written_the_indonesian_way():
    assert numbers.angka(78.46) == "78,5"
    assert numbers.angka(7285.25, 2) == "7.285,25"
    assert numbers.bulat(7285) == "7.285"
    assert numbers.persen(0.123) == "12,3 %"
    assert numbers.selisih(-1.04) == "\u22121,0" and numbers.selisih(2.45) == "+2,5" and numbers.selisih(0.01) == "0,0"
    assert numbers.angka(None) == numbers.angka(float("nan")) == "–"
    assert numbers.bulan("2025-03") == "Maret 2025"


# ---- map data ----------------------------------------------------------------------------

@pytest.mark.parametrize("scope, level", [("35.13", "kecamatan"), ("35", "kabupaten"), ("ALL", "kabupaten"),
                                          ("35.14", "kabupaten")])
def test_map_data_covers_every_kecamatan_in_scope_exactly_once(scope, level):
    regions = Regions.load()
    kecamatan = regions.kecamatan_in_scope(scope)
    plan = boundaries.plan_map(scope, kecamatan)
    assert plan.level == level
    assert plan.units["kode"].is_unique
    assert set(plan.units["kode"]) == set(kecamatan["kode"])
    assert set(plan.units["unit"]) == set(plan.layer.codes), "every unit has exactly one polygon, and no other is drawn"
    assert check.coverage_problems(kecamatan["kode"], plan.units, set(plan.layer.codes)) == []
    if scope == "35.14":  # no kecamatan boundaries there: drawn as its kabupaten, with a note saying so
        assert plan.notes and "tidak tersedia" in plan.notes[0]
    if scope == "ALL":
        assert plan.outline is not None and len(plan.outline.codes) == len(regions.provinsi)


def test_the_packaged_layers_have_every_region_once_and_stay_small():
    regions = Regions.load()
    for level, expected in (("provinsi", regions.provinsi["kode"]), ("kabupaten", regions.kabupaten["kode"]),
                            ("kecamatan", regions.kecamatan_in_scope("35.13")["kode"])):
        layer = boundaries.load_layer(level)
        assert set(expected) <= set(layer.codes), level
        assert len(layer.codes) == len(set(layer.codes))
        assert all(g.is_valid and not g.is_empty for g in layer.geoms), level
        assert layer.path.stat().st_size < 5_000_000


def test_the_rendered_map_draws_every_kecamatan_once_in_the_colour_of_its_band(warehouse, rendered):
    themes_ = themes(methodology_mod.load())
    marts = content.load(warehouse, Regions.load(), PERIODS[-1], "35.13", methodology_mod.load()).kecamatan
    column = {"kerawanan": "tingkat_kerawanan", "ihai": "kategori_ihai", "kuadran": "kuadran"}
    for key in build.MAP_KEYS:
        svg = rendered.files[f"peta_{key}_{PERIODS[-1]}.svg"].decode()
        fills = _features(svg)
        assert set(fills) == set(marts["kode_kecamatan"])
        expected = marts.set_index("kode_kecamatan")[column[key]]
        for kode, fill in fills.items():
            label = expected[kode]
            if pd.isna(label):
                assert fill == f"url(#peta-{key}-nodata)", (key, kode)
            else:
                assert fill == themes_[key].colour(label) != NO_DATA_FILL, (key, kode, label)
    # the sample exercises every path: a category, "tidak cukup data", a red alert
    assert marts["tingkat_kerawanan"].isna().any() and marts["tingkat_kerawanan"].notna().any()
    assert marts["alert_merah"].any()


def test_band_colours_follow_the_methodology():
    m = methodology_mod.load()
    t = themes(m)
    assert t["ihai"].labels == m.ihai_bands.labels and t["kerawanan"].labels == m.risk_bands.labels
    assert len(set(t["kerawanan"].colours)) == len(t["kerawanan"].colours)
    for theme in t.values():
        assert NO_DATA_FILL not in theme.colours
        assert theme.colour(None) == NO_DATA_FILL
    assert t["kerawanan"].colour(m.risk_bands.labels[0]) == "#d7301f"  # the top risk band is red


# ---- HTML, PDF, check -----------------------------------------------------------------------

def test_the_html_is_self_contained_and_in_indonesian(rendered):
    html = rendered.files[f"laporan_{PERIODS[-1]}.html"].decode()
    assert "http://" not in html and "https://" not in html  # not even a namespace name
    assert check.remote_references(html) == []
    assert html.count('<svg class="peta"') == 3
    assert "bukan angka resmi" in html.lower()
    assert "harmoni trace --period 2025-03 --kecamatan 35.13.01" in html
    assert re.search(r"\d+,\d</td>", html), "decimal comma"
    assert "Maret 2025" in html and "Prioritas tindakan" in html and "Rekomendasi" in html
    assert methodology_mod.load().sha256 in html
    for name, payload in rendered.files.items():
        if name.endswith(".svg"):
            assert check.remote_references(payload.decode()) == [], name
    assert rendered.check.passed, str(rendered.check)
    assert rendered.pages >= 3


@pytest.mark.parametrize("snippet", ['<img src="https://cdn.example/x.png">', "<link href='//cdn.example/a.css'>",
                                     "<style>@import url(https://fonts.example/f.css)</style>",
                                     '<div style="background: url( http://tiles.example/1.png)">',
                                     '<image xlink:href="http://tiles.example/t.png"/>'])
def test_the_check_finds_a_remote_resource(snippet):
    assert check.remote_references(f"<html>{snippet}</html>")
    result = check.check_report(pd.Series(["a"]), pd.DataFrame({"kode": ["a"], "unit": ["a"]}), {"a"},
                                f"<p>{snippet}</p>", {}, 3)
    assert not result.passed and "remote resource" in str(result)


def test_the_check_finds_missing_or_repeated_kecamatan_and_an_empty_pdf():
    units = pd.DataFrame({"kode": ["a", "a", "c"], "unit": ["A", "A", "X"]})
    problems = check.check_report(pd.Series(["a", "b"]), units, {"A"}, "<p></p>", {}, 0).problems
    text = "; ".join(problems)
    assert "more than once" in text and "missing" in text and "outside the scope" in text
    assert "no boundary polygon" in text and "no page" in text


def test_rendering_is_deterministic(warehouse, rendered):
    again = build.render(warehouse, PERIODS[-1], "35.13")
    assert set(again.files) == set(rendered.files)
    for name, payload in rendered.files.items():
        assert again.files[name] == payload, name


# ---- publication --------------------------------------------------------------------------------

def test_publication_writes_the_files_and_a_manifest(warehouse):
    outcome = build.render_and_publish(warehouse, PERIODS[-1], "35.13")
    folder = Path(warehouse.root) / "reports" / f"period={PERIODS[-1]}"
    assert Path(outcome.published.folder) == folder
    names = set(build.file_names(PERIODS[-1]).values())
    assert {p.name for p in folder.iterdir()} == names | {"manifest.json"}
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["files"]) == names and manifest["scope"] == "35.13" and manifest["kecamatan"] == 24
    for name, entry in manifest["files"].items():
        assert (folder / name).stat().st_size == entry["bytes"]
    assert not list(Path(warehouse.tmp_dir).glob("report-*")), "the temporary folder is removed"


def test_a_report_that_fails_its_check_is_not_published(warehouse, monkeypatch, tmp_path):
    wh = Warehouse(tmp_path / "wh", catalog_tables())
    publish_synthetic(wh, "35.13", ["2025-03"], seed=1)
    real = boundaries.plan_map

    def lose_one(scope, kecamatan, folder=None):
        plan = real(scope, kecamatan, folder)
        return boundaries.MapPlan(plan.level, plan.layer, plan.units.iloc[1:], plan.notes, plan.outline)

    monkeypatch.setattr(boundaries, "plan_map", lose_one)
    with pytest.raises(build.ReportCheckError, match="missing from the map data"):
        build.render_and_publish(wh, "2025-03", "35.13")
    assert not (Path(wh.root) / "reports").exists()


def test_a_month_without_published_marts_is_refused(warehouse):
    with pytest.raises(content.ReportDataError, match="not published"):
        build.render(warehouse, "2024-01", "35.13")


# ---- wider scopes, an office's own boundaries ------------------------------------------------------

def test_a_province_report_draws_kabupaten_and_lists_the_most_urgent_kecamatan(warehouse):
    out = build.render(warehouse, PERIODS[-1], "35")
    assert out.check.passed, str(out.check)
    assert out.facts["map_level"] == "kabupaten"
    svg = out.files[f"peta_kerawanan_{PERIODS[-1]}.svg"].decode()
    assert set(_features(svg)) == set(Regions.load().kabupaten.query("kode_provinsi == '35'")["kode"])
    html = out.files[f"laporan_{PERIODS[-1]}.html"].decode()
    assert "batas kecamatan hanya tersedia" in html and "35.13" in html


def test_an_office_can_drop_in_its_own_boundaries(tmp_path, monkeypatch):
    own = tmp_path / "batas"
    own.mkdir()
    feature = {"type": "Feature", "properties": {"kode": "35.13.01", "nama": "Sukapura"},
               "geometry": {"type": "Polygon", "coordinates": [[[113.0, -7.9], [113.1, -7.9], [113.1, -8.0], [113.0, -7.9]]]}}
    (own / "kecamatan.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    monkeypatch.setenv(boundaries.ENV_VAR, str(own))
    folder = boundaries.boundaries_dir()
    assert boundaries.load_layer("kecamatan", folder).codes == ("35.13.01",)
    assert boundaries.load_layer("kabupaten", folder).path.parent == boundaries.PACKAGED_DIR  # other levels: packaged
    plan = boundaries.plan_map("35.13", Regions.load().kecamatan_in_scope("35.13"), folder)
    assert plan.level == "kabupaten" and plan.notes  # 23 kecamatan lack a polygon: drawn as the kabupaten
    (own / "kecamatan.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [feature, feature]}))
    with pytest.raises(boundaries.BoundaryError, match="more than once"):
        boundaries.load_layer("kecamatan", folder)


def test_a_warehouse_on_object_storage_gets_its_report_uploaded(tmp_path):
    import uuid

    wh = Warehouse(f"memory://harmoni-report-{uuid.uuid4().hex[:8]}", catalog_tables(), local_dir=tmp_path / "local")
    publish_synthetic(wh, "35.13", ["2025-03"], seed=2)
    outcome = build.render_and_publish(wh, "2025-03", "35.13")
    listed = {p.name for p in wh.storage.glob(wh.root / "reports" / "period=2025-03", "*")}
    assert listed == set(build.file_names("2025-03").values()) | {"manifest.json"}
    assert outcome.published.urls["manifest.json"].startswith("memory://")
