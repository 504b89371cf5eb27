"""``harmoni notify --test --to POSITION`` and ``harmoni alerts [--period]``.

Room: the two commands' arguments and output; the command line (:mod:`harmoni_pipeline.cli`)
only registers them. Output shows recipients masked, never a contact value.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter


def add_commands(command, common, period_arg) -> None:
    """Register the commands with ``harmoni``'s parser helpers."""
    p = command("notify", "send a test notification to a responsible position",
                "Sends a test message on every channel the contacts file (HARMONI_CONTACTS_FILE) gives the\n"
                "position: e-mail (HARMONI_SMTP_*), Telegram (HARMONI_TELEGRAM_*), webhooks. Nothing is\n"
                "recorded. Exit 0 when every channel took it, 1 otherwise.\n\n"
                "example:\n  harmoni notify --test --to \"Camat Sukapura\"")
    p.add_argument("--test", action="store_true", required=True, help="send a test message (the only mode)")
    p.add_argument("--to", required=True, metavar="POSITION", help="penanggung_jawab as in the contacts file")
    common(p, landing=False)
    p.set_defaults(func=cmd_notify)

    p = command("alerts", "list the notifications sent, pending and failed",
                "Reads the notification ledger of this machine's local folder (published as\n"
                "audit.notifications). Recipients are masked.")
    p.add_argument("--period", type=period_arg, metavar="YYYY-MM", help="only this month's alerts")
    common(p, landing=False)
    p.set_defaults(func=cmd_alerts)


def _settings(args: argparse.Namespace):
    from harmoni_pipeline.cli import _settings as settings_from_args

    return settings_from_args(args)


def cmd_notify(args: argparse.Namespace) -> int:
    from harmoni_pipeline.notify.service import send_test

    results = send_test(args.to, settings=_settings(args))
    for channel, recipient, error in results:
        print(f"{channel:9} {recipient:22} {'sent' if error is None else 'FAILED: ' + error}")
    return 0 if all(error is None for _, _, error in results) else 1


def cmd_alerts(args: argparse.Namespace) -> int:
    from harmoni_pipeline.notify.config import NotifyConfig
    from harmoni_pipeline.notify.ledger import Ledger
    from harmoni_pipeline.notify.service import since

    settings = _settings(args)
    ledger = Ledger.in_folder(settings.local_dir)
    config = NotifyConfig.from_env()
    origin = "HARMONI_ALERT_SINCE" if config.since else "the day notifications first ran here"
    print(f"alerts dated from {since(ledger, config)} are sent ({origin})", file=sys.stderr)
    rows = ledger.rows([args.period] if args.period else None)
    if not rows:
        print("no notifications" + (f" for {args.period}" if args.period else ""))
        return 0
    columns = ("period", "kind", "key", "position", "channel", "recipient", "status", "attempts", "sent_at", "error")
    widths = {c: min(max(len(c), *(len(str(r.get(c) or "")) for r in rows)), 48) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for r in rows:
        values = {**r, "sent_at": (r["sent_at"] or "")[:19], "position": r["position"] or "(tanpa penanggung jawab)"}
        print("  ".join(str(values.get(c) or "")[:48].ljust(widths[c]) for c in columns).rstrip())
    counts = Counter(r["status"] for r in rows)
    print(", ".join(f"{n} {status}" for status, n in sorted(counts.items())), file=sys.stderr)
    return 0
