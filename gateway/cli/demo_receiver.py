"""The demo webhook receiver of ``wijkgateway demo run``: an HTTP server on a free loopback
port that stands in for the demo clients' webhook endpoints, so a newcomer sees each delivery
without a receiver of their own.

It checks each delivery's Standard Webhooks signature with the client's secret and prints one
line per delivery: event, resource type and id, status, never other content (a referral
carries personal data). Standard library only: the CLI imports it without the web stack."""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from gateway.outbox.signing import sign

TOLERANCE_SECONDS = 300  # Standard Webhooks: refuse a timestamp further off than this


def signature_ok(secret: str, headers: dict[str, str], body: bytes, now: float) -> bool:
    """The Standard Webhooks check: a fresh timestamp and one ``v1,`` signature that matches
    (compared in constant time)."""
    message_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    if not message_id or not stamp.isascii() or not stamp.isdigit() \
            or abs(now - int(stamp)) > TOLERANCE_SECONDS:
        return False
    expected = sign(secret, message_id, int(stamp), body)
    return any(hmac.compare_digest(expected, given)
               for given in headers.get("webhook-signature", "").split())


def delivery_line(client_id: str, headers: dict[str, str], body: bytes, ok: bool) -> str:
    """One line per delivery: who, which event, which resource and its status; nothing else of
    the payload (a referral carries personal data)."""
    try:
        resource = json.loads(body) if body else {}
    except ValueError:
        resource = {}
    if not isinstance(resource, dict):
        resource = {}
    what = f"{resource.get('resourceType', '-')}/{resource.get('id', '-')}"
    return (f"webhook -> {client_id}: {headers.get('x-wijkgateway-event', '-')} {what} "
            f"status={resource.get('status', '-')} "
            f"{'signature ok' if ok else 'signature REJECTED'} ({headers.get('webhook-id', '-')})")


class DemoReceiver:
    """An HTTP receiver on a free loopback port; ``/{client_id}/...`` is that client's
    endpoint. A verified delivery gets 204, a bad signature 401, an unknown client 404."""

    def __init__(self, secrets: dict[str, str], echo: Callable[[str], None]) -> None:
        receiver = self
        self.secrets = secrets

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                client_id = self.path.lstrip("/").partition("/")[0]
                secret = receiver.secrets.get(client_id)
                headers = {k.lower(): v for k, v in self.headers.items()}
                if secret is None:
                    status = 404
                else:
                    ok = signature_ok(secret, headers, body, time.time())
                    echo(delivery_line(client_id, headers, body, ok))
                    status = 204 if ok else 401
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_PUT  # noqa: N815 - a rest-hook without payload POSTs

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       kwargs={"poll_interval": 0.1})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> DemoReceiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
