"""Channel headers a subscriber may add to its webhooks: checked at registration, and again
before each send (so a row stored before these rules fails its own message, not the worker).

A name is an RFC 9110 token; a value is visible ASCII with spaces or tabs inside, so no line
break can split a header and no byte needs an encoding. Names the gateway sets itself, and the
hop-by-hop names that steer the connection, are reserved. ``Authorization`` is allowed: it is
how a receiver's credentials travel (never in the endpoint URL).
"""

from __future__ import annotations

import re

MAX_HEADERS = 20
MAX_LINE = 2048
RESERVED = frozenset({
    # set by the gateway on every delivery
    "host", "content-type", "content-length", "webhook-id", "webhook-timestamp",
    "webhook-signature", "x-wijkgateway-event",
    # hop-by-hop or connection-steering
    "connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "expect",
})
_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_VALUE = re.compile(r"(?:[\x21-\x7e](?:[\x20\x21-\x7e\t]*[\x21-\x7e])?)?")


class InvalidHeader(Exception):
    """A header that may not be sent; ``reason`` is a fixed text that never quotes the value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_header(name: str, value: str) -> None:
    """Raise ``InvalidHeader`` unless (name, value) may be sent as it is."""
    if not _NAME.fullmatch(name) or not _VALUE.fullmatch(value) \
            or len(name) + len(value) + 2 > MAX_LINE:
        raise InvalidHeader("headers look like 'Name: value': the name an RFC 9110 token, the "
                            f"value visible ASCII, at most {MAX_LINE} characters in all")
    if name.lower() in RESERVED:
        raise InvalidHeader("this header is set by the gateway or steers the connection")


def parse_line(line: str) -> tuple[str, str]:
    """``Name: value`` (optional spaces or tabs around the value), checked."""
    name, colon, value = line.partition(":")
    if not colon:
        raise InvalidHeader("headers look like 'Name: value'")
    value = value.strip(" \t")
    check_header(name, value)
    return name, value


def check_stored(headers: dict[str, str]) -> None:
    """The send-time check of a subscription's stored headers."""
    if len(headers) > MAX_HEADERS:
        raise InvalidHeader(f"at most {MAX_HEADERS} headers")
    for name, value in headers.items():
        check_header(name, value)
