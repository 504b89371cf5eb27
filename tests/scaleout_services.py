"""The services the scale-out tests start and always stop: RabbitMQ (a virtual host of
its own on the machine's broker, started with ``rabbitmq-server -detached`` when
127.0.0.1:5672 is down), moto's standalone S3 server on a free port, and
``harmoni worker`` processes, each in its own process group and working folder."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

HARMONI = str(Path(sys.executable).parent / "harmoni")
RABBIT = ("127.0.0.1", 5672)


def port_open(host: str, port: int) -> bool:
    with contextlib.closing(socket.socket()) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_for(predicate, timeout: float, what: str, poll: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise TimeoutError(f"{what}: not within {timeout:.0f} s")


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def rabbitmq_vhost():
    """A fresh virtual host on the local RabbitMQ (so no other user's queue is shared);
    yields its broker URL; the virtual host is deleted afterwards."""
    if not port_open(*RABBIT):
        subprocess.run(["rabbitmq-server", "-detached"], check=True, capture_output=True)
        wait_for(lambda: port_open(*RABBIT), 90, "RabbitMQ on 127.0.0.1:5672")
        subprocess.run(["rabbitmqctl", "await_startup"], check=True, capture_output=True, timeout=120)
    vhost = f"harmoni-test-{uuid.uuid4().hex[:8]}"
    subprocess.run(["rabbitmqctl", "add_vhost", vhost], check=True, capture_output=True, timeout=60)
    try:
        subprocess.run(["rabbitmqctl", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
                       check=True, capture_output=True, timeout=60)
        yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    finally:
        subprocess.run(["rabbitmqctl", "delete_vhost", vhost], capture_output=True, timeout=60)


def stop(proc: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Signal the whole process group (a worker's pool processes too) and reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=30)


@contextlib.contextmanager
def moto_s3(log: Path):
    """moto's S3 server on a free port of 127.0.0.1; yields the AWS_* environment that
    points s3fs (and botocore) at it, with a bucket ``harmoni`` created."""
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: port_open("127.0.0.1", port), 60, "moto S3 server")
        env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
               "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
        yield env
    finally:
        stop(proc)


@dataclass
class Worker:
    name: str
    folder: Path
    proc: subprocess.Popen

    @property
    def log(self) -> Path:
        return self.folder / "worker.log"

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def received(self) -> list[str]:
        return re.findall(r"Task execute_plan\[([0-9a-f-]+)\] received", self.text())

    def finished(self) -> list[str]:
        return re.findall(r"Task execute_plan\[([0-9a-f-]+)\] (?:succeeded|raised|failed)", self.text())

    def running(self) -> set[str]:
        return set(self.received()) - set(self.finished())


def start_workers(names: list[str], tmp: Path, env: dict) -> list[Worker]:
    """One ``harmoni worker`` per name, in ``tmp/<name>`` (its working directory and
    HARMONI_LOCAL_DIR), its output in ``tmp/<name>/worker.log``; all started at once, then
    waited for until each listens on the broker (any that fails: all are stopped)."""
    workers = []
    try:
        for name in names:
            folder = tmp / name
            folder.mkdir(parents=True, exist_ok=True)
            worker_env = {**env, "HARMONI_LOCAL_DIR": str(folder / "local")}
            with open(folder / "worker.log", "wb") as out:
                proc = subprocess.Popen([HARMONI, "worker", "--name", f"{name}@harmoni-test", "--concurrency", "1"],
                                        cwd=folder, env=worker_env, stdout=out, stderr=subprocess.STDOUT,
                                        start_new_session=True)
            workers.append(Worker(name, folder, proc))
        for worker in workers:
            wait_for(lambda: " ready." in worker.text() or worker.proc.poll() is not None, 120, f"worker {worker.name}")
            if worker.proc.poll() is not None:
                raise RuntimeError(f"worker {worker.name} exited {worker.proc.returncode}:\n{worker.text()[-3000:]}")
    except BaseException:
        for worker in workers:
            stop(worker.proc)
        raise
    return workers
