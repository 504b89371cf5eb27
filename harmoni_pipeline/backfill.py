"""``harmoni backfill``: a range of months as Dagster **asset backfills**.

Room: turning a plan of asset partitions (:mod:`harmoni_pipeline.runplan`) into
backfills on the instance ``DAGSTER_HOME`` names, and following them to the end. The
daemon (``dagster-daemon run``) executes them, running independent partitions
concurrently within ``concurrency.runs``; the publishing steps queue in the pool
``warehouse_publish``. The UI shows them under *Backfills*.

One backfill per layer (:func:`layers`): staging first, then the marts of every month
whose own staging was not blocked (a blocked earlier month is a warning: the marts read
its last published staging), then the report. One backfill over both is not safe here: Dagster's
asset backfill launches a downstream partition as soon as its parent *materialises*, but
a staging partition is only published (write-audit-publish) by the blocking check later
in that run — measured: a mart run of 2025-01 scored 2 minutes before 2025-01's staging
passed its check, i.e. from the previous (or no) staging. Within one layer a month's
assets run in one run, where blocking checks do order them. The monthly report is a
third layer, after every mart partition of the range: its trends and "since last month"
read the earlier months' marts. Notifications are a layer between the marts and the
report: the digest goes out only for the newest published month, which is the range's
last once every mart partition is in; alerts older than ``HARMONI_ALERT_SINCE`` are
never sent, so a backfill of old months pages nobody (docs/notifications.md).

Uses ``PartitionBackfill.from_partitions_by_assets`` and ``instance.add_backfill`` — the
calls behind the UI's "Launch backfill" (Dagster 1.13; internal API, pinned version).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import dagster as dg

from harmoni_pipeline import registry

BACKFILL_TAG = "dagster/backfill"
DONE = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
HEARTBEAT_STALE_SECONDS = 120.0


def job_assets(defs: dg.Definitions, jobs: set[str]) -> dict[str, list[list[str]]]:
    """Each job's assets as key paths, from the code location's job selections."""
    return {
        job: [list(k.path) for k in sorted(defs.resolve_job_def(job).asset_layer.selected_asset_keys)]
        for job in jobs
    }


LAYERS = ("staging", "marts", "uncertainty", "notifications", "report")
# the auditor's trail of the scores (audit/score_*) is written by the marts' step
LAYER_OF = {("audit", "score_"): "marts"}
# the uncertainty tables read the *published* marts: a layer of their own, after the marts
UNCERTAINTY = {tuple(registry.asset_path(name)) for name in registry.UNCERTAINTY_TABLES}


def layer_of(path: tuple[str, ...]) -> str:
    """The layer of an asset key path: its first part, but the trail's is the marts' and
    the uncertainty tables' is their own."""
    if tuple(path) in UNCERTAINTY:
        return "uncertainty"
    return next((layer for (head, prefix), layer in LAYER_OF.items()
                 if path[0] == head and len(path) > 1 and path[1].startswith(prefix)), path[0])


def layers(targets: dict[tuple[str, ...], list[str]]) -> list[dict[tuple[str, ...], list[str]]]:
    """``targets`` split by layer (:func:`layer_of`), in execution order; empty layers
    left out."""
    split = [{path: keys for path, keys in targets.items() if layer_of(path) == layer} for layer in LAYERS]
    unknown = set(targets) - {path for part in split for path in part}
    if unknown:
        raise ValueError(f"assets outside the layers {LAYERS}: {sorted(unknown)}")
    return [part for part in split if part]


def submit(
    instance: dg.DagsterInstance,
    defs: dg.Definitions,
    targets: dict[tuple[str, ...], list[str]],
    *,
    title: str,
    tags: dict[str, str] | None = None,
    run_config: dict | None = None,
) -> str:
    """Add an asset backfill of ``targets`` (asset key path → partition keys); returns its id."""
    from dagster._core.definitions.selector import (
        PartitionRangeSelector,
        PartitionsByAssetSelector,
        PartitionsSelector,
    )
    from dagster._core.execution.backfill import PartitionBackfill
    from dagster._core.utils import make_new_backfill_id

    selectors = [
        PartitionsByAssetSelector(
            asset_key=dg.AssetKey(list(path)),
            partitions=PartitionsSelector(ranges=[PartitionRangeSelector(start=k, end=k) for k in keys]),
        )
        for path, keys in targets.items()
    ]
    backfill = PartitionBackfill.from_partitions_by_assets(
        backfill_id=make_new_backfill_id(),
        asset_graph=defs.resolve_asset_graph(),
        backfill_timestamp=time.time(),
        tags=dict(tags or {}),
        dynamic_partitions_store=instance,
        partitions_by_assets=selectors,
        title=title,
        description=None,
        run_config=run_config,
    )
    instance.add_backfill(backfill)
    return backfill.backfill_id


def daemon_alive(instance: dg.DagsterInstance, now: float | None = None) -> bool:
    """Whether a ``dagster-daemon`` has recently reported its backfill daemon."""
    beat = instance.get_daemon_heartbeats().get("BACKFILL")
    return beat is not None and (now or time.time()) - beat.timestamp < HEARTBEAT_STALE_SECONDS


@dataclass
class BackfillOutcome:
    backfill_id: str
    status: str
    runs: list[dg.DagsterRun] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # run id → one-line reason

    @property
    def succeeded(self) -> bool:
        return self.status in ("COMPLETED", "COMPLETED_SUCCESS") and not self.failures


def follow(
    instance: dg.DagsterInstance,
    backfill_id: str,
    *,
    progress: Callable[[str], None] = print,
    poll_seconds: float = 3.0,
    timeout_seconds: float | None = None,
) -> BackfillOutcome:
    """Wait for the backfill to finish, reporting each run's status changes."""
    from harmoni_pipeline.run_outcome import run_failure_reason

    seen: dict[str, str] = {}
    deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
    while True:
        backfill = instance.get_backfill(backfill_id)
        if backfill is None:
            raise ValueError(f"no backfill {backfill_id} on this instance")
        runs = list(reversed(instance.get_runs(filters=dg.RunsFilter.for_backfill(backfill_id))))
        for run in runs:
            if seen.get(run.run_id) != run.status.value:
                seen[run.run_id] = run.status.value
                partition = run.tags.get("dagster/partition", "")
                assets = ", ".join(sorted({k.path[0] for k in run.asset_selection or []}))
                progress(f"  run {run.run_id[:8]} {partition} ({assets}): {run.status.value}")
        if backfill.status.value in DONE:
            failures = {
                r.run_id: run_failure_reason(instance, r.run_id)
                for r in runs if r.status == dg.DagsterRunStatus.FAILURE
            }
            return BackfillOutcome(backfill_id, backfill.status.value, runs, failures)
        if deadline is not None and time.monotonic() > deadline:
            return BackfillOutcome(backfill_id, backfill.status.value, runs)
        time.sleep(poll_seconds)
