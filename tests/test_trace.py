"""The auditor's trail end to end (issue 14 items 1–2): on the shared sample run,
``harmoni trace`` agrees with the marts and — recomputed here independently, in SQL over
the staging tables — with the respondents, FKDM report versions, files and runs behind a
score; the ``audit.score_*`` tables are published in the marts' snapshot, so a blocked or
killed publication leaves the old trail and the old marts together."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from harmoni_pipeline import methodology as methodology_mod
from harmoni_pipeline import registry
from harmoni_pipeline.quality.gate import gate
from harmoni_pipeline.quality.validate import validate_marts
from harmoni_pipeline.scoring.marts import SNAPSHOT_TABLES
from harmoni_pipeline.registry import catalog_tables
from harmoni_pipeline.trace.query import TraceError, trace
from harmoni_pipeline.trace.schemas import TRAIL_TABLES
from harmoni_pipeline.warehouse import Warehouse
from tests.publication_killer import command as killer

REPO = Path(__file__).resolve().parent.parent

HARMONI = str(Path(sys.executable).parent / "harmoni")
PERIOD = "2025-03"
IHAI_ITEMS = [f"X{v:02d}_{a}" for v in range(1, 11) for a in ("PER", "PAR", "AKS")]
IKN_ITEMS = [f"KN{v}_{a}" for v in range(1, 6) for a in ("PER", "PAR", "AKS")]

# Independent of harmoni_pipeline.scoring: methodology §1.4 and data contract §3.4 in SQL.
FIRST_COPIES = """
SELECT response_id, kode_kecamatan, period, source_path, line, run_id,
       ({ihai}) AS answered_ihai, ({ikn}) AS answered_ikn
FROM staging.survey_responses WHERE period <= $period
QUALIFY row_number() OVER (PARTITION BY response_id ORDER BY period, file_order, line) = 1
"""
LATEST_REPORTS = """
SELECT * FROM staging.fkdm_reports WHERE period <= $period
QUALIFY row_number() OVER (PARTITION BY no_laporan ORDER BY period DESC, file_order DESC, line DESC) = 1
"""


@pytest.fixture(scope="module")
def run(scored_2025q1):
    landing, root, _ = scored_2025q1
    return landing, root, Warehouse(root, catalog_tables())


def harmoni(*args: str, warehouse: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HARMONI_WAREHOUSE_DIR": str(warehouse), "HARMONI_SCOPE": "35.13"}
    env.pop("DAGSTER_HOME", None)
    return subprocess.run([HARMONI, *args], capture_output=True, text=True, env=env, timeout=120)


def catalog(root: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(root / "harmoni.duckdb"), read_only=True)


def any_answered(items: list[str]) -> str:
    return " OR ".join(f'"{i}" IS NOT NULL' for i in items)


def window_start(period: str) -> str:
    from harmoni_pipeline.periods import shift

    return shift(period, -11)


def staged_respondents(con, period: str, kode: str, index: str) -> set[tuple]:
    """(response_id, source_path, line) of the first copies counted for ``index``."""
    sql = FIRST_COPIES.format(ihai=any_answered(IHAI_ITEMS), ikn=any_answered(IKN_ITEMS))
    rows = con.execute(f"SELECT response_id, source_path, line FROM ({sql}) WHERE period >= $start "
                       f"AND kode_kecamatan = $kode AND answered_{index}",
                       {"period": period, "start": window_start(period), "kode": kode}).fetchall()
    return set(rows)


def busiest_kecamatan(con, period: str) -> list[str]:
    """Kecamatan with a reported IHaI and IKN (ok), most FKDM reports first."""
    return [r[0] for r in con.execute(
        "SELECT kode_kecamatan FROM marts.ikn_kecamatan WHERE period = ? AND n_laporan > 0 "
        "ORDER BY n_laporan DESC, kode_kecamatan LIMIT 3", [period]).fetchall()]


def test_trace_agrees_with_the_marts_and_with_staging_recomputed_independently(run):
    _, root, wh = run
    con = catalog(root)
    for period in ("2025-01", PERIOD):
        for kode in busiest_kecamatan(con, period):
            doc = trace(wh, period, kode)
            by_index = {s["index"]: s for s in doc["scores"]}
            ihai = con.execute("SELECT ihai, status, kategori, n_responden FROM marts.ihai_kecamatan "
                               "WHERE period = ? AND kode_kecamatan = ?", [period, kode]).fetchone()
            ikn = con.execute("SELECT ikn, status, kategori, n_responden, n_laporan FROM marts.ikn_kecamatan "
                              "WHERE period = ? AND kode_kecamatan = ?", [period, kode]).fetchone()
            kuadran = con.execute("SELECT kuadran FROM marts.harmoni_kewaspadaan WHERE period = ? AND "
                                  "kode_kecamatan = ?", [period, kode]).fetchone()
            assert (by_index["ihai"]["value"], by_index["ihai"]["status"], by_index["ihai"]["category"]) == ihai[:3]
            assert (by_index["ikn"]["value"], by_index["ikn"]["status"], by_index["ikn"]["category"]) == ikn[:3]
            assert by_index["kuadran"]["value"] == kuadran[0]

            rows = doc["respondent_rows"]
            for index, n in (("ihai", ihai[3]), ("ikn", ikn[3])):
                traced = {(r["response_id"], r["path"], r["line"]) for r in rows if r["index"] == index}
                assert len(traced) == n  # the mart's n_responden
                assert traced == staged_respondents(con, period, kode, index)
            assert all(r["weight"] > 0 for r in rows)

            latest = con.execute(f"""
                SELECT no_laporan, source_path, line FROM ({LATEST_REPORTS})
                WHERE kode_kecamatan = $kode AND status <> 'ditolak' AND tgl_lapor >= CAST($first AS DATE)
                  AND tgl_lapor <= last_day(CAST($last AS DATE))""",
                {"period": period, "kode": kode, "first": window_start(period) + "-01", "last": period + "-01"}
            ).fetchall()
            in_window = {(r["no_laporan"], r["path"], r["line"]) for r in doc["reports"] if r["in_window"]}
            assert in_window == set(latest) and doc["reports_in_window"] == ikn[4] == len(latest)

            # exactly the files whose rows were used, each with its SHA-256 as ingestion recorded it
            used_paths = ({r["path"] for r in rows} | {r["path"] for r in doc["reports"]}
                          | {s["path"] for s in doc["statistics"]})
            assert {s["path"] for s in doc["sources"]} == used_paths
            recorded = dict(con.execute("SELECT path, sha256 FROM audit.source_files WHERE rows_read > 0").fetchall())
            assert all(recorded[s["path"]] == s["sha256"] for s in doc["sources"])
            for source in doc["sources"]:
                if source["kind"] == "survey":
                    assert source["rows_used"] == len({r["response_id"] for r in rows if r["path"] == source["path"]})

            # the staging runs are the runs that published the rows used
            staged_runs = set(con.execute(f"""
                SELECT DISTINCT 'staging.survey_responses', period, run_id FROM ({FIRST_COPIES.format(
                    ihai=any_answered(IHAI_ITEMS), ikn=any_answered(IKN_ITEMS))})
                WHERE period >= $start AND kode_kecamatan = $kode AND (answered_ihai OR answered_ikn)""",
                {"period": period, "start": window_start(period), "kode": kode}).fetchall())
            traced_runs = {(r["layer"], r["partition"], r["run_id"]) for r in doc["runs"]}
            assert staged_runs <= traced_runs
            marts_run = con.execute("SELECT DISTINCT run_id FROM marts.ihai_kecamatan WHERE period = ?", [period]).fetchall()
            assert ("marts", period, marts_run[0][0]) in traced_runs and len(marts_run) == 1


def test_a_redelivered_response_is_traced_to_its_first_arrival(run):
    """Cumulative re-exports deliver a response again in later months: the trace names
    the file of its first arrival, never the re-delivery."""
    _, root, wh = run
    con = catalog(root)
    redelivered = con.execute("""
        SELECT s.response_id, min(s.period) AS first_period, count(DISTINCT s.period) AS periods
        FROM staging.survey_responses s JOIN audit.score_respondents r
          ON r.response_id = s.response_id AND r.period = $period AND r.indeks = 'ihai'
        WHERE s.period <= $period GROUP BY s.response_id HAVING count(DISTINCT s.period) > 1
    """, {"period": PERIOD}).fetchall()
    assert redelivered, "the sample has no cumulative re-export: this test would prove nothing"
    first = {rid: period for rid, period, _ in redelivered}
    kode = con.execute("SELECT kode_kecamatan FROM audit.score_respondents WHERE period = ? AND response_id = ?",
                       [PERIOD, redelivered[0][0]]).fetchone()[0]
    doc = trace(wh, PERIOD, kode, "ihai")
    traced = {r["response_id"]: r for r in doc["respondent_rows"]}
    checked = [rid for rid in first if rid in traced]
    assert checked
    for rid in checked:
        assert traced[rid]["arrival_period"] == first[rid]
        assert traced[rid]["path"].split("/")[1] == first[rid]


def test_json_document_has_the_contract_fields(run):
    _, root, _ = run
    kode = busiest_kecamatan(catalog(root), PERIOD)[0]
    proc = harmoni("trace", "--period", PERIOD, "--kecamatan", kode, "--index", "ikn", "--json", warehouse=root)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["indices"] == ["ikn"] and [s["index"] for s in doc["scores"]] == ["ikn"]
    assert set(doc["methodology"]) == {"version", "sha256"} and len(doc["methodology"]["sha256"]) == 64
    assert doc["methodology"]["sha256"] == methodology_mod.load(doc["methodology"]["version"]).sha256
    assert len(doc["window_months"]) == 12 and doc["window_months"][-1] == PERIOD
    assert doc["sources"] and all({"path", "sha256", "kind", "arrival_period", "rows_used"} <= set(s)
                                  for s in doc["sources"])
    assert {s["kind"] for s in doc["sources"]} == {"survey", "fkdm", "stats"}
    assert isinstance(doc["respondents"], int) and doc["respondents"] == len(doc["respondent_rows"])
    assert doc["respondents"] == doc["scores"][0]["columns"]["n_responden"]
    assert {"no_laporan", "path", "line", "status", "tgl_lapor"} <= set(doc["reports"][0])
    assert {"indikator", "tahun", "nilai", "path", "diwarisi"} <= set(doc["statistics"][0])
    assert {"layer", "partition", "run_id"} <= set(doc["runs"][0])
    fields = {k for rows in (doc["respondent_rows"], doc["reports"], doc["statistics"]) for row in rows for k in row}
    assert not fields & {"respondent_key", "pelapor_key", "pelapor_nama", "pelapor_hp", "nik", "no_hp", "email"}


def test_text_output_names_the_score_files_and_runs(run):
    _, root, wh = run
    kode = busiest_kecamatan(catalog(root), PERIOD)[0]
    proc = harmoni("trace", "--period", PERIOD, "--kecamatan", kode, warehouse=root)
    assert proc.returncode == 0, proc.stderr
    doc = trace(wh, PERIOD, kode)
    for heading in ("IHaI:", "IKN:", "Kuadran:", "Source files whose rows were used", "Respondents counted:",
                    "FKDM report versions used", "Statistics values used", "Runs that produced each layer"):
        assert heading in proc.stdout, heading
    assert doc["sources"][0]["path"] in proc.stdout and doc["runs"][-1]["run_id"] in proc.stdout


@pytest.mark.parametrize("args, says", [
    (("--period", PERIOD, "--kecamatan", "99.99.99"), "kecamatan 99.99.99 has no score in 2025-03"),
    (("--period", "2024-06", "--kecamatan", "35.13.19"), "no marts are published for 2024-06"),
])
def test_an_unknown_kecamatan_or_an_unpublished_month_is_a_clear_error(run, args, says):
    _, root, wh = run
    proc = harmoni("trace", *args, warehouse=root)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("harmoni: ") and says in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    with pytest.raises(TraceError):
        trace(wh, args[1], args[3])


def test_the_trail_is_published_in_the_marts_snapshot(run):
    _, root, wh = run
    con = catalog(root)
    for period in ("2025-01", "2025-02", PERIOD):
        manifest = wh.manifest("marts", period)
        # the marts and their trail; the uncertainty tables join the same manifest by their own gate
        assert set(SNAPSHOT_TABLES) <= set(manifest.tables) <= set(SNAPSHOT_TABLES) | set(registry.UNCERTAINTY_TABLES)
        runs = {con.execute(f"SELECT DISTINCT run_id FROM {t} WHERE period = ?", [period]).fetchone() for t in SNAPSHOT_TABLES
                if con.execute(f"SELECT count(*) FROM {t} WHERE period = ?", [period]).fetchone()[0]}
        assert runs == {(manifest.run_id,)}
    # the trail's counts are the marts' counts, in SQL (docs/auditor.md)
    disagreeing = con.execute("""
        SELECT count(*) FROM marts.ihai_kecamatan m LEFT JOIN (
            SELECT period, kode_kecamatan, count(*) AS n FROM audit.score_respondents WHERE indeks = 'ihai' GROUP BY ALL
        ) r USING (period, kode_kecamatan) WHERE coalesce(r.n, 0) <> m.n_responden""").fetchone()[0]
    assert disagreeing == 0


def copy_of(root: Path, tmp_path: Path) -> Warehouse:
    copy = tmp_path / "wh"
    shutil.copytree(root, copy)
    wh = Warehouse(copy, catalog_tables())
    wh.build_catalog()  # the copy's own catalog (the copied one names the original's files)
    return wh


def candidates_of_a_new_run(wh: Warehouse, run_id: str, weight: float | None = None) -> None:
    """The period's published tables again as run ``run_id``'s candidates (a trail
    weight changed to ``weight`` when given)."""
    for table in SNAPSHOT_TABLES:
        data = wh.read_partition(table, PERIOD)
        data = data.set_column(data.schema.get_field_index("run_id"), "run_id", pa.array([run_id] * data.num_rows))
        if weight is not None and table == "audit.score_respondents":
            data = data.set_column(data.schema.get_field_index("weight"), "weight",
                                   pa.array([weight] * data.num_rows, pa.float64()))
        wh.write_pending(table, PERIOD, data, run_id)


def assert_trail_and_marts_of_one_run(wh: Warehouse, run_id: str) -> None:
    for table in SNAPSHOT_TABLES:
        assert set(wh.read_partition(table, PERIOD).column("run_id").to_pylist()) <= {run_id}, table


def test_a_blocked_trail_publishes_neither_trail_nor_marts(run, tmp_path):
    _, root, _ = run
    wh = copy_of(root, tmp_path)
    old = wh.manifest("marts", PERIOD).run_id
    candidates_of_a_new_run(wh, "blocked", weight=0.0)  # weights must be > 0: the trail's suite blocks
    m = methodology_mod.load()
    result = gate(SNAPSHOT_TABLES, PERIOD, run_id="blocked", warehouse=wh, check_name="expectations",
                  validate=lambda c: validate_marts(c, PERIOD, methodology=m, run_name="blocked", docs=None))
    assert not result.passed and not result.published
    assert {o.suite for o in result.report.failures()} == {"audit.score_respondents.rows"}
    assert wh.manifest("marts", PERIOD).run_id == old
    assert_trail_and_marts_of_one_run(wh, old)


@pytest.mark.parametrize("kill_at", [1, len(TRAIL_TABLES) + 2, len(SNAPSHOT_TABLES), len(SNAPSHOT_TABLES) + 1])
def test_a_publication_killed_midway_leaves_the_old_trail_with_the_old_marts(run, tmp_path, kill_at):
    """SIGKILL after some of the fifteen files are moved into place, and just before the
    manifest switches: readers still get the old marts and the old trail, together."""
    _, root, _ = run
    wh = copy_of(root, tmp_path)
    old = wh.manifest("marts", PERIOD).run_id
    candidates_of_a_new_run(wh, "killed")
    proc = subprocess.run(killer(wh.root, kill_at, PERIOD, "killed", "snapshot"), capture_output=True,
                          text=True, timeout=120, cwd=REPO)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    fresh = Warehouse(wh.root, catalog_tables())
    assert fresh.manifest("marts", PERIOD).run_id == old
    assert_trail_and_marts_of_one_run(fresh, old)
    fresh.build_catalog()
    con = catalog(fresh.root)
    assert {r[0] for r in con.execute("SELECT DISTINCT run_id FROM audit.score_sources WHERE period = ?",
                                      [PERIOD]).fetchall()} == {old}


def test_runs_get_job_status_and_code_version_from_a_reachable_instance(run, tmp_path, monkeypatch, capsys):
    """With DAGSTER_HOME naming an instance that holds the scoring run, the trace adds
    its job, status and the marts' code version; staging runs it does not hold stay as
    the warehouse recorded them."""
    import argparse

    import dagster as dg

    from harmoni_pipeline.assets.marts import SCORING_CODE_VERSION
    from harmoni_pipeline.definitions import build_defs
    from harmoni_pipeline.defs.resources import HarmoniResource
    from harmoni_pipeline.settings import Settings
    from harmoni_pipeline.trace.command import run as run_trace

    landing, root, _ = run
    wh = copy_of(root, tmp_path)
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    defs = build_defs({"harmoni": HarmoniResource(landing_dir=str(landing), warehouse_dir=str(wh.root), scope="35.13")})
    with dg.DagsterInstance.get() as instance:
        assert defs.resolve_job_def("score_monthly").execute_in_process(partition_key=PERIOD, instance=instance).success
    kode = busiest_kecamatan(catalog(wh.root), PERIOD)[0]
    settings = Settings.from_env(warehouse_dir=str(wh.root), scope="35.13", pii_key="unused", environ={})
    args = argparse.Namespace(period=PERIOD, kecamatan=kode, index="ihai", json=True)
    assert run_trace(args, settings) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    marts = [r for r in runs if r["layer"] == "marts"]
    assert marts == [{**marts[0], "job": "score_monthly", "status": "SUCCESS"}]
    assert SCORING_CODE_VERSION in marts[0]["code_version"].split(", ")  # the marts layer's assets (and uncertainty's)
    assert all("job" not in r for r in runs if r["layer"] != "marts")  # staged by runs of another instance


# The respondents' trail as it was first defined: a SQL join of each index's respondents
# with the survey window, sorted. harmoni_pipeline.trace.build now takes the rows in Arrow
# (issue 19: the join and sort held ≈ 1.6 GB nationally); this is the oracle it must equal.
RESPONDENTS_JOIN_SQL = """
SELECT CAST(w.kode_kecamatan AS VARCHAR) AS kode_kecamatan, r.indeks, CAST(w.response_id AS VARCHAR) AS response_id,
    CAST(w.jenis_kelamin AS VARCHAR) AS jenis_kelamin, CAST(w.umur AS BIGINT) AS umur, r.weight,
    CAST(w.pii_key_id AS VARCHAR) AS pii_key_id, CAST(w.period AS VARCHAR) AS arrival_period,
    CAST(w.source_path AS VARCHAR) AS source_path, CAST(w.source_sha256 AS VARCHAR) AS source_sha256,
    CAST(w.line AS BIGINT) AS line, CAST(w.staging_run_id AS VARCHAR) AS staging_run_id
FROM used r JOIN window_rows w USING (row_number)
ORDER BY kode_kecamatan, indeks, response_id
"""


def _period_scores(root: Path, period: str):
    from harmoni_pipeline.regions import Regions
    from harmoni_pipeline.scoring import marts, survey

    wh = Warehouse(root, catalog_tables())
    m = methodology_mod.load()
    ctx = marts.PeriodContext(period=period, warehouse=wh, regions=Regions.load(), scope="35.13", methodology=m,
                              run_id="test-run")
    read = marts.read_inputs(ctx)
    scores = {"ihai": survey.score_index(read.window, list(m.ihai["variables"]), ctx.codes(), read.population, m),
              "ikn": survey.score_index(read.window, m.ikn_dimensions, ctx.codes(), read.population, m)}
    return read.window, scores


def test_respondents_trail_equals_the_join_of_respondents_and_window_in_sql(run):
    from harmoni_pipeline.trace.build import respondents

    _, root, _ = run
    window, scores = _period_scores(root, PERIOD)
    built = respondents(window, scores)
    assert built.num_rows == sum(len(s.rows) for s in scores.values()) > 1000
    used = pa.table({"indeks": [name for name, s in scores.items() for _ in s.rows],
                     "row_number": [int(r) for s in scores.values() for r in s.rows],
                     "weight": [float(w) for s in scores.values() for w in s.weights]})
    plain = window.assign(**{c: window[c].astype("str") for c in window.columns if window[c].dtype == "category"})
    con = duckdb.connect()
    con.register("window_rows", plain.assign(row_number=range(len(window))))
    con.register("used", used)
    expected = con.sql(RESPONDENTS_JOIN_SQL).to_arrow_table()
    assert built.schema.names == expected.schema.names
    assert built.cast(expected.schema).equals(expected)


def test_respondents_trail_refuses_a_window_out_of_order(run):
    from harmoni_pipeline.trace.build import respondents

    _, root, _ = run
    window, scores = _period_scores(root, PERIOD)
    swapped = window.iloc[[1, 0, *range(2, len(window))]].reset_index(drop=True)
    with pytest.raises(ValueError, match="not ordered by"):
        respondents(swapped, scores)


def test_survey_window_provenance_is_that_of_each_response_first_copy(run):
    """The window's provenance columns (read as categories) hold each response's first
    copy's file, run and arrival month, as staging has them."""
    from harmoni_pipeline.scoring import inputs

    _, root, _ = run
    window, _ = _period_scores(root, PERIOD)
    assert {c for c in window.columns if window[c].dtype == "category"} == set(inputs.WINDOW_CATEGORIES)
    con = catalog(root)
    staged = con.execute(FIRST_COPIES.format(ihai=any_answered(IHAI_ITEMS), ikn=any_answered(IKN_ITEMS)),
                         {"period": PERIOD}).df().set_index("response_id")
    got = window.set_index("response_id")
    first = staged.loc[got.index]
    assert (got["source_path"].astype(str) == first["source_path"]).all()
    assert (got["staging_run_id"].astype(str) == first["run_id"]).all()
    assert (got["period"].astype(str) == first["period"]).all()
