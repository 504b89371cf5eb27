"""Shared fixtures: settings pointed at temporary folders, a PII key, Postgres databases."""

from __future__ import annotations

import os
import uuid

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("HARMONI_PII_KEY", "test-key-for-harmoni")

TEST_PII_KEY = "test-key-for-harmoni"


@pytest.fixture(autouse=True)
def _thaw_after_each_test():
    """A test that materialises steps in this process freezes what their memory release
    found alive (harmoni_pipeline.memory; a run thaws it, a bare materialisation does not):
    handed back to the garbage collector after each test."""
    yield
    from harmoni_pipeline import memory

    memory.thaw()


@pytest.fixture
def env(tmp_path, monkeypatch):
    """HARMONI_* variables pointing at a fresh landing zone and warehouse."""
    landing = tmp_path / "landing"
    warehouse = tmp_path / "warehouse"
    landing.mkdir()
    monkeypatch.setenv("HARMONI_LANDING_DIR", str(landing))
    monkeypatch.setenv("HARMONI_WAREHOUSE_DIR", str(warehouse))
    monkeypatch.setenv("HARMONI_SCOPE", "35.13")
    monkeypatch.setenv("HARMONI_PII_KEY", TEST_PII_KEY)
    monkeypatch.delenv("HARMONI_ENV", raising=False)
    return {"landing": landing, "warehouse": warehouse, "tmp": tmp_path}


@pytest.fixture
def settings(env):
    from harmoni_pipeline.settings import Settings

    return Settings.from_env()


@pytest.fixture
def postgres_db():
    """A fresh database on the local PostgreSQL (127.0.0.1:5432, user postgres, trust
    auth), dropped afterwards. Never skipped: CI starts the server."""
    import psycopg2

    name = f"harmoni_test_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {"host": "127.0.0.1", "port": "5432", "user": "postgres", "password": "", "db": name}
    finally:
        with admin.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


@pytest.fixture(scope="session")
def scored_2025q1(tmp_path_factory):
    """One generated landing zone (2024-11 … 2025-03, seed 11) through the monthly jobs,
    scored 2025-01 … 2025-03: ``(landing, warehouse folder, latest materialisation event
    of every mart)``. Shared by the end-to-end tests that read it (scoring, trace), so a
    session runs the sample once; a test that changes the warehouse works on a copy."""
    import dagster as dg

    from harmoni_pipeline.scoring.schemas import MART_SCHEMAS
    from tests.sample_runs import scored_sample

    landing = tmp_path_factory.mktemp("landing")
    warehouse = tmp_path_factory.mktemp("warehouse")
    with scored_sample(landing, warehouse, start="2024-11", scored=["2025-01", "2025-02", "2025-03"], seed=11) as instance:
        events = {table: instance.get_latest_materialization_event(dg.AssetKey(table.split("."))) for table in MART_SCHEMAS}
    return landing, warehouse, events
