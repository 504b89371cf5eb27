"""Notification settings from the environment (docs/notifications.md, data contracts).

Room: the ``HARMONI_SMTP_*``, ``HARMONI_TELEGRAM_*``, ``HARMONI_ALERT_*`` and
``HARMONI_CONTACTS_FILE`` variables as one frozen object, read when a run or a command
starts, never at import; and the secrets among them, which error texts must never show.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

TELEGRAM_PUBLIC_API = "https://api.telegram.org"
DEFAULT_EXPIRE_HOURS = 72.0  # a message not sent within 3 days is reported as failed


class NotifyConfigError(ValueError):
    """A notification setting is malformed; the message names the variable, never a secret."""


@dataclass(frozen=True)
class NotifyConfig:
    contacts_file: Path | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "harmoni@localhost"
    smtp_starttls: bool = False
    telegram_token: str | None = None
    telegram_api: str = TELEGRAM_PUBLIC_API
    office_webhook: str | None = None   # HARMONI_ALERT_WEBHOOK: the office's Slack-compatible channel
    fallback_email: str | None = None   # HARMONI_ALERT_FALLBACK_EMAIL: unassigned kecamatan and positions
    since: dt.date | None = None        # HARMONI_ALERT_SINCE; None: the day notifications first ran
    expire_hours: float = DEFAULT_EXPIRE_HOURS

    @classmethod
    def from_env(cls, environ: dict | None = None) -> "NotifyConfig":
        env = os.environ if environ is None else environ

        def text(name: str) -> str | None:
            value = (env.get(name) or "").strip()
            return value or None

        port = text("HARMONI_SMTP_PORT") or "25"
        if not port.isdigit():
            raise NotifyConfigError(f"HARMONI_SMTP_PORT must be a port number, got {port!r}")
        starttls = (text("HARMONI_SMTP_STARTTLS") or "0").lower()
        if starttls not in ("0", "1", "true", "false", "yes", "no"):
            raise NotifyConfigError(f"HARMONI_SMTP_STARTTLS must be 1 or 0, got {starttls!r}")
        since = text("HARMONI_ALERT_SINCE")
        try:
            since_date = dt.date.fromisoformat(since) if since else None
        except ValueError:
            raise NotifyConfigError(f"HARMONI_ALERT_SINCE must be YYYY-MM-DD, got {since!r}") from None
        expire = text("HARMONI_ALERT_EXPIRE_HOURS")
        try:
            expire_hours = float(expire) if expire else DEFAULT_EXPIRE_HOURS
        except ValueError:
            raise NotifyConfigError(f"HARMONI_ALERT_EXPIRE_HOURS must be a number, got {expire!r}") from None
        contacts = text("HARMONI_CONTACTS_FILE")
        return cls(
            contacts_file=Path(contacts).expanduser() if contacts else None,
            smtp_host=text("HARMONI_SMTP_HOST"),
            smtp_port=int(port),
            smtp_user=text("HARMONI_SMTP_USER"),
            smtp_password=env.get("HARMONI_SMTP_PASSWORD") or None,
            smtp_from=text("HARMONI_SMTP_FROM") or "harmoni@localhost",
            smtp_starttls=starttls in ("1", "true", "yes"),
            telegram_token=text("HARMONI_TELEGRAM_TOKEN"),
            telegram_api=(text("HARMONI_TELEGRAM_API") or TELEGRAM_PUBLIC_API).rstrip("/"),
            office_webhook=text("HARMONI_ALERT_WEBHOOK"),
            fallback_email=text("HARMONI_ALERT_FALLBACK_EMAIL"),
            since=since_date,
            expire_hours=expire_hours,
        )

    def channels(self) -> set[str]:
        """The channels this configuration can send on."""
        out = {"webhook"}
        if self.smtp_host:
            out.add("email")
        if self.telegram_token:
            out.add("telegram")
        return out

    def secrets(self) -> list[str]:
        """Values that must never appear in an error text, a log or a table."""
        return [s for s in (self.smtp_password, self.telegram_token, self.smtp_user, self.office_webhook,
                            self.fallback_email) if s]
