"""Every asset spec of the code location against tests/fixtures/asset_specs.json (keys,
deps, partitions, group, kinds, owners, tags, code versions, metadata keys, checks).

A deliberate change: regenerate with
``.venv/bin/python -m harmoni_pipeline.spec_snapshot --write`` and review the diff."""

from __future__ import annotations

import difflib
import json

from harmoni_pipeline.definitions import build_defs
from harmoni_pipeline.defs.resources import HarmoniResource
from harmoni_pipeline.spec_snapshot import FIXTURE, render, snapshot


def test_the_asset_specs_match_the_snapshot(monkeypatch):
    monkeypatch.delenv("HARMONI_SPLIT", raising=False)
    current = render(snapshot(build_defs({"harmoni": HarmoniResource()})))
    expected = FIXTURE.read_text(encoding="utf-8")
    diff = "".join(difflib.unified_diff(expected.splitlines(True), current.splitlines(True), "fixture", "definitions"))
    assert current == expected, ("asset specs changed; if deliberate, regenerate with "
                                 "`.venv/bin/python -m harmoni_pipeline.spec_snapshot --write`\n" + diff)


def test_every_mart_and_staging_table_has_its_blocking_check_and_a_uri():
    assets = json.loads(FIXTURE.read_text(encoding="utf-8"))["assets"]
    tables = [k for k in assets if k.startswith(("marts/", "staging/", "audit/score_"))]
    # the ten scored marts, the six uncertainty/sensitivity/group tables and the five trail tables
    assert len([k for k in tables if k.startswith("marts/")]) == 16
    assert len([k for k in tables if k.startswith("audit/score_")]) == 5
    for key in tables:
        assert "expectations" in assets[key]["checks"], key
        assert "dagster/uri" in assets[key]["metadata_keys"], key
        assert assets[key]["owners"] and assets[key]["partitions"], key
