"""Notifications end to end, for the assets, the retry job and the command line.

Room: the sequence — find alerts (:mod:`.triggers`), keep those newer than
``HARMONI_ALERT_SINCE``, route each to its recipients (position → contacts, else the
fallback contact: *unassigned*), record them in the ledger once, deliver what is due and
publish ``audit.notifications``. Everything it returns for logs and metadata is counts,
keys and masked recipients.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

from harmoni_pipeline.notify import audit, contacts as contacts_mod, triggers
from harmoni_pipeline.notify.channels import SendError, send
from harmoni_pipeline.notify.config import NotifyConfig
from harmoni_pipeline.notify.contacts import Contacts, scrub
from harmoni_pipeline.notify.delivery import DeliveryReport, deliver
from harmoni_pipeline.notify.ledger import Ledger, PlannedMessage
from harmoni_pipeline.notify.messages import render
from harmoni_pipeline.periods import JAKARTA

OFFICE_KINDS = ("red_report", "became_rawan")  # also posted to HARMONI_ALERT_WEBHOOK


@dataclass
class NotifyOutcome:
    found: int = 0
    before_since: int = 0
    new: list[str] = field(default_factory=list)
    unassigned: list[str] = field(default_factory=list)   # alert keys routed to the fallback (or nowhere)
    since: dt.date | None = None
    delivery: DeliveryReport = field(default_factory=DeliveryReport)

    def summary(self) -> str:
        return (f"{self.found} alert(s) found, {self.before_since} before {self.since} (not sent), "
                f"{len(self.new)} new, {len(self.unassigned)} unassigned; delivery: {self.delivery.summary()}")


def today() -> dt.date:
    return dt.datetime.now(JAKARTA).date()


def since(ledger: Ledger, config: NotifyConfig) -> dt.date:
    """``HARMONI_ALERT_SINCE``, else the day notifications first ran (recorded in the ledger)."""
    first = ledger.first_run(today())
    return config.since or first


def load_contacts(settings, config: NotifyConfig) -> Contacts:
    return contacts_mod.load(config.contacts_file, settings.pii_key, office_webhook=config.office_webhook,
                             fallback_email=config.fallback_email)


def route(alert: triggers.Alert, contacts: Contacts, config: NotifyConfig):
    """``(alert, planned messages)``: the position's recipients on configured channels,
    else the fallback e-mail (the alert is *unassigned*), else one failed message saying
    that nobody could be reached; the office webhook gets red reports and new rawan."""
    usable = config.channels()
    recipients = [r for r in contacts.for_position(alert.position) if r.channel in usable]
    unassigned = not recipients
    if unassigned:
        recipients = [r for r in contacts.fallback if r.channel in usable]
    planned = [PlannedMessage(r.channel, r.ref, r.masked) for r in recipients]
    if not planned:
        planned = [PlannedMessage("none", None, None, status="failed",
                                  error="no contact for the position and no HARMONI_ALERT_FALLBACK_EMAIL with SMTP")]
    if alert.kind in OFFICE_KINDS:
        planned += [PlannedMessage(r.channel, r.ref, r.masked) for r in contacts.office]
    return dataclasses.replace(alert, unassigned=unassigned), planned


def notify(alerts: list[triggers.Alert], *, settings, warehouse, config: NotifyConfig | None = None,
           run_id: str | None = None, deliver_now: bool = True) -> NotifyOutcome:
    """Record the alerts newer than *since* that are new, send them, publish the audit."""
    config = config or NotifyConfig.from_env()
    ledger = Ledger.in_folder(settings.local_dir)
    contacts = load_contacts(settings, config)
    outcome = NotifyOutcome(found=len(alerts), since=since(ledger, config))
    fresh = [a for a in alerts if a.as_of >= outcome.since]
    outcome.before_since = len(alerts) - len(fresh)
    routed = [route(a, contacts, config) for a in fresh]
    outcome.new = ledger.enqueue(routed, run_id=run_id, expire_hours=config.expire_hours)
    outcome.unassigned = [a.key for a, _ in routed if a.unassigned and a.key in outcome.new]
    if deliver_now and outcome.new:
        outcome.delivery = deliver(ledger, config, contacts, alert_keys=outcome.new)
    if outcome.new:
        audit.publish(warehouse, ledger, {a.period for a in fresh if a.key in outcome.new})
    return outcome


def deliver_pending(*, settings, warehouse, config: NotifyConfig | None = None) -> DeliveryReport:
    """The retry pass: expire what is too old, send every due message, publish the audit."""
    config = config or NotifyConfig.from_env()
    ledger = Ledger.in_folder(settings.local_dir)
    expired = ledger.expire()
    report = deliver(ledger, config, load_contacts(settings, config))
    periods = set(expired) | set(ledger.periods_of(report.message_ids))
    if periods:
        audit.publish(warehouse, ledger, periods)
    return report


def due_count(settings) -> int:
    """Messages waiting to be sent now (the retry sensor asks, cheaply)."""
    ledger = Ledger.in_folder(settings.local_dir)
    return len(ledger.due())


def red_report_alerts(settings, warehouse, period: str) -> list[triggers.Alert]:
    from harmoni_pipeline.regions import Regions
    from harmoni_pipeline.scoring.integration import read_assignments

    regions = Regions.load()
    codes = set(regions.kecamatan_in_scope("ALL")["kode"])
    positions = read_assignments(settings.landing_root(), codes).table  # a URL: this machine's copy
    return triggers.red_reports(warehouse, period, positions, regions.name_of)


def send_test(position: str, *, settings, config: NotifyConfig | None = None) -> list[tuple[str, str, str | None]]:
    """A test message on every channel configured for ``position``: ``(channel, masked
    recipient, error or None)`` each. Nothing is recorded."""
    config = config or NotifyConfig.from_env()
    contacts = load_contacts(settings, config)
    recipients = contacts.for_position(position)
    if not recipients:
        raise ValueError(f"no contact for {position!r} in HARMONI_CONTACTS_FILE")
    rendered = render("test", {}, position)
    secrets = config.secrets() + contacts.values()
    out = []
    for r in recipients:
        try:
            send(config, r.channel, r.value, rendered, f"test-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S%f}")
            out.append((r.channel, r.masked, None))
        except SendError as exc:
            out.append((r.channel, r.masked, scrub(str(exc), secrets)))
    return out
