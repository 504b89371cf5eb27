"""The report end to end: a generated landing zone through the monthly jobs (the report
asset runs after the marts are published), the files in reports/period=…/, the
materialisation's metadata, a real browser (Debian chromium, offline) showing the HTML
with its map, and the PDF's first page as an image with the map on it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import dagster as dg
import numpy as np
import pytest
from PIL import Image

from harmoni_pipeline.report import build, numbers
from harmoni_pipeline.report.palette import RISK_COLOURS
from tests.sample_runs import scored_sample

pytestmark = pytest.mark.slow

SCORED = ["2025-01", "2025-02"]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    landing = tmp_path_factory.mktemp("landing")
    warehouse = tmp_path_factory.mktemp("warehouse")
    with scored_sample(landing, warehouse, start="2024-12", scored=SCORED, seed=5) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["report"]))
        checks = [r.event_log_entry.dagster_event for r in instance.get_records_for_run(
            instance.get_runs(limit=1)[0].run_id).records
            if r.event_log_entry.dagster_event and r.event_log_entry.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"
            and r.event_log_entry.dagster_event.asset_check_evaluation_data.asset_check_key.name == "report_check"]
    return warehouse / "reports" / f"period={SCORED[-1]}", event, checks


def _non_white_share(image: Image.Image) -> float:
    pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
    return float((pixels.min(axis=2) < 235).mean())


def _has_colour(image: Image.Image, hex_colour: str, tolerance: int = 12, min_pixels: int = 50) -> bool:
    pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
    target = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(pixels - target).max(axis=2) <= tolerance).sum()) >= min_pixels


def test_the_monthly_job_publishes_the_report_after_the_marts(run):
    folder, event, checks = run
    names = build.file_names(SCORED[-1]).values()
    assert {p.name for p in folder.iterdir()} == set(names) | {"manifest.json"}
    assert checks and checks[-1].asset_check_evaluation_data.passed
    metadata = event.asset_materialization.metadata
    assert metadata["published"].value is True
    assert metadata["ketidakpastian"].value is True  # rendered after the month's uncertainty tables were published
    assert metadata["peta"].value.startswith("![peta kerawanan](data:image/png;base64,")
    assert set(metadata["tingkat_kerawanan"].value) >= {"Tinggi", "Sedang", "Rendah", "Tidak cukup data"}
    assert sum(metadata["tingkat_kerawanan"].value.values()) == metadata["kecamatan"].value == 24
    assert metadata["html"].value.endswith(f"laporan_{SCORED[-1]}.html")
    for png in folder.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_report_opens_in_a_real_browser_offline_and_shows_the_map(run, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"SKIPPED LOUDLY: no {CHROMIUM} on this machine (Debian package chromium; `make test` installs it "
                    "through `make system-deps`): the real-browser screenshot of the report was NOT checked")
    from playwright.sync_api import sync_playwright

    folder, _, _ = run
    html = folder / f"laporan_{SCORED[-1]}.html"
    requested = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1100, "height": 1400})

        def route(r):
            if r.request.url.startswith("file:"):
                return r.continue_()
            requested.append(r.request.url)
            return r.abort()

        page.route("**/*", route)
        page.goto(html.as_uri(), wait_until="load")
        shot = tmp_path / "page.png"
        page.screenshot(path=str(shot), full_page=False)
        box = page.locator("#peta-utama").bounding_box()
        paths = page.locator("#peta-utama svg g.wilayah path").count()
        browser.close()
    assert requested == [], f"the report asked other hosts for {requested}"
    assert paths == 24
    image = Image.open(shot)
    assert _non_white_share(image) > 0.05, "the page is blank"
    assert box and box["width"] > 300 and box["height"] > 200
    crop = image.crop((int(box["x"]), int(box["y"]), int(box["x"] + box["width"]),
                       int(min(box["y"] + box["height"], image.height))))
    assert _non_white_share(crop) > 0.25, "the map region is (nearly) empty"
    assert sum(_has_colour(crop, c) for c in RISK_COLOURS) >= 2, "the map shows no risk colours"


def test_the_pdf_converts_to_page_images_with_the_map_on_page_1(run, tmp_path):
    if shutil.which("pdftoppm") is None:
        pytest.skip("SKIPPED LOUDLY: no pdftoppm (Debian package poppler-utils; `make test` installs it)")
    folder, _, _ = run
    pdf = folder / f"laporan_{SCORED[-1]}.pdf"
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(tmp_path / "halaman")], check=True)
    pages = sorted(tmp_path.glob("halaman-*.png"))
    assert len(pages) >= 3
    first = Image.open(pages[0])
    assert first.size[1] > first.size[0], "A4 portrait"
    top = first.crop((0, int(first.height * 0.15), first.width, int(first.height * 0.55)))  # where the map sits
    assert _non_white_share(top) > 0.2
    assert sum(_has_colour(top, c, min_pixels=30) for c in RISK_COLOURS) >= 2, "no coloured map on page 1"


def test_the_report_shows_how_sure_the_numbers_are(run, tmp_path):
    """The section reads the month's published uncertainty tables of the same run: one row
    per kecamatan with a score, its interval around the published value, a rank band,
    the Sobol headline and the group tables; the PDF has it on a page of its own."""
    import re

    from harmoni_pipeline.registry import catalog_tables
    from harmoni_pipeline.warehouse import Warehouse

    folder, _, _ = run
    html = (folder / f"laporan_{SCORED[-1]}.html").read_text(encoding="utf-8")
    section = re.search(r'<section class="bab" id="ketidakpastian">(.*?)</section>', html, re.S).group(1)
    assert "tidak tersedia" not in section
    warehouse = Warehouse(folder.parent.parent, catalog_tables())
    published = warehouse.query("SELECT kode_kecamatan, skor, skor_p05, skor_p95 FROM {marts.ikn_ketidakpastian} "
                                "WHERE period = ? AND skor IS NOT NULL", [SCORED[-1]]).fetchall()
    assert published, "the sample month has IKN intervals"
    table = re.search(r'<table class="yakin">(.*?)</table>', section, re.S).group(1)
    for kode, skor, p05, p95 in published:
        row = [r for r in re.findall(r"<tr>(.*?)</tr>", table, re.S) if f'<span class="catatan">{kode}</span>' in r]
        assert len(row) == 1, kode
        assert f"{numbers.angka(skor)}</td><td class=\"n\">{numbers.angka(p05)}–{numbers.angka(p95)}" in row[0], kode
    assert re.search(r"Peringkat <b>(IHaI|IKN)</b> paling dipengaruhi oleh <b>", section)
    assert "<h4>Jenis kelamin</h4>" in section and "<h4>Kelompok umur</h4>" in section
    if shutil.which("pdftotext") is None:
        pytest.skip("SKIPPED LOUDLY: no pdftotext (Debian package poppler-utils): the section's PDF page was NOT checked")
    pdf = folder / f"laporan_{SCORED[-1]}.pdf"
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    pages = text.split("\f")
    start = [i for i, page in enumerate(pages) if "Seberapa yakin angka ini?" in page]
    assert len(start) == 1 and "Peringkat kerawanan" in " ".join(pages[start[0]].split())
