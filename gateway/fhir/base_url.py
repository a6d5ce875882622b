"""The base URL a response names in ``Location``, ``fullUrl`` and Bundle links.

Every FHIR route asks here, never ``Request.url`` or the ``Host`` header: an address a client
chose must not end up in links other clients follow. The request only *selects* among the
configured base URLs (``WIJKGATEWAY_PUBLIC_BASE_URL`` and ``WIJKGATEWAY_PUBLIC_BASE_URLS``) by
scheme, host and port; anything else gets the default. The scheme is the ASGI scope's, which
uvicorn takes from ``X-Forwarded-Proto`` only for proxies in ``WIJKGATEWAY_FORWARDED_ALLOW_IPS``.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from fastapi import Request

Origin = tuple[str, str, int]
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(scheme: str, netloc: str) -> Origin | None:
    """(scheme, lower-cased host, port) of a URL's parts, or None when they do not parse."""
    try:
        parts = urlsplit(f"//{netloc}")
        port = parts.port
    except ValueError:  # a port that is no number, or out of range
        return None
    if not parts.hostname or scheme not in _DEFAULT_PORTS:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


@lru_cache(maxsize=8)
def _by_origin(default: str, extra: tuple[str, ...]) -> dict[Origin, str]:
    """Each configured base URL by its origin; the first one named wins a tie."""
    table: dict[Origin, str] = {}
    for url in (default, *extra):
        parts = urlsplit(url)
        key = origin(parts.scheme, parts.netloc)
        if key is not None:
            table.setdefault(key, url.rstrip("/"))
    return table


def public_base(request: Request) -> str:
    """The configured public base URL for this request (no trailing slash)."""
    settings = request.app.state.runtime.settings
    default = settings.public_base_url.rstrip("/")
    if not settings.public_base_urls:
        return default
    host = request.headers.get("host", "")
    key = origin(request.scope.get("scheme", "http"), host)
    if key is None:
        return default
    return _by_origin(default, tuple(settings.public_base_urls)).get(key, default)
