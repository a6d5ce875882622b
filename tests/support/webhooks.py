"""A real HTTP receiver for webhook tests: records what arrives, can play 'down', can serve
https under a name, and checks signatures with the Standard Webhooks reference library rather
than the gateway's own code."""

from __future__ import annotations

import datetime as dt
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from standardwebhooks.webhooks import Webhook


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for one DNS name, PEM-encoded, usable as its own trust root."""

    name: str
    cert_pem: bytes
    key_pem: bytes

    @classmethod
    def for_name(cls, name: str) -> Certificate:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = dt.datetime.now(dt.UTC)
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        return cls(name, cert.public_bytes(serialization.Encoding.PEM), key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this certificate only (and checks the host name)."""
        return ssl.create_default_context(cadata=self.cert_pem.decode())

    def server_context(self, server_names: list[str]) -> ssl.SSLContext:
        """A server context that notes each TLS server name (SNI) a client asked for."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as folder:
            cert, key = Path(folder, "cert.pem"), Path(folder, "key.pem")
            cert.write_bytes(self.cert_pem)
            key.write_bytes(self.key_pem)
            context.load_cert_chain(cert, key)
        context.sni_callback = lambda _sock, name, _ctx: server_names.append(name)
        return context


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    method: str = "POST"
    path: str = "/hook"

    def verified(self, secret: str) -> Any:
        """The JSON body (None for an empty one), once ``standardwebhooks`` accepted its
        signature (it raises ``WebhookVerificationError`` otherwise, also for a timestamp over
        5 minutes off)."""
        return Webhook(secret).verify(self.body, self.headers, json_parse=bool(self.body))


@dataclass
class WebhookReceiver:
    status_code: int = 204
    received: list[Received] = field(default_factory=list)
    certificate: Certificate | None = None  # serve https with it
    server_names: list[str | None] = field(default_factory=list)  # SNI seen, with https

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real receivers do

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                if receiver.status_code < 300:
                    receiver.received.append(Received(dict(self.headers.items()), body,
                                                      self.command, self.path))
                self.send_response(receiver.status_code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_PUT = do_POST  # noqa: N815 - R4B rest-hooks PUT [endpoint]/{type}/{id}

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if self.certificate is not None:
            context = self.certificate.server_context(self.server_names)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
