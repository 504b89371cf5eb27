"""The notification ledger: every alert and every message, and who is sending which.

Room: a SQLite file in the local folder (``<local>/notifications/ledger.sqlite3``; the
warehouse folder itself for a local warehouse) holding alerts (one row per alert key)
and messages (one per alert × channel × recipient), with the state machine
``pending → sending → sent | failed`` and leases. No sending, no contact values: a
recipient is stored masked and as a keyed reference.

Why SQLite and not the warehouse: claiming a message must be one atomic read-and-write
shared by the processes of a machine (a run's step, the retry job, the CLI); SQLite's
``BEGIN IMMEDIATE`` gives that, Parquet files do not. ``audit.notifications`` is the
published copy (:mod:`.audit`).

What "once" means (docs/notifications.md): an alert key is enqueued once, ever — later
runs, backfills, re-deliveries and restarts find it and add nothing. A message is sent
by whoever holds its lease; a message recorded ``sent`` is never sent again. A process
killed after the receiver accepted a message but before ``sent`` was recorded leaves it
``sending``: when its lease is void (the owner process is dead, or the lease ran out) it
is sent again, with the same idempotency key — at-least-once per channel, with a
duplicate possible only for a message in flight at the kill.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sqlite3
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

LEDGER_FILE = Path("notifications") / "ledger.sqlite3"
LEASE_SECONDS = 300.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alerts (
    key TEXT PRIMARY KEY, kind TEXT NOT NULL, period TEXT NOT NULL, kecamatan TEXT, position TEXT,
    unassigned INTEGER NOT NULL, payload TEXT NOT NULL, created_at TEXT NOT NULL, run_id TEXT);
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY, alert_key TEXT NOT NULL REFERENCES alerts(key), channel TEXT NOT NULL,
    recipient_ref TEXT, recipient TEXT, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL, next_attempt_at TEXT NOT NULL, expires_at TEXT NOT NULL,
    lease_owner TEXT, lease_until TEXT, sent_at TEXT, error TEXT);
CREATE INDEX IF NOT EXISTS messages_due ON messages (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS messages_alert ON messages (alert_key);
"""
STATUSES = ("pending", "sending", "sent", "failed")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _ts(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def owner_id() -> str:
    """``host:pid:nonce`` — a lease's owner, so that a dead owner on this host is seen."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_dead(owner: str | None) -> bool:
    """Whether ``owner`` is a process of this host that no longer runs."""
    if not owner:
        return True
    host, _, rest = owner.partition(":")
    pid = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass(frozen=True)
class PlannedMessage:
    channel: str
    recipient_ref: str | None
    recipient: str | None       # masked
    status: str = "pending"
    error: str | None = None


@dataclass
class Message:
    id: str
    alert_key: str
    channel: str
    recipient_ref: str | None
    recipient: str | None
    status: str
    attempts: int
    kind: str
    period: str
    payload: dict
    position: str | None = None
    unassigned: bool = False


def message_id(alert_key: str, channel: str, recipient_ref: str | None) -> str:
    """The idempotency key of a message: stable across reruns and processes."""
    import hashlib

    return hashlib.sha256(f"{alert_key}|{channel}|{recipient_ref or '-'}".encode()).hexdigest()[:32]


class Ledger:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(SCHEMA)

    @classmethod
    def in_folder(cls, local_dir: Path) -> "Ledger":
        return cls(Path(local_dir) / LEDGER_FILE)

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=FULL")  # a recorded 'sent' survives a power cut
        return con

    @contextmanager
    def transaction(self):
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            yield con
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    # ---- since -------------------------------------------------------------------
    def first_run(self, today: dt.date) -> dt.date:
        """The day notifications first ran here (recorded on the first call)."""
        with self.transaction() as con:
            row = con.execute("SELECT value FROM meta WHERE key = 'first_run'").fetchone()
            if row:
                return dt.date.fromisoformat(row["value"])
            con.execute("INSERT INTO meta VALUES ('first_run', ?)", [today.isoformat()])
            return today

    # ---- enqueue -----------------------------------------------------------------
    def enqueue(self, routed, *, run_id: str | None, expire_hours: float, now: dt.datetime | None = None) -> list[str]:
        """Record each ``(alert, [PlannedMessage])`` whose alert key is not recorded yet,
        with its messages; returns the keys new here. An alert key already in the ledger
        is left as it is (never re-sent), whatever its messages would be now."""
        now = now or utcnow()
        expires = now + dt.timedelta(hours=expire_hours)
        new = []
        with self.transaction() as con:
            for alert, planned in routed:
                inserted = con.execute(
                    "INSERT OR IGNORE INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [alert.key, alert.kind, alert.period, alert.kecamatan, alert.position, int(alert.unassigned),
                     json.dumps(alert.payload, ensure_ascii=False, sort_keys=True, default=str), _ts(now), run_id],
                ).rowcount
                if not inserted:
                    continue
                new.append(alert.key)
                for m in planned:
                    con.execute(
                        "INSERT OR IGNORE INTO messages (id, alert_key, channel, recipient_ref, recipient, status, "
                        "attempts, created_at, next_attempt_at, expires_at, error) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)",
                        [message_id(alert.key, m.channel, m.recipient_ref), alert.key, m.channel, m.recipient_ref,
                         m.recipient, m.status, _ts(now), _ts(now), _ts(expires), m.error],
                    )
        return new

    # ---- claim and record ------------------------------------------------------------
    def _due_clause(self) -> str:
        return ("(m.status = 'pending' AND m.next_attempt_at <= :now) OR "
                "(m.status = 'sending' AND (m.lease_until <= :now OR m.lease_owner IN (SELECT value FROM dead)))")

    def due(self, now: dt.datetime | None = None, alert_keys: list[str] | None = None) -> list[str]:
        """Ids of the messages that may be claimed now (``alert_keys``: only theirs)."""
        now = now or utcnow()
        con = self._connect()
        try:
            owners = [r[0] for r in con.execute("SELECT DISTINCT lease_owner FROM messages WHERE status = 'sending'")]
            con.execute("CREATE TEMP TABLE dead (value TEXT)")
            con.executemany("INSERT INTO dead VALUES (?)", [[o] for o in owners if owner_dead(o)])
            rows = con.execute(f"SELECT m.id, m.alert_key FROM messages m WHERE {self._due_clause()} "
                               "ORDER BY m.created_at, m.id", {"now": _ts(now)}).fetchall()
        finally:
            con.close()
        keep = None if alert_keys is None else set(alert_keys)
        return [r["id"] for r in rows if keep is None or r["alert_key"] in keep]

    def claim(self, message: str, owner: str, now: dt.datetime | None = None,
              lease_seconds: float = LEASE_SECONDS) -> Message | None:
        """Take the lease of one message if it is still due (atomic); None if another
        process took it, or it was sent, in the meantime."""
        now = now or utcnow()
        with self.transaction() as con:
            row = con.execute(
                "SELECT m.*, a.kind, a.period, a.payload, a.position, a.unassigned FROM messages m JOIN alerts a ON a.key = m.alert_key "
                "WHERE m.id = ?", [message]).fetchone()
            if row is None:
                return None
            void = row["status"] == "sending" and (row["lease_until"] <= _ts(now) or owner_dead(row["lease_owner"]))
            if not ((row["status"] == "pending" and row["next_attempt_at"] <= _ts(now)) or void):
                return None
            con.execute("UPDATE messages SET status = 'sending', lease_owner = ?, lease_until = ?, "
                        "attempts = attempts + 1 WHERE id = ?",
                        [owner, _ts(now + dt.timedelta(seconds=lease_seconds)), message])
        return Message(row["id"], row["alert_key"], row["channel"], row["recipient_ref"], row["recipient"],
                       "sending", row["attempts"] + 1, row["kind"], row["period"], json.loads(row["payload"]),
                       row["position"], bool(row["unassigned"]))

    def record(self, message: str, owner: str, status: str, *, error: str | None = None,
               retry_at: dt.datetime | None = None, now: dt.datetime | None = None) -> bool:
        """Record the outcome of a claimed message (only by its lease's owner): ``sent``,
        ``failed``, or ``pending`` again from ``retry_at``. Returns whether recorded."""
        now = now or utcnow()
        if status not in ("sent", "failed", "pending"):
            raise ValueError(status)
        with self.transaction() as con:
            return bool(con.execute(
                "UPDATE messages SET status = ?, error = ?, sent_at = ?, next_attempt_at = COALESCE(?, next_attempt_at), "
                "lease_owner = NULL, lease_until = NULL WHERE id = ? AND status = 'sending' AND lease_owner = ?",
                [status, error, _ts(now) if status == "sent" else None, _ts(retry_at) if retry_at else None,
                 message, owner]).rowcount)

    def expire(self, now: dt.datetime | None = None) -> list[str]:
        """Pending messages past their expiry become ``failed``; returns their periods."""
        now = now or utcnow()
        with self.transaction() as con:
            rows = con.execute("SELECT DISTINCT a.period FROM messages m JOIN alerts a ON a.key = m.alert_key "
                               "WHERE m.status = 'pending' AND m.expires_at <= ?", [_ts(now)]).fetchall()
            con.execute("UPDATE messages SET status = 'failed', error = 'expired (not sent in time): ' || "
                        "COALESCE(error, 'never attempted') WHERE status = 'pending' AND expires_at <= ?", [_ts(now)])
        return [r[0] for r in rows]

    # ---- reading -----------------------------------------------------------------
    def rows(self, periods: list[str] | None = None) -> list[dict]:
        """Every message with its alert (``periods``: only those)."""
        con = self._connect()
        try:
            sql = ("SELECT a.period, a.kind, a.key, a.kecamatan, a.position, a.unassigned, m.channel, m.recipient, "
                   "m.status, m.attempts, m.created_at, m.sent_at, m.expires_at, m.error, m.id AS idempotency_key "
                   "FROM messages m JOIN alerts a ON a.key = m.alert_key")
            params: list = []
            if periods is not None:
                sql += f" WHERE a.period IN ({', '.join('?' * len(periods))})"
                params = list(periods)
            return [dict(r) for r in con.execute(sql + " ORDER BY a.period, m.created_at, a.key, m.channel", params)]
        finally:
            con.close()

    def periods_of(self, message_ids: list[str]) -> list[str]:
        if not message_ids:
            return []
        con = self._connect()
        try:
            q = f"SELECT DISTINCT a.period FROM messages m JOIN alerts a ON a.key = m.alert_key WHERE m.id IN ({', '.join('?' * len(message_ids))})"
            return sorted(r[0] for r in con.execute(q, message_ids))
        finally:
            con.close()
