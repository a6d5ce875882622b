"""The base URL a response names in ``Location``, ``fullUrl`` and Bundle links.

Every FHIR route asks here, never ``Request.url`` or the ``Host`` header: an address a client
chose must not end up in links other clients follow."""

from __future__ import annotations

from fastapi import Request


def public_base(request: Request) -> str:
    """The configured public base URL for this request (no trailing slash)."""
    return request.app.state.runtime.settings.public_base_url
