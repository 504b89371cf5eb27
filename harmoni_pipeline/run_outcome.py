"""Why a run failed, in one line — the same words in the terminal, the alert and the
backfill report.

Room: reading a run's events (from an in-process result or from the instance) and
choosing the line that tells an operator what to do: a failed blocking check, named, with
its summary, before the first failed step's message.
"""

from __future__ import annotations

from typing import Iterable

import dagster as dg


def failed_blocking_checks(events: Iterable[dg.DagsterEvent]) -> list[str]:
    """One line per failed *blocking* check (a non-blocking diagnostic or warning that
    failed is not why a run failed): ``blocking check 'NAME' on ASSET failed: summary``."""
    out = []
    for event in events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if not evaluation.passed and evaluation.blocking and evaluation.severity == dg.AssetCheckSeverity.ERROR:
                key = evaluation.asset_check_key
                summary = evaluation.description or "failed"
                out.append(f"blocking check '{key.name}' on {key.asset_key.to_user_string()} failed: {summary}")
    return out


def failure_reason(events: Iterable[dg.DagsterEvent], default: str = "run failed") -> str:
    """One line: a failed blocking check (named, with its summary) first, else the first
    failed step's message, else ``default``."""
    events = list(events)
    blocked = failed_blocking_checks(events)
    if blocked:
        return blocked[0]
    for event in events:
        if event.is_step_failure:
            data = event.step_failure_data
            if data.user_failure_data is not None and data.user_failure_data.description:
                return data.user_failure_data.description
            return data.error.message.strip().splitlines()[-1] if data.error else "step failed"
    return default


def run_failure_reason(instance: dg.DagsterInstance, run_id: str, default: str = "run failed") -> str:
    """:func:`failure_reason` of a run recorded on ``instance``."""
    records = instance.all_logs(
        run_id, of_type={dg.DagsterEventType.ASSET_CHECK_EVALUATION, dg.DagsterEventType.STEP_FAILURE}
    )
    return failure_reason((r.dagster_event for r in records if r.dagster_event is not None), default)
