"""Officers' contacts: the ``HARMONI_CONTACTS_FILE`` CSV, masked forms and keyed references.

Room: reading the contacts file (personal data: it stays outside the warehouse and the
landing zone), matching a responsible position to its recipients, and the two forms of a
contact that may be stored — a masked one for people (``r***@…``) and a keyed reference
(HMAC with ``HARMONI_PII_KEY``) that finds the contact again at sending time. A contact's
value is never returned for storage, logging or metadata; :func:`scrub` removes values
from error texts.

File contract: UTF-8 CSV, header ``penanggung_jawab,email,telegram_chat_id,webhook_url``;
any of the three channels may be empty; a position may have several rows; positions
match the assignment table's ``penanggung_jawab`` ignoring case and repeated spaces.
"""

from __future__ import annotations

import csv
import hmac
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

HEADER = ("penanggung_jawab", "email", "telegram_chat_id", "webhook_url")
CHANNEL_COLUMNS = {"email": "email", "telegram": "telegram_chat_id", "webhook": "webhook_url"}
OFFICE = "(kantor)"  # the office's own channels: HARMONI_ALERT_WEBHOOK, HARMONI_ALERT_FALLBACK_EMAIL
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ContactsError(ValueError):
    """The contacts file breaks its contract; the message names the line, never a value."""


@dataclass(frozen=True)
class Recipient:
    """One address of one channel. ``value`` is personal data: use :attr:`masked` and
    :attr:`ref` anywhere it could be stored or shown."""

    channel: str
    value: str = field(repr=False)
    masked: str
    ref: str


def position_key(position: str | None) -> str:
    return re.sub(r"\s+", " ", position or "").strip().casefold()


def mask(channel: str, value: str) -> str:
    """``rina@…`` → ``r***@…``; a chat id → its first character and ``***``; a URL → its
    scheme and the host's first character. Never the whole value, nor its domain."""
    value = value.strip()
    if channel == "email":
        return f"{value[:1]}***@…"
    if channel == "webhook":
        scheme, _, rest = value.partition("://")
        return f"{scheme}://{rest[:1]}***…" if rest else f"{value[:1]}***…"
    return f"{value[:1]}***"


def reference(key: str, channel: str, value: str) -> str:
    """A keyed, non-reversible reference of a contact (what the ledger stores)."""
    digest = hmac.digest(key.encode("utf-8"), f"contact:{channel}:{value.strip()}".encode("utf-8"), "sha256")
    return "rcp:" + digest.hex()[:32]


def recipient(key: str, channel: str, value: str) -> Recipient:
    value = value.strip()
    return Recipient(channel, value, mask(channel, value), reference(key, channel, value))


@dataclass
class Contacts:
    """Every recipient of the contacts file by position, plus the office's channels."""

    by_position: dict[str, list[Recipient]] = field(default_factory=dict)
    office: list[Recipient] = field(default_factory=list)      # HARMONI_ALERT_WEBHOOK
    fallback: list[Recipient] = field(default_factory=list)    # HARMONI_ALERT_FALLBACK_EMAIL

    def for_position(self, position: str | None) -> list[Recipient]:
        return list(self.by_position.get(position_key(position), []))

    def all(self) -> list[Recipient]:
        return [r for rs in self.by_position.values() for r in rs] + self.office + self.fallback

    def find(self, ref: str) -> Recipient | None:
        """The recipient a stored reference names (None: no longer in the file)."""
        return next((r for r in self.all() if r.ref == ref), None)

    def values(self) -> list[str]:
        return [r.value for r in self.all()]


def parse(text: str, key: str, source: str = "HARMONI_CONTACTS_FILE") -> dict[str, list[Recipient]]:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or tuple(c.strip().lower() for c in rows[0]) [:4] != HEADER:
        raise ContactsError(f"{source}: line 1: expected the header {','.join(HEADER)}")
    out: dict[str, list[Recipient]] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        row = (row + [""] * 4)[:4]
        position = row[0].strip()
        if not position:
            raise ContactsError(f"{source}: line {line}: empty penanggung_jawab")
        found = []
        for channel, column in CHANNEL_COLUMNS.items():
            value = row[HEADER.index(column)].strip()
            if not value:
                continue
            if channel == "email" and not EMAIL.match(value):
                raise ContactsError(f"{source}: line {line}: the email is not an e-mail address")
            if channel == "webhook" and not value.startswith(("http://", "https://")):
                raise ContactsError(f"{source}: line {line}: the webhook_url is not an http(s) URL")
            found.append(recipient(key, channel, value))
        recipients = out.setdefault(position_key(position), [])
        recipients += [r for r in found if r.ref not in {x.ref for x in recipients}]
    return out


def load(path: Path | None, key: str, *, office_webhook: str | None = None,
         fallback_email: str | None = None) -> Contacts:
    """The contacts of ``path`` (None or missing file: no officer has a contact) and the
    office's channels."""
    by_position: dict[str, list[Recipient]] = {}
    if path is not None:
        if not Path(path).is_file():
            raise ContactsError("HARMONI_CONTACTS_FILE names no readable file")
        by_position = parse(Path(path).read_text(encoding="utf-8-sig"), key)
    return Contacts(
        by_position=by_position,
        office=[recipient(key, "webhook", office_webhook)] if office_webhook else [],
        fallback=[recipient(key, "email", fallback_email)] if fallback_email else [],
    )


def scrub(text: str | None, secrets: list[str]) -> str | None:
    """``text`` with every secret or contact value replaced by ``***`` (longest first, so
    a value containing another is removed whole)."""
    if text is None:
        return None
    for value in sorted({s for s in secrets if s and len(s) >= 3}, key=len, reverse=True):
        text = text.replace(value, "***")
    return text

