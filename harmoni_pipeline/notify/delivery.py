"""Delivering due messages: claim one (lease), send it, record the outcome.

Room: the order and the retry policy — a few quick tries with backoff inside one pass
for transient failures, then back to ``pending`` with an exponential delay (1, 2, 4 …
minutes, at most an hour) for the retry job; a channel that fails in a pass is not tried
again in that pass, so it never holds up the others; permanent failures are final.
Error texts are scrubbed of contact values and secrets before they are recorded.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Callable

from harmoni_pipeline.notify import channels
from harmoni_pipeline.notify.config import NotifyConfig
from harmoni_pipeline.notify.contacts import Contacts, scrub
from harmoni_pipeline.notify.ledger import Ledger, owner_id, utcnow
from harmoni_pipeline.notify.messages import render

QUICK_TRIES = 3
QUICK_BACKOFF_SECONDS = (0.5, 1.0)
RETRY_BASE_SECONDS = 60.0
RETRY_MAX_SECONDS = 3600.0


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped_channels: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)   # scrubbed, one per failed attempt series
    message_ids: list[str] = field(default_factory=list)

    def summary(self) -> str:
        down = f"; channel(s) down: {', '.join(sorted(self.skipped_channels))}" if self.skipped_channels else ""
        return f"{self.sent} sent, {self.retrying} to retry, {self.failed} failed{down}"


def retry_delay(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), RETRY_MAX_SECONDS))


def deliver(ledger: Ledger, config: NotifyConfig, contacts: Contacts, *, alert_keys: list[str] | None = None,
            owner: str | None = None, sleep: Callable[[float], None] = time.sleep,
            now: Callable[[], dt.datetime] = utcnow) -> DeliveryReport:
    """Send every due message (``alert_keys``: only those alerts'), each claimed first so
    that concurrent deliverers never send the same message."""
    owner = owner or owner_id()
    secrets = config.secrets() + contacts.values()
    report = DeliveryReport()
    for message_id in ledger.due(now(), alert_keys):
        message = ledger.claim(message_id, owner, now())
        if message is None:
            continue
        report.message_ids.append(message_id)
        if message.channel in report.skipped_channels:
            ledger.record(message_id, owner, "pending", error="not tried: the channel failed earlier in this pass",
                          retry_at=now() + retry_delay(1), now=now())
            report.retrying += 1
            continue
        target = contacts.find(message.recipient_ref) if message.recipient_ref else None
        if target is None:
            ledger.record(message_id, owner, "failed", now=now(),
                          error="the recipient is no longer in the contacts file or the office settings")
            report.failed += 1
            continue
        rendered = render(message.kind, message.payload, message.position, message.unassigned)
        error: channels.SendError | None = None
        for attempt in range(QUICK_TRIES):
            try:
                channels.send(config, message.channel, target.value, rendered, message_id)
                error = None
                break
            except channels.SendError as exc:
                error = exc
                if not exc.transient or attempt == QUICK_TRIES - 1:
                    break
                sleep(QUICK_BACKOFF_SECONDS[min(attempt, len(QUICK_BACKOFF_SECONDS) - 1)])
        if error is None:
            ledger.record(message_id, owner, "sent", now=now())
            report.sent += 1
            continue
        text = scrub(f"{message.channel} to {target.masked}: {error}", secrets)
        report.errors.append(text)
        if error.transient:
            report.skipped_channels.add(message.channel)
            ledger.record(message_id, owner, "pending", error=text, retry_at=now() + retry_delay(message.attempts),
                          now=now())
            report.retrying += 1
        else:
            ledger.record(message_id, owner, "failed", error=text, now=now())
            report.failed += 1
    return report
