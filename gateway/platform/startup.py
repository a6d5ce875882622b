"""What a starting gateway tells its operator: where it answers, which database it uses, and
whether it runs on the public development keys. Also the checks ``serve`` makes before it binds:
a busy port is one clear line, and a public base URL that names another port is caught."""

from __future__ import annotations

import errno
import socket
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from gateway.platform.db.migrate import shown_url, sqlite_file
from gateway.platform.settings import (
    DEVELOPMENT_PSEUDONYM_KEY,
    DEVELOPMENT_SECRET_KEY,
    Environment,
    Settings,
)

PUBLIC_BASE_URL_ENV = "WIJKGATEWAY_PUBLIC_BASE_URL"
DEVELOPMENT_KEYS_WARNING = (
    "WARNING: development keys in use (WIJKGATEWAY_SECRET_KEY and/or WIJKGATEWAY_PSEUDONYM_KEY "
    "are the public defaults): anyone can recompute webhook secrets and pseudonyms. Fine for a "
    "try-out; set both, and WIJKGATEWAY_ENVIRONMENT=production, before real data.")


class PortBusy(OSError):
    """The port to serve on is taken; the message names it and how to pick another."""


def pages(base_url: str) -> dict[str, str]:
    """The pages a newcomer looks for, under the public base URL."""
    return {"API": base_url, "API docs": f"{base_url}/docs", "console": f"{base_url}/console",
            "metrics": f"{base_url}/metrics", "FHIR metadata": f"{base_url}/fhir/metadata"}


def database_location(database_url: str) -> str:
    """A SQLite file as its absolute path; any other database as its URL without password."""
    path = sqlite_file(database_url)
    if path is not None:
        return str(path.resolve())
    if make_url(database_url).get_backend_name() == "sqlite":
        return "(in memory)"
    return shown_url(database_url)


def development_keys_in_use(settings: Settings) -> bool:
    """Outside development the settings refuse the placeholders; in it, say so loudly."""
    return settings.environment is Environment.DEVELOPMENT and (
        settings.secret_key == DEVELOPMENT_SECRET_KEY
        or settings.pseudonym_key == DEVELOPMENT_PSEUDONYM_KEY)


def local_base_url(host: str, port: int) -> str:
    """The URL of ``host:port`` as a local browser reaches it (a wildcard bind via loopback)."""
    if host in ("", "0.0.0.0", "::"):  # noqa: S104 - naming the wildcard, not binding it
        host = "127.0.0.1"
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def port_mismatch(public_base_url: str, port: int) -> str | None:
    """A warning when the public base URL names a port other than the one served: tokens,
    ``Location`` and ``fullUrl`` would point there. A URL without a port (behind a proxy on 443)
    is not a mismatch."""
    named = urlsplit(public_base_url).port
    if named is None or named == port:
        return None
    return (f"{PUBLIC_BASE_URL_ENV}={public_base_url} names port {named}, but the gateway "
            f"serves on port {port}: tokens, Location and fullUrl will point at port {named}")


def lines(settings: Settings) -> list[str]:
    """The start-up facts as short lines for a terminal: pages, database, key warning."""
    out = [f"{name + ':':15}{url}" for name, url in pages(settings.public_base_url).items()]
    out.append(f"{'database:':15}{database_location(settings.database_url)}")
    if development_keys_in_use(settings):
        out.append(DEVELOPMENT_KEYS_WARNING)
    return out


def require_free_port(host: str, port: int) -> None:
    """Bind and release ``host:port`` as uvicorn will (SO_REUSEADDR), so a busy port fails here,
    before the app starts, and not after ``gateway_started``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortBusy(f"port {port} on {host} is in use; stop what runs there or pick "
                               f"another port (--port, or make run PORT=...)") from None
            raise PortBusy(f"cannot listen on {host}:{port}: {error.strerror}") from None
