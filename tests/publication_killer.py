"""Test helper: publish a period's pending candidates in a child process that SIGKILLs
itself at the N-th file placement, move or removal of the warehouse's local storage.

Run as ``python -m tests.publication_killer ROOT N PERIOD RUN_ID {marts|snapshot}``; it
prints the number of storage operations when the publication needed fewer than ``N``.
"""
from __future__ import annotations

import os
import signal
import sys

from harmoni_pipeline import storage


def kill_at(target: int) -> list[int]:
    """Count ``place``/``move``/``remove`` calls of ``LocalStorage``; SIGKILL at ``target``."""
    count = [0]

    def counting(fn):
        def wrapped(*args, **kwargs):
            count[0] += 1
            if count[0] == target:
                os.kill(os.getpid(), signal.SIGKILL)
            return fn(*args, **kwargs)
        return wrapped

    for name in ("place", "move", "remove"):
        setattr(storage.LocalStorage, name, counting(getattr(storage.LocalStorage, name)))
    return count


def command(root, target: int, period: str, run_id: str, tables: str) -> list[str]:
    """The argv that runs this helper as a child process."""
    return [sys.executable, "-m", "tests.publication_killer", str(root), str(target), period, run_id, tables]


def main(argv: list[str]) -> None:
    from harmoni_pipeline.registry import catalog_tables
    from harmoni_pipeline.scoring.marts import ALL_TABLES, SNAPSHOT_TABLES
    from harmoni_pipeline.warehouse import Warehouse

    root, target, period, run_id, tables = argv
    count = kill_at(int(target))
    chosen = {"marts": ALL_TABLES, "snapshot": SNAPSHOT_TABLES}[tables]
    Warehouse(root, catalog_tables()).publish_pending(chosen, period, run_id)
    print(count[0])


if __name__ == "__main__":
    main(sys.argv[1:])
