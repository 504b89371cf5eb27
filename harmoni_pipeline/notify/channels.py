"""Sending one message on one channel: e-mail over SMTP, the Telegram Bot API, a
Slack-compatible webhook.

Room: the protocols only. Every send carries the message's idempotency key (e-mail
``Message-ID`` and ``X-Harmoni-Idempotency-Key``, webhook ``Idempotency-Key`` header and
field, Telegram: in the text) so that a receiver can drop the duplicate an interrupted
send may cause. Failures are :class:`TransientError` (retry later: connection refused,
timeouts, SMTP 4xx, HTTP 429/5xx) or :class:`PermanentError` (SMTP 5xx, other HTTP 4xx).
"""

from __future__ import annotations

import json
import smtplib
import socket
import urllib.error
import urllib.request
from email.message import EmailMessage
from email.utils import formatdate

from harmoni_pipeline.notify.config import NotifyConfig
from harmoni_pipeline.notify.messages import Rendered, short_text

TIMEOUT_SECONDS = 10.0


class SendError(Exception):
    """A send failed; ``transient`` says whether trying again later may succeed."""

    transient = True


class TransientError(SendError):
    transient = True


class PermanentError(SendError):
    transient = False


def send_email(config: NotifyConfig, to: str, rendered: Rendered, idempotency_key: str) -> None:
    if not config.smtp_host:
        raise PermanentError("e-mail is not configured (HARMONI_SMTP_HOST)")
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = config.smtp_from
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = f"<{idempotency_key}@harmoni>"
    message["X-Harmoni-Idempotency-Key"] = idempotency_key
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    try:
        with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
            if config.smtp_starttls:
                smtp.starttls()
            if config.smtp_user:
                smtp.login(config.smtp_user, config.smtp_password or "")
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        error = TransientError if all(400 <= c < 500 for c in codes) else PermanentError
        raise error(f"SMTP refused the recipient (codes {', '.join(map(str, codes))})") from None
    except smtplib.SMTPResponseException as exc:
        error = TransientError if 400 <= exc.smtp_code < 500 else PermanentError
        raise error(f"SMTP {exc.smtp_code}: {exc.smtp_error.decode(errors='replace')[:200]}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientError(f"SMTP {config.smtp_host}:{config.smtp_port}: {type(exc).__name__}: {exc}") from None


def _post_json(url: str, body: dict, headers: dict | None = None) -> int:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        error = TransientError if exc.code == 429 or exc.code >= 500 else PermanentError
        raise error(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, socket.timeout) as exc:
        reason = getattr(exc, "reason", exc)
        raise TransientError(f"{type(reason).__name__}: {reason}") from None


def send_telegram(config: NotifyConfig, chat_id: str, rendered: Rendered, idempotency_key: str) -> None:
    if not config.telegram_token:
        raise PermanentError("Telegram is not configured (HARMONI_TELEGRAM_TOKEN)")
    text = short_text(rendered) + f"\n\n#{idempotency_key[:12]}"
    _post_json(f"{config.telegram_api}/bot{config.telegram_token}/sendMessage",
               {"chat_id": chat_id, "text": text, "disable_web_page_preview": True})


def send_webhook(config: NotifyConfig, url: str, rendered: Rendered, idempotency_key: str) -> None:
    _post_json(url, {"text": short_text(rendered), "idempotency_key": idempotency_key, "subject": rendered.subject},
               headers={"Idempotency-Key": idempotency_key})


SENDERS = {"email": send_email, "telegram": send_telegram, "webhook": send_webhook}


def send(config: NotifyConfig, channel: str, address: str, rendered: Rendered, idempotency_key: str) -> None:
    SENDERS[channel](config, address, rendered, idempotency_key)
