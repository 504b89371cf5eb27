"""The landing zone's shape (issue 12): folders that are not partitions, periods out of
range, links out of the zone, hidden and loose files are recorded in
audit.landing_issues and reported — by `harmoni run`, the landing sensor and `harmoni
status` — and never stop a run or a sensor tick; `.incoming/` and `~$` lock files are
ignored silently; a period outside the partitions is a one-line error."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
from pathlib import Path

import dagster as dg
import pytest

from harmoni_pipeline.defs.sensors import KEY_ENTRY
from harmoni_pipeline.ingest import landing_shape
from harmoni_pipeline.ingest.landing import HashCache, earlier_periods, partition_files
from harmoni_pipeline.ingest.landing_shape import LandingIssue, check_period, partition_range, record_issues, scan
from harmoni_pipeline.periods import shift
from harmoni_pipeline.registry import catalog_tables
from harmoni_pipeline.defs.resources import HarmoniResource
from harmoni_pipeline.warehouse import Warehouse
from tests.landing_helpers import landing_sensor_tick, rows_across_scope, write_canonical_survey

BEYOND = shift(partition_range("survey")[1], 1)          # the month after the last partition
BEYOND_YEAR = str(int(partition_range("stats")[1]) + 1)


def _odd_zone(landing: Path, outside: Path, month: str = "2025-10") -> dict[str, str]:
    """Every odd input beside a good delivery of ``month``; returns path → expected problem."""
    good = landing / "survey" / month
    write_canonical_survey(good / "export.csv", rows_across_scope(month))
    outside.mkdir(parents=True, exist_ok=True)
    elsewhere = write_canonical_survey(outside / "elsewhere.csv", rows_across_scope(month)[:3])
    write_canonical_survey(landing / "survey" / "2025-11-copy" / "export.csv", rows_across_scope("2025-11"))
    write_canonical_survey(landing / "survey" / "2025-13" / "export.csv", rows_across_scope("2025-11"))
    write_canonical_survey(landing / "survey" / BEYOND / "export.csv", rows_across_scope("2025-11"))
    write_canonical_survey(landing / "survey" / "2021-12" / "export.csv", rows_across_scope("2025-11"))
    write_canonical_survey(landing / "stats" / BEYOND_YEAR / "bps.csv", [])
    (landing / "stats" / "2025-01").mkdir(parents=True)
    (good / "linked_out.csv").symlink_to(elsewhere)
    (good / "broken.csv").symlink_to(outside / "missing.csv")
    (landing / "fkdm").mkdir(parents=True, exist_ok=True)
    (landing / "fkdm" / "2025-10").symlink_to(outside, target_is_directory=True)  # a whole partition out of the zone
    (good / ".hidden.csv").write_text("x\n")
    (good / "..dotdot.csv").write_text("x\n")
    (good / "~$export.xlsx").write_bytes(b"lock")                 # ignored silently (Office lock file)
    write_canonical_survey(good / ".incoming" / "partial.csv", [])  # ignored silently (being written)
    write_canonical_survey(landing / "survey" / ".incoming" / "next.csv", [])
    (landing / "survey" / "loose.csv").write_text("x\n")
    return {
        "fkdm/2025-10": "symbolic link resolving outside the landing zone: refused",
        "stats/2025-01": "folder name is not a period (YYYY): not read",
        f"stats/{BEYOND_YEAR}": "period after the last partition (the current year): not read",
        "survey/2021-12": "period before the first partition (2022-01): not read",
        "survey/2025-11-copy": "folder name is not a period (YYYY-MM): not read",
        "survey/2025-13": "folder name is not a period (YYYY-MM): not read",
        f"survey/{BEYOND}": "period after the last partition (the current month): not read",
        f"survey/{month}/..dotdot.csv": "hidden file (name starts with '.'): not read",
        f"survey/{month}/.hidden.csv": "hidden file (name starts with '.'): not read",
        f"survey/{month}/broken.csv": "broken symbolic link: not read",
        f"survey/{month}/linked_out.csv": "symbolic link resolving outside the landing zone: refused",
        "survey/loose.csv": "file outside a period folder: not read",
    }


def test_each_odd_entry_is_one_issue_and_only_partition_files_are_read(tmp_path):
    landing = tmp_path / "landing"
    expected = _odd_zone(landing, tmp_path / "outside")
    listing = scan(landing)
    assert {i.path: i.problem for i in listing.issues} == expected
    assert all(i.source == i.path.split("/")[0] for i in listing.issues)
    assert listing.periods == {"survey": ["2025-10"], "fkdm": [], "stats": []}
    assert listing.files[("survey", "2025-10")] == [landing / "survey" / "2025-10" / "export.csv"]
    # the listing of a partition and the planner's folders follow the same rule
    files = partition_files(landing, "survey", "2025-10", HashCache(None))
    assert [f.rel_path for f in files] == ["survey/2025-10/export.csv"]
    assert partition_files(landing, "fkdm", "2025-10", HashCache(None)) == []
    assert earlier_periods(landing, "survey", "2025-12") == ["2025-10"]


def test_a_link_inside_the_zone_is_read_under_its_own_path(tmp_path):
    landing = tmp_path / "landing"
    original = write_canonical_survey(landing / "survey" / "2025-09" / "export.csv", rows_across_scope("2025-09"))
    (landing / "survey" / "2025-10").mkdir(parents=True)
    (landing / "survey" / "2025-10" / "again.csv").symlink_to(Path("..") / "2025-09" / original.name)
    (landing / "survey" / "2025-10" / "folder").symlink_to(original.parent, target_is_directory=True)
    files = partition_files(landing, "survey", "2025-10", HashCache(None))
    assert [f.rel_path for f in files] == ["survey/2025-10/again.csv"]
    assert [str(i) for i in scan(landing).issues] == ["survey/2025-10/folder: symbolic link to a folder: not followed"]


def test_periods_outside_the_partitions_are_one_line_errors():
    assert check_period("2025-10") == "2025-10"
    with pytest.raises(ValueError, match=rf"^--period {BEYOND} is outside the partitions \(2022-01\.\.\d{{4}}-\d\d\)$"):
        check_period(BEYOND, option="--period")
    with pytest.raises(ValueError, match=r"^--from 2021-12 is outside the partitions"):
        check_period("2021-12", option="--from")
    with pytest.raises(ValueError, match=r"^--to '2025-13' is not a period YYYY-MM$"):
        check_period("2025-13", option="--to")


def test_first_seen_stays_and_last_seen_moves(tmp_path):
    wh = Warehouse(tmp_path / "wh", catalog_tables())
    a, b = LandingIssue("survey", "survey/x", "p"), LandingIssue("survey", "survey/.y.csv", "q")
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    t1, t2 = t0 + dt.timedelta(days=1), t0 + dt.timedelta(days=2)
    assert record_issues(wh, [a], now=t0) == [a]
    assert record_issues(wh, [a, b], now=t1) == [b]
    assert record_issues(wh, [a, b], now=t2, only_if_new=True) == []  # the sensor: nothing new, nothing written
    assert record_issues(wh, [b], now=t2) == []
    rows = wh.query("SELECT path, first_seen, last_seen FROM {audit.landing_issues} ORDER BY path").fetchall()
    assert rows == [("survey/.y.csv", t1, t2), ("survey/x", t0, t1)]  # a, no longer seen, keeps its last sighting
    con = wh.connect_readonly()  # the catalog has the view
    assert con.execute("SELECT count(*) FROM audit.landing_issues").fetchone() == (2,)
    con.close()


def _record_one(root: str, i: int) -> None:
    record_issues(Warehouse(root, catalog_tables()), [LandingIssue("survey", f"survey/odd-{i}", "p")])


def test_concurrent_recordings_lose_no_row(tmp_path):
    root = str(tmp_path / "wh")
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_record_one, args=(root, i)) for i in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert all(p.exitcode == 0 for p in procs)
    table = landing_shape.recorded_issues(Warehouse(root, catalog_tables()))
    assert sorted(table.column("path").to_pylist()) == [f"survey/odd-{i}" for i in range(6)]


def _evaluate(defs, instance, cursor):
    result = landing_sensor_tick(defs, instance, cursor)
    return result.run_requests or [], result.cursor


def test_the_landing_sensor_requests_only_partitions_and_records_issues_without_raising(env):
    from harmoni_pipeline.definitions import build_defs

    expected = _odd_zone(env["landing"], env["tmp"] / "outside")
    defs = build_defs({"harmoni": HarmoniResource()})
    defs.get_repository_def()
    wh = Warehouse(env["warehouse"], catalog_tables())
    with dg.instance_for_test() as instance:
        requests, cursor = _evaluate(defs, instance, None)
        assert [(r.job_name, r.partition_key) for r in requests] == [("ingest_monthly", "2025-10")]
        assert set(json.loads(cursor)) == {"survey/2025-10/export.csv", KEY_ENTRY}
        recorded = landing_shape.recorded_issues(wh)
        assert dict(zip(recorded.column("path").to_pylist(), recorded.column("problem").to_pylist())) == expected
        version = wh.current_file(landing_shape.TABLE, landing_shape.PARTITION)
        again, _ = _evaluate(defs, instance, cursor)  # known issues: not written again
        assert again == [] and wh.current_file(landing_shape.TABLE, landing_shape.PARTITION) == version
        # a new odd entry: recorded on the next tick, still no run for it
        write_canonical_survey(env["landing"] / "survey" / "2025-10 (2)" / "export.csv", rows_across_scope("2025-10"))
        more, _ = _evaluate(defs, instance, cursor)
        assert more == []
        assert "survey/2025-10 (2)" in landing_shape.recorded_issues(wh).column("path").to_pylist()


@pytest.fixture(scope="module")
def odd_run(tmp_path_factory):
    """`harmoni run` of a later month on a sample landing zone full of odd entries."""
    import contextlib
    import io

    from harmoni_pipeline.cli import main
    from harmoni_pipeline.sample import generate_landing_zone

    tmp = tmp_path_factory.mktemp("odd")
    landing = tmp / "landing"
    generate_landing_zone(landing, start="2025-12", end="2026-01", seed=7, scope="35.13", responses=600, reports=20)
    expected = _odd_zone(landing, tmp / "outside", month="2026-01")
    mp = pytest.MonkeyPatch()
    for name, value in {"DAGSTER_HOME": tmp / "dagster_home", "HARMONI_LANDING_DIR": landing,
                        "HARMONI_WAREHOUSE_DIR": tmp / "wh", "HARMONI_SCOPE": "35.13",
                        "HARMONI_PII_KEY": "landing-shape-test-key"}.items():
        mp.setenv(name, str(value))
    mp.delenv("HARMONI_ENV", raising=False)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["run", "--period", "2026-01"])  # after 2025-11-copy and 2025-13
            status_code = main(["status"])
        yield {"code": code, "status_code": status_code, "out": out.getvalue(), "err": err.getvalue(),
               "expected": expected, "wh": Warehouse(tmp / "wh", catalog_tables())}
    finally:
        mp.undo()


def test_a_run_warns_of_every_issue_and_later_months_still_run(odd_run):
    assert odd_run["code"] == 0, odd_run["err"][-3000:]
    warnings = [l for l in odd_run["err"].splitlines() if l.startswith("harmoni: warning: ")]
    assert sorted(warnings) == sorted(f"harmoni: warning: {p}: {q}" for p, q in odd_run["expected"].items())
    wh = odd_run["wh"]
    assert wh.current_file("marts.ihai_kecamatan", "2026-01") is not None
    assert wh.current_file("staging.survey_responses", "2025-12") is not None  # the earlier month, staged
    paths = {r[0] for r in wh.query("SELECT path FROM {audit.source_files}").fetchall()}
    assert paths and all(p.split("/")[1] in ("2025-12", "2026-01", "2025", "2026") for p in paths)
    assert not any("linked_out" in p or "hidden" in p or "dotdot" in p or "incoming" in p or "~$" in p for p in paths)
    staged = wh.query("SELECT DISTINCT source_path FROM {staging.survey_responses}").fetchall()
    assert not any("linked_out" in p for (p,) in staged)
    recorded = landing_shape.recorded_issues(wh)
    assert sorted(recorded.column("path").to_pylist()) == sorted(odd_run["expected"])


def test_status_lists_the_issues_with_when_they_were_first_seen(odd_run):
    assert odd_run["status_code"] == 0
    out = odd_run["out"]
    section = out[out.index("Landing zone issues"):]
    for path, problem in odd_run["expected"].items():
        line = next(l for l in section.splitlines() if l.startswith(path + " "))
        assert problem in line and "UTC" in line


def test_a_period_beyond_the_partitions_is_one_line_exit_2(env, capsys, monkeypatch):
    from harmoni_pipeline.cli import main

    monkeypatch.setenv("DAGSTER_HOME", str(env["tmp"] / "dagster_home"))
    assert main(["run", "--period", BEYOND]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"harmoni: --period {BEYOND} is outside the partitions (2022-01..") and err.count("\n") == 1
    assert main(["run", "--from", "2025-11", "--to", BEYOND]) == 2
    assert main(["backfill", "--from", "2021-06", "--to", "2025-01"]) == 2
    assert not env["warehouse"].exists() and not os.path.exists(env["tmp"] / "dagster_home")


def test_the_partition_range_is_the_partitions_definitions_range():
    """The landing rules compute the range from the clock; the Dagster partitions are the
    reference (a folder is a partition exactly when Dagster has that key)."""
    from harmoni_pipeline.defs.partitions import monthly_partitions, yearly_partitions

    for source, partitions in (("survey", monthly_partitions), ("fkdm", monthly_partitions), ("stats", yearly_partitions)):
        assert partition_range(source) == (partitions.get_first_partition_key(), partitions.get_last_partition_key())
