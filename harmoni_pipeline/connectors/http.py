"""HTTP for the connectors: GET with a timeout, retries with exponential backoff, and
secrets kept out of every message.

Room: one request → the body's bytes, or :class:`PullError` with one line naming the
masked URL. Transport errors (refused, reset, timeout, a body cut short), ``429`` and
``5xx`` are retried — ``Retry-After`` honoured when the server sends it — up to
``retries`` times with delays ``backoff · 2**attempt``; ``401``/``403``/``404`` and
other ``4xx`` fail at once. Redirects are followed (Google Sheets' export redirects).
Standard library only (``urllib``), so no new dependency.
"""

from __future__ import annotations

import http.client
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

USER_AGENT = "harmoni-connector/1"
MASK = "***"
_SECRET_PARAMS = {"key", "token", "access_token", "api_key", "apikey", "sig", "signature", "password"}
_SHEET_KEY = re.compile(r"(/spreadsheets/d/)([A-Za-z0-9_-]{4})([A-Za-z0-9_-]+)")


class PullError(RuntimeError):
    """A pull failed; the message is one line and carries no secret."""


def redact(url: str, secrets: tuple[str, ...] = ()) -> str:
    """``url`` fit for logs, metadata and errors: each of ``secrets`` (tokens, keys in a
    path), user:password, secret-looking query parameters and all but the first four
    characters of a Google Sheets key are replaced by ``***``."""
    text = url
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
            quoted = urllib.parse.quote(secret, safe="")
            if quoted != secret:
                text = text.replace(quoted, MASK)
    parts = urllib.parse.urlsplit(text)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    if any(k.lower() in _SECRET_PARAMS for k, _ in query):
        masked = [(k, MASK if k.lower() in _SECRET_PARAMS else v) for k, v in query]
        query_text = urllib.parse.urlencode(masked, safe="*{}:$,\"")
    else:
        query_text = parts.query
    text = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query_text, parts.fragment))
    return _SHEET_KEY.sub(lambda m: m.group(1) + m.group(2) + MASK, text)


@dataclass
class HttpClient:
    """``timeout`` seconds per attempt; ``retries`` further attempts after the first;
    ``backoff`` seconds before the first retry, doubling; ``max_wait`` caps any wait
    (``Retry-After`` included). ``sleep`` is the clock's sleep (tests pass their own to
    count waits)."""

    timeout: float = 30.0
    retries: int = 5
    backoff: float = 1.0
    max_wait: float = 120.0
    sleep: callable = field(default=time.sleep, repr=False)

    def get(self, url: str, *, auth: dict | None = None, secrets: tuple[str, ...] = ()) -> bytes:
        """The body of ``GET url``; :class:`PullError` (masked) when it cannot be had.
        ``auth`` headers are sent to ``url``'s host only, never along a redirect."""
        shown = redact(url, secrets)
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        for name, value in (auth or {}).items():
            request.add_unredirected_header(name, value)
        attempt = 0
        while True:
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return response.read()
            except urllib.error.HTTPError as exc:
                status, wait_hint = exc.code, exc.headers.get("Retry-After") if exc.headers else None
                exc.close()
                if status in (401, 403):
                    raise PullError(f"{shown}: HTTP {status} (credentials refused: check the token or key)") from None
                if status == 404:
                    raise PullError(f"{shown}: HTTP 404 (not found: check the URL, asset uid or variable)") from None
                if status != 429 and status < 500:
                    raise PullError(f"{shown}: HTTP {status}") from None
                problem = f"HTTP {status}"
            except (urllib.error.URLError, http.client.HTTPException, socket.timeout, ConnectionError,
                    TimeoutError) as exc:
                reason = getattr(exc, "reason", exc)
                problem = f"{type(exc).__name__}: {redact(str(reason), secrets)}" if str(reason) else type(exc).__name__
                wait_hint = None
            if attempt >= self.retries:
                raise PullError(f"{shown}: {problem}, given up after {attempt + 1} attempts")
            self.sleep(self._wait(attempt, wait_hint))
            attempt += 1

    def _wait(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None:
            try:
                return min(max(float(retry_after.strip()), 0.0), self.max_wait)
            except ValueError:  # an HTTP date: not worth parsing, back off instead
                pass
        return min(self.backoff * 2**attempt, self.max_wait)
