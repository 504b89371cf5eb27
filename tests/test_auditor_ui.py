"""The auditor's path through the Dagster UI, in a real browser (Debian's chromium driven
by Playwright, offline): a demo-like instance of one scored month, the webserver on it,
then the landing asset's observations, the lineage graph, a mart's materialisation
(a live ``dagster/uri``, the trail, what each column is computed from), its check
result, a check on a mart that is not the head table, and the offline Data Docs page.

Screenshots are kept in test-artifacts/auditor-ui/ (git-ignored). Without chromium the
test is skipped with a loud reason (``make test`` installs it through ``make system-deps``).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlparse

import dagster as dg
import pytest

from harmoni_pipeline.definitions import build_defs
from harmoni_pipeline.defs.resources import HarmoniResource
from tests.sample_runs import scored_sample

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync", "--disable-default-apps", "--disable-domain-reliability",
                 "--metrics-recording-only", "--no-pings"]
PERIOD = "2025-01"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "auditor-ui"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path, attempts: int = 240) -> None:
    for _ in range(attempts):  # bounded: the webserver loads the code location first
        if proc.poll() is not None:
            raise AssertionError(f"dagster-webserver exited: {log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"dagster-webserver did not answer: {log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """One scored month on a persistent instance, the landing sensor's first tick
    recorded (as the daemon records it), and the webserver on the instance."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"SKIPPED LOUDLY: no {CHROMIUM} on this machine (Debian package chromium; `make test` installs it "
                    "through `make system-deps`): the auditor's path through the Dagster UI was NOT checked")
    root = tmp_path_factory.mktemp("auditor")
    landing, warehouse, home = root / "landing", root / "warehouse", root / "home"
    home.mkdir()
    env = {"HARMONI_LANDING_DIR": str(landing), "HARMONI_WAREHOUSE_DIR": str(warehouse), "HARMONI_SCOPE": "35.13"}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        mp.delenv("HARMONI_SPLIT", raising=False)
        with scored_sample(landing, warehouse, start=PERIOD, scored=[PERIOD], seed=7, home=home) as instance:
            defs = build_defs({"harmoni": HarmoniResource()})
            sensor = defs.resolve_sensor_def("harmoni_landing_sensor")
            with dg.build_sensor_context(instance=instance, repository_def=defs.get_repository_def(),
                                         resources={"harmoni": HarmoniResource()}) as context:
                tick = sensor.evaluate_tick(context)
            for event in tick.asset_events:
                instance.report_runless_asset_event(event)
            mart = instance.get_latest_materialization_event(dg.AssetKey(["marts", "ihai_kecamatan"]))
            seen = [r.asset_observation for r in
                    instance.fetch_observations(dg.AssetKey(["landing", "survey"]), limit=10).records]
    port = _free_port()
    log = root / "webserver.log"
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "dagster-webserver"), "-m", "harmoni_pipeline.definitions",
         "-h", "127.0.0.1", "-p", str(port)],
        env={**os.environ, **env, "DAGSTER_HOME": str(home), "HARMONI_LANDING_SENSOR_SECONDS": "3600"},
        stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parent.parent,
        start_new_session=True,  # its own process group: the code server it starts ends with it
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(f"{base}/server_info", proc, log)
        yield {"base": base, "warehouse": warehouse, "landing": landing, "mart": mart, "observations": tick.asset_events,
               "seen": seen}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def browser(demo):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = chromium.new_page(viewport={"width": 1500, "height": 1300})
        elsewhere: list[str] = []

        def route(r):
            url = urlparse(r.request.url)
            if url.scheme in ("file", "data", "blob") or url.hostname in LOCAL_HOSTS:
                return r.continue_()
            elsewhere.append(r.request.url)  # offline: nothing may be asked of another host
            return r.abort()

        page.route("**/*", route)
        page.set_default_timeout(30_000)
        yield page, elsewhere
        chromium.close()


def _open(page, url: str) -> None:
    page.goto(url)
    skip = page.get_by_role("button", name="Skip")  # the community dialog, first visit of a fresh browser
    try:
        skip.wait_for(timeout=6000)
        skip.click()
    except Exception:  # noqa: BLE001 — not shown (already dismissed)
        pass


def _shot(page, name: str) -> Path:
    path = ARTIFACTS / name
    # transitions finished first: a dialog shot mid fade-in shows the page through it
    page.screenshot(path=str(path), full_page=False, animations="disabled")
    return path


def test_the_landing_asset_shows_its_observations(demo, browser):
    page, elsewhere = browser
    _open(page, f"{demo['base']}/assets/landing/survey")
    observed = next(o for o in demo["observations"] if o.asset_key == dg.AssetKey(["landing", "survey"]))
    files = observed.metadata["files"].value.records
    page.get_by_text("arrival_period").wait_for()
    body = page.locator("body").inner_text()
    assert "No metadata found" not in body
    assert "harmoni_landing_sensor" in body and PERIOD in body
    for record in files:  # every file of the month, with its SHA-256
        assert record.data["path"].rsplit("/", 1)[-1].split("_")[0] in body
    assert files[0].data["sha256"][:12] in body
    assert (demo["landing"] / "survey").as_uri() in body  # the Definition panel's Storage
    _shot(page, "01-landing-observations.png")
    # the staging run saw the folder too, with the format its parser detected
    by_run = [o for o in demo["seen"] if o.metadata["seen_by"].value.startswith("run ")]
    assert len(by_run) == 1 and len(demo["seen"]) == 2
    formats = {r.data["format"] for r in by_run[0].metadata["files"].value.records}
    assert formats and not formats & {"csv", "xlsx"}, formats  # detected (kobo, google_forms …), not the extension
    _open(page, f"{demo['base']}/assets/landing/survey?view=events")
    page.get_by_text("seen_by").first.wait_for()
    page.get_by_text("Observed").first.wait_for()
    _shot(page, "01b-landing-observation-events.png")
    assert elsewhere == []


def test_the_lineage_graph_runs_from_landing_to_the_marts(demo, browser):
    page, elsewhere = browser
    _open(page, f"{demo['base']}/assets/marts/ihai_kecamatan?view=lineage&lineageScope=upstream&lineageDepth=2")
    page.get_by_text("survey_responses").first.wait_for()
    text = page.locator("body").inner_text()
    for name in ("landing", "staging", "marts", "survey", "statistics", "ihai_kecamatan"):
        assert name in text, name
    _shot(page, "02-lineage-graph.png")
    assert elsewhere == []


def test_a_mart_materialisation_links_a_live_uri_and_shows_its_trail(demo, browser):
    page, elsewhere = browser
    metadata = demo["mart"].asset_materialization.metadata
    uri = metadata["dagster/uri"].value
    assert unquote(uri).endswith(f"snapshots/marts/period={PERIOD}.json") and ".pending" not in uri
    assert Path(unquote(urlparse(uri).path)).is_file(), "dagster/uri must stay valid after publication"
    _open(page, f"{demo['base']}/assets/marts/ihai_kecamatan?view=events")
    page.get_by_text("dagster/uri").first.wait_for()
    events = page.locator("body").inner_text()
    assert uri in events.replace("\n", "")
    assert "window_months" in events and "2024-02" in events
    _shot(page, "03-mart-materialisation-uri.png")
    # the overview: where this came from, in Markdown (the OSS UI does not draw column lineage)
    _open(page, f"{demo['base']}/assets/marts/ihai_kecamatan")
    row = page.locator("tr", has_text="trail").first
    row.get_by_text("Show Markdown").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Going further").wait_for()
    shown = dialog.inner_text()
    assert f"2024-02 … {PERIOD} (12 months)" in shown and "staging.survey_responses" in shown
    assert "<" not in shown and "**" not in shown  # rendered, nothing raw
    _shot(page, "04-mart-trail.png")
    page.keyboard.press("Escape")
    page.get_by_role("dialog").wait_for(state="detached")  # the first dialog closes before the next opens
    page.locator("tr", has_text="computed_from").first.get_by_text("Show Markdown").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("dim_budaya").wait_for()
    assert "X06_PER/PAR/AKS, X07_PER/PAR/AKS" in dialog.inner_text()
    _shot(page, "05-mart-computed-from.png")
    page.keyboard.press("Escape")
    assert elsewhere == []


def test_every_mart_shows_its_check_result(demo, browser):
    page, elsewhere = browser
    for n, mart in enumerate(("ihai_kecamatan", "ikn_provinsi")):  # the head table and one that is not
        _open(page, f"{demo['base']}/assets/marts/{mart}?view=checks")
        page.get_by_text("Latest execution").wait_for()
        text = page.locator("body").inner_text()
        assert "expectations" in text and "Passed" in text, mart
        assert f"marts/{mart} {PERIOD}:" in text and "expectations passed" in text
        assert "published_uri" in text and "blocking" in text
        assert "checks/suites/marts.*.json" in text  # the description renders as written
        _shot(page, f"06-check-{mart}.png")
    assert elsewhere == []


def test_the_data_docs_open_offline_styled_with_their_tables(demo, browser):
    page, elsewhere = browser
    pages = sorted((demo["warehouse"] / "data_docs" / "marts" / PERIOD).rglob("marts.ihai_kecamatan.rows.html"))
    assert pages, "no Data Docs page for the mart's suite"
    page.goto(pages[-1].as_uri())
    page.get_by_text("Expectations").first.wait_for()
    rows = page.locator("table").first.locator("tbody tr")
    assert rows.count() >= 10
    badge = page.locator(".badge.passed").first
    assert badge.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"  # styled, offline
    _shot(page, "07-data-docs.png")
    assert elsewhere == [], f"the Data Docs asked other hosts for {elsewhere}"
