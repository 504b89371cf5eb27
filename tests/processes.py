"""Test helper: whether the processes a killed script started die with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs: a zombie (dead, not yet reaped by whoever adopted it) does not."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


def outlive_killed_parent(script: str, *args: str, seconds: float = 10) -> list[int]:
    """Run ``script`` (it prints the pids of the processes it started on one line, then
    waits), ``kill -9`` it, and return those of its processes still running ``seconds`` later
    (killing them, so that a failing test leaves nothing behind)."""
    parent = subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True)
    try:
        line = parent.stdout.readline()
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
    children = [int(pid) for pid in line.split()]
    assert children, f"the script printed no pid (exit {parent.returncode})"
    deadline = time.monotonic() + seconds
    while any(map(alive, children)) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in children if alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    return left
