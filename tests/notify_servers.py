"""Real local servers for the notification tests: an SMTP server (aiosmtpd) and an HTTP
server standing in for the Telegram Bot API and webhooks, both on 127.0.0.1, recording
what they receive (with each message's idempotency key)."""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


class Recorder:
    """What the SMTP handler received: one dict per accepted message."""

    def __init__(self):
        self.messages: list[dict] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = parsed.get_body(("plain",)).get_content()
        html = parsed.get_body(("html",)).get_content()
        with self.lock:
            self.messages.append({"to": list(envelope.rcpt_tos), "subject": str(parsed["Subject"]), "text": text,
                                  "html": html, "key": str(parsed["X-Harmoni-Idempotency-Key"]),
                                  "message_id": str(parsed["Message-ID"])})
        return "250 OK"


@contextlib.contextmanager
def smtp_server():
    import socket

    with socket.socket() as probe:  # a free port (aiosmtpd's start-up check connects to the port given)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        recorder.port = port
        yield recorder
    finally:
        controller.stop()


class HttpRecorder:
    def __init__(self):
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.down = False                      # answer 503 (a channel that is down)
        self.hold_at: int | None = None        # the n-th request (1-based) waits for `release`
        self.received = threading.Event()      # set when the held request has arrived
        self.release = threading.Event()


def _handler(recorder: HttpRecorder):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            if recorder.down:
                self.send_response(503)
                self.end_headers()
                return
            with recorder.lock:
                recorder.requests.append({"path": self.path, "body": body,
                                          "key": self.headers.get("Idempotency-Key")})
                count = len(recorder.requests)
            if recorder.hold_at == count:
                recorder.received.set()
                recorder.release.wait(30)
            payload = json.dumps({"ok": True, "result": {}}).encode()
            try:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass

    return Handler


@contextlib.contextmanager
def http_server():
    recorder = HttpRecorder()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorder))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        recorder.url = f"http://127.0.0.1:{server.server_address[1]}"
        yield recorder
    finally:
        recorder.release.set()
        server.shutdown()
        server.server_close()
