"""Settings, pseudonyms, period arithmetic and the warehouse's atomic publication."""

from __future__ import annotations

import os
import threading

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from harmoni_pipeline.periods import month_range, shift
from harmoni_pipeline.pii import Pseudonymizer
from harmoni_pipeline.settings import DEV_PII_KEY, Settings, SettingsError
from harmoni_pipeline.warehouse import Warehouse, content_sha256


def test_settings_defaults_and_production_refuses_without_key(tmp_path):
    with pytest.warns(UserWarning, match="HARMONI_PII_KEY"):
        s = Settings.from_env(environ={})
    assert s.scope == "35.13" and s.pii_key == DEV_PII_KEY and s.landing_dir.name == "landing"
    assert s.catalog_path.name == "harmoni.duckdb"
    with pytest.raises(SettingsError, match="HARMONI_PII_KEY"):
        Settings.from_env(environ={"HARMONI_ENV": "production"})
    s = Settings.from_env(environ={"HARMONI_ENV": "production", "HARMONI_PII_KEY": "k" * 32, "HARMONI_SCOPE": "ALL"})
    assert s.scope == "ALL" and not s.uses_dev_key and s.env == "production"


@pytest.mark.parametrize("key, problem", [
    (None, "requires HARMONI_PII_KEY"), (" ", "at least 32 bytes"), ("x", "at least 32 bytes"),
    (" " * 40 + "x", "at least 32 bytes"), (DEV_PII_KEY, "development key"), (f" {DEV_PII_KEY}\n", "development key"),
])
def test_production_refuses_a_missing_short_or_development_key(key, problem):
    environ = {"HARMONI_ENV": "production", **({"HARMONI_PII_KEY": key} if key is not None else {})}
    with pytest.raises(SettingsError, match=problem) as refused:
        Settings.from_env(environ=environ)
    assert "\n" not in str(refused.value) and DEV_PII_KEY not in str(refused.value)  # one line; the key never echoed
    with pytest.raises(SettingsError, match=problem):  # an explicit key is judged the same way
        Settings.from_env(environ={"HARMONI_ENV": "production"}, pii_key=key)


@pytest.mark.parametrize("value", ["prod", "dev", "Production-1", "staging"])
def test_harmoni_env_accepts_only_development_or_production(value):
    with pytest.raises(SettingsError, match=r"HARMONI_ENV=.*expected one of development, production"):
        Settings.from_env(environ={"HARMONI_ENV": value, "HARMONI_PII_KEY": "k" * 40})
    assert Settings.from_env(environ={"HARMONI_ENV": " Production ", "HARMONI_PII_KEY": "k" * 40}).env == "production"
    assert Settings.from_env(environ={"HARMONI_ENV": "", "HARMONI_PII_KEY": "k"}).env == "development"


@pytest.mark.parametrize("environ, problem", [
    ({"HARMONI_ENV": "prod", "HARMONI_PII_KEY": "k" * 40}, "HARMONI_ENV='prod'"),
    ({"HARMONI_ENV": "production"}, "requires HARMONI_PII_KEY"),
    ({"HARMONI_ENV": "production", "HARMONI_PII_KEY": DEV_PII_KEY}, "development key"),
])
def test_the_cli_refuses_a_bad_environment_before_any_work_or_key_notice(env, monkeypatch, capsys, environ, problem):
    from harmoni_pipeline.cli import main

    monkeypatch.delenv("HARMONI_PII_KEY")
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DAGSTER_HOME", str(env["tmp"] / "dagster_home"))
    assert main(["run", "--period", "2025-01", "--landing", str(env["landing"])]) == 2
    out = capsys.readouterr()
    assert out.out == "" and out.err.count("\n") == 1 and problem in out.err and "development key:" not in out.err
    assert out.err.startswith("harmoni: ")
    assert not (env["tmp"] / "dagster_home").exists() and not env["warehouse"].exists()


def test_pseudonyms_are_keyed_normalised_and_never_raw():
    p, q = Pseudonymizer("key-1"), Pseudonymizer("key-2")
    a = p.pseudonym("0812-3456-789", "phone")
    assert a == p.pseudonym("+62 812 3456 789", "phone") == p.pseudonym("812 3456 789", "phone")
    assert a != q.pseudonym("0812-3456-789", "phone") and p.key_id != q.key_id
    assert "3456" not in a and a.startswith("pii:")
    assert p.pseudonym(" Budi@Example.ID ", "email") == p.pseudonym("budi@example.id", "email")
    assert p.pseudonym("", "email") is None and p.pseudonym(None, "nik") is None
    import pandas as pd

    s = p.series(pd.Series(["3513011201800001", None, "3513011201800001"]), "nik")
    assert s.iloc[0] == s.iloc[2] and pd.isna(s.iloc[1])


def test_pseudonym_column_equals_one_by_one():
    """``series`` normalises ASCII text column-wise: it must give exactly the pseudonym of
    each value, also for whitespace Python and pyarrow disagree on, non-ASCII text and
    values that normalise to nothing."""
    import hashlib
    import hmac

    import pandas as pd

    p = Pseudonymizer("key-1")
    values = ["0812-3456 789", "+62 812 3456789", "81234", "6212", "62", "8", " A@B.Com ", "x\x1cy\x1f",
              "Budi \t\x0b Santoso", "BUDI\x1dsantoso", "Straße", "ＡＢＣ１２３", "١٢٣٤", "İstanbul", "a\u00a0b",
              "", "   ", "\x1c", "-", None, "Budi Santoso", "budi santoso"]  # fmt: skip
    column = pd.Series(values, index=range(100, 100 + len(values)), dtype="string")
    for kind in ("email", "phone", "nik", "name"):
        got = p.series(column, kind)
        assert list(got.index) == list(column.index) and str(got.dtype) == "string"
        expected = [p.pseudonym(v, kind) for v in values]
        assert [None if pd.isna(g) else g for g in got] == expected, kind
    # the HMAC itself is unchanged: HMAC-SHA256 of "kind:normalised" under the key
    mac = hmac.new(b"key-1", b"email:budi@example.id", hashlib.sha256).hexdigest()[:32]
    assert p.pseudonym(" Budi@Example.ID ", "email") == "pii:" + mac


def test_month_arithmetic():
    assert shift("2025-01", -1) == "2024-12" and shift("2025-12", 1) == "2026-01" and shift("2025-11", -11) == "2024-12"
    assert month_range("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    with pytest.raises(ValueError):
        month_range("2025-12", "2025-11")


def _table(n: int, run: str = "r1", period: str = "2025-01") -> pa.Table:
    return pa.table(
        {"period": [period] * n, "kode": [f"35.13.{i:02d}" for i in range(n)], "x": list(range(n)), "run_id": [run] * n}
    )


def test_content_hash_ignores_run_columns():
    assert content_sha256(_table(3, "a")) == content_sha256(_table(3, "b"))
    assert content_sha256(_table(3)) != content_sha256(_table(4))
    # the trail tables name the run that staged a row: a run id too, not content
    staged_by = lambda run: _table(3).append_column("staging_run_id", pa.array([run] * 3))  # noqa: E731
    assert content_sha256(staged_by("s1")) == content_sha256(staged_by("s2")) == content_sha256(_table(3))


def _ipc_sha256(table: pa.Table, exclude=("run_id", "staging_run_id", "ingested_at", "published_at")) -> str:
    """The content hash as the contract defines it, spelled the first way it was written:
    the whole IPC stream of the kept columns (one record batch) in memory, then SHA-256."""
    import hashlib

    kept = table.select([c for c in table.column_names if c not in exclude]).combine_chunks()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, kept.schema) as writer:
        for batch in kept.to_batches():
            writer.write_batch(batch)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def test_streamed_content_hash_equals_the_in_memory_ipc_hash():
    """content_sha256 hashes the IPC stream as it is written (no serialised copy in
    memory): the same digest as hashing the whole stream, for every column type the
    warehouse holds, nulls, several chunks, an empty table — so published hashes stay."""
    import datetime as dt

    n = 20_011
    table = pa.table({
        "period": pa.array(["2025-12"] * n),
        "kode": pa.array([None if i % 11 == 0 else f"35.13.{i % 97:02d}" for i in range(n)]),
        "big": pa.array([f"é{i}" * (i % 5) for i in range(n)], type=pa.large_string()),
        "n": pa.array([None if i % 7 == 0 else i for i in range(n)], type=pa.int64()),
        "small": pa.array([i % 5 for i in range(n)], type=pa.int8()),
        "x": pa.array([i / 3 for i in range(n)], type=pa.float64()),
        "flag": pa.array([i % 3 == 0 for i in range(n)]),
        "day": pa.array([dt.date(2025, 1, 1) + dt.timedelta(days=i % 400) for i in range(n)]),
        "at": pa.array([dt.datetime(2025, 12, 1, tzinfo=dt.timezone.utc)] * n, type=pa.timestamp("us", tz="UTC")),
        "run_id": pa.array(["r1"] * n),
        "ingested_at": pa.array([dt.datetime(2026, 1, 1)] * n, type=pa.timestamp("us")),
    })
    chunked = pa.concat_tables([table.slice(0, 1), table.slice(1, 4_999), table.slice(5_000)])
    for case in (table, chunked, table.slice(0, 0), table.slice(17, 3)):
        assert content_sha256(case) == _ipc_sha256(case)
    assert content_sha256(chunked) == content_sha256(table)


def test_publish_is_atomic_and_logged(tmp_path):
    wh = Warehouse(tmp_path / "wh", {"staging.t": _table(0).schema})
    wh.build_catalog()
    first = wh.write_partition("staging.t", "2025-01", _table(3))
    assert first.path.exists() and pq.read_table(first.path).num_rows == 3
    assert wh.current_file("staging.t", "2025-01") == first.path
    assert wh.log_publication(first, "run-1") is True
    again = wh.write_partition("staging.t", "2025-01", _table(3, "r2"))
    assert wh.log_publication(again, "run-2") is False  # identical content adds no row
    changed = wh.write_partition("staging.t", "2025-01", _table(5))
    assert wh.log_publication(changed, "run-3") is True
    con = wh.connect_readonly()
    assert con.execute("SELECT count(*) FROM staging.t").fetchone()[0] == 5
    con.close()
    assert not list((wh.tmp_dir).glob("staging.t.*"))  # no temp file left behind


def test_staged_file_is_invisible_until_published(tmp_path):
    wh = Warehouse(tmp_path / "wh")
    wh.write_partition("staging.t", "2025-01", _table(2))
    tmp, pub = wh.stage("staging.t", "2025-01", _table(7))
    assert not pub.path.exists()
    assert pq.read_table(wh.current_file("staging.t", "2025-01")).num_rows == 2
    wh.discard(tmp)
    assert not tmp.exists() and len(wh.versions("staging.t", "2025-01")) == 1


ANALYST = """
import sys, time, duckdb
catalog, stop = sys.argv[1], sys.argv[2]
import os
held = duckdb.connect(catalog, read_only=True)
q = "SELECT count(*), count(DISTINCT x), max(x) FROM staging.t WHERE period = '2025-01' AND kode IS NOT NULL"
first = held.execute(q).fetchone()
assert first[0] == first[1] == first[2] + 1, first
rounds = 0
while not os.path.exists(stop) if stop != "-" else rounds < 1:
    assert held.execute(q).fetchone() == first, "held session changed under the analyst"
    rounds += 1
print(first[0], rounds)
"""


def test_analyst_readonly_session_survives_publications(tmp_path):
    """An analyst (another process) holds the catalog open read-only while partitions are
    republished: never blocked, never an error, always one whole version of a partition;
    the held session keeps its snapshot, new sessions see newer versions."""
    import subprocess
    import sys

    wh = Warehouse(tmp_path / "wh", {"staging.t": _table(0).schema})
    wh.write_partition("staging.t", "2025-01", _table(3))
    stop = tmp_path / "stop"
    analyst = subprocess.Popen(
        [sys.executable, "-c", ANALYST, str(wh.catalog_path), str(stop)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        import time

        time.sleep(1.0)  # let the analyst open its session
        fresh_counts = set()
        for n in range(1, 40):
            wh.write_partition("staging.t", "2025-01", _table(n % 7 + 1))
            wh.write_partition("staging.t", "2025-02", _table(2, period="2025-02"))
            if n % 13 == 0:  # a new analyst session, opened in the middle of the writes
                fresh = subprocess.run(
                    [sys.executable, "-c", ANALYST, str(wh.catalog_path), "-"], capture_output=True, text=True
                )
                assert fresh.returncode == 0, fresh.stderr
                fresh_counts.add(int(fresh.stdout.split()[0]))
    finally:
        stop.touch()
        out, err = analyst.communicate(timeout=60)
    assert analyst.returncode == 0, err
    held_count, rounds = map(int, out.split())
    assert held_count == 3 and rounds > 5  # the held session kept its snapshot throughout
    assert fresh_counts == {13 % 7 + 1, 26 % 7 + 1, 39 % 7 + 1}  # new sessions see new versions
    final = wh.connect_readonly()
    assert final.execute("SELECT count(*) FROM staging.t").fetchone()[0] == 39 % 7 + 1 + 2
    final.close()


def test_superseded_versions_are_pruned_after_the_grace_period(tmp_path):
    wh = Warehouse(tmp_path / "wh")
    for n in (1, 2, 3):
        wh.write_partition("staging.t", "2025-01", _table(n))
    assert len(wh.versions("staging.t", "2025-01")) == 3  # all within the grace period
    wh.prune("staging.t", "2025-01", "data", grace=-1)
    assert len(wh.versions("staging.t", "2025-01")) == 1
    assert pq.read_table(wh.current_file("staging.t", "2025-01")).num_rows == 3


def test_pending_candidates_are_invisible_until_published_and_old_ones_are_pruned(tmp_path):
    import os
    import time

    import pyarrow as pa

    from harmoni_pipeline.warehouse import PENDING_KEEP_SECONDS, Warehouse

    schema = pa.schema([("period", pa.string()), ("x", pa.int64())])
    wh = Warehouse(tmp_path / "wh", {"marts.t": schema})
    data = pa.table({"period": ["2025-01"], "x": [1]}, schema=schema)
    wh.write_pending("marts.t", "2025-01", data, "old-run")
    old = wh.pending_dir("old-run")
    past = time.time() - PENDING_KEEP_SECONDS - 60
    os.utime(old, (past, past))
    wh.write_pending("marts.t", "2025-01", data, "new-run")
    assert not old.exists()  # a week-old blocked candidate is gone
    assert wh.current_file("marts.t", "2025-01") is None  # a candidate is not published
    published = wh.publish_pending(["marts.t"], "2025-01", "new-run")
    assert published["marts.t"].rows == 1 and wh.read_pending("marts.t", "2025-01", "new-run") is None
