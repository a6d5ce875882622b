"""Where a webhook may go: the address policy, checked at registration and again at send time.

A webhook endpoint is chosen by a client, so without a guard the gateway would POST for it to
anything the gateway can reach: its database port, a cloud metadata service, its own console.
Outside development an endpoint must therefore resolve to public addresses only; an on-premise
receiver is admitted by naming its network in ``webhook_allowed_networks``. The gateway's own
origin and credentials in the URL are refused everywhere.

The checks are pure functions of the URL, the resolved addresses and the policy. ``resolve`` is
the one place that asks the system resolver; ``pinned_request`` then sends to exactly the
address that was checked (Host header and TLS name kept), so a second lookup cannot swap it.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from gateway.platform.settings import Environment, Settings

IPAddress = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network
DEFAULT_PORTS = {"http": 80, "https": 443}
_INET_ATON_FORM = re.compile(r"[0-9a-fx.]+")  # decimal, octal, hex and short IPv4 forms
_NAME = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?")  # a DNS name, after IDNA


class EgressRefused(Exception):
    """A webhook destination the policy does not allow. The class name is what a failed
    delivery records; ``reason`` is a fixed text for the client (never the URL)."""

    reason = "endpoint refused"

    def __init__(self) -> None:
        super().__init__(self.reason)


class UnsupportedUrl(EgressRefused):
    reason = "endpoint must be an absolute https or http URL"


class SchemeRefused(EgressRefused):
    reason = "endpoint must be an absolute https URL"


class CredentialsInUrl(EgressRefused):
    reason = ("endpoint must not carry credentials (user:password@); send them in a channel "
              "header such as Authorization")


class AddressRefused(EgressRefused):
    reason = ("endpoint must resolve to public addresses only; an on-premise receiver needs "
              "its network in WIJKGATEWAY_WEBHOOK_ALLOWED_NETWORKS")


class SelfAddressed(EgressRefused):
    reason = "endpoint must not be the gateway itself"


@dataclass(frozen=True)
class Policy:
    """What may be reached. ``allow_internal`` (development only) admits every address but the
    gateway's own origin; ``allowed_networks`` admits internal networks one by one."""

    allow_http: bool
    allow_internal: bool
    allowed_networks: tuple[Network, ...]
    own_origins: frozenset[tuple[str, int]]  # (host name or address, port) of the gateway


@dataclass(frozen=True)
class Target:
    """A parsed endpoint: the name to send as Host and TLS server name, the port to connect
    to, and the path with its query."""

    scheme: str
    host: str  # lowercase ASCII (IDNA) name or address text as written, no brackets
    port: int
    host_header: str
    path: str
    query: str


@dataclass(frozen=True)
class Destination:
    """An endpoint whose every address passed the policy, and the address to connect to."""

    target: Target
    address: IPAddress


def parse_literal(host: str) -> IPAddress | None:
    """The address a host string denotes without a lookup, read the way ``getaddrinfo``
    reads it: IPv6 (zone ids allowed), dotted quad, and the inet_aton forms (``2130706433``,
    ``0x7f000001``, ``0177.0.0.1``, ``127.1``)."""
    try:
        return ip_address(host)
    except ValueError:
        pass
    if _INET_ATON_FORM.fullmatch(host.lower()):
        try:
            return IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def unwrap(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv4-mapped (``::ffff:a.b.c.d``) or 6to4 address carries."""
    if isinstance(address, IPv6Address):
        return address.ipv4_mapped or address.sixtofour or address
    return address


def refusal(address: IPAddress) -> str | None:
    """Why an address is internal (a fixed category), or None when it is public."""
    address = unwrap(address)
    checks = (("unspecified", address.is_unspecified), ("loopback", address.is_loopback),
              ("link-local", address.is_link_local), ("multicast", address.is_multicast),
              ("reserved", address.is_reserved), ("private", address.is_private),
              ("non-public", not address.is_global))
    return next((category for category, hit in checks if hit), None)


def allowed(address: IPAddress, policy: Policy) -> bool:
    """Public, or internal but admitted by development or the allowlist."""
    address = unwrap(address)
    if policy.allow_internal or refusal(address) is None:
        return True
    return any(address in network for network in policy.allowed_networks
               if network.version == address.version)


def parse_target(endpoint: str, policy: Policy) -> Target:
    """Scheme, host and port of an endpoint, read as ``urlsplit`` and the system resolver read
    them (so ``0177.0.0.1`` is an address, not an error); credentials are refused in every
    environment."""
    unsupported = UnsupportedUrl if policy.allow_http else SchemeRefused
    try:
        parts = urlsplit(endpoint)
        host, port = parts.hostname or "", parts.port
        if not host.isascii():
            host = host.encode("idna").decode("ascii")
    except (ValueError, UnicodeError) as error:
        raise unsupported from error
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not host:
        raise unsupported
    if scheme == "http" and not policy.allow_http:
        raise SchemeRefused
    if "@" in parts.netloc:
        raise CredentialsInUrl
    if parse_literal(host) is None and not _NAME.fullmatch(host):
        raise unsupported
    port = port or DEFAULT_PORTS[scheme]
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if port == DEFAULT_PORTS[scheme] else f"{shown}:{port}"
    return Target(scheme, host, port, host_header, parts.path or "/", parts.query)


def check(target: Target, addresses: list[IPAddress], policy: Policy) -> Destination:
    """Every resolved address must pass; the first is the one to connect to."""
    if (target.host, target.port) in policy.own_origins or any(
            (str(unwrap(a)), target.port) in policy.own_origins for a in addresses):
        raise SelfAddressed
    if not addresses or not all(allowed(a, policy) for a in addresses):
        raise AddressRefused
    return Destination(target, unwrap(addresses[0]))


def resolve(host: str, port: int) -> list[IPAddress]:
    """The addresses a host resolves to (no lookup for a literal). A name that does not resolve
    gives no addresses, which the policy refuses like an internal one (no DNS oracle)."""
    literal = parse_literal(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return list(dict.fromkeys(ip_address(info[4][0].partition("%")[0]) for info in infos))


def destination(endpoint: str, policy: Policy) -> Destination:
    """Parse, resolve and check an endpoint: at registration, and again before every send."""
    target = parse_target(endpoint, policy)
    return check(target, resolve(target.host, target.port), policy)


def own_origins(*public_base_urls: str) -> frozenset[tuple[str, int]]:
    """The gateway's own origins (every configured public base URL), by name and by each
    address the name resolves to."""
    origins: set[tuple[str, int]] = set()
    for url in public_base_urls:
        own = parse_target(url, Policy(True, True, (), frozenset()))
        origins |= {(own.host, own.port),
                    *((str(unwrap(a)), own.port) for a in resolve(own.host, own.port))}
    return frozenset(origins)


def resource_url(endpoint: str, resource_type: str, resource_id: str) -> str:
    """``[endpoint]/{type}/{id}``, where an R4B rest-hook with a payload PUTs the resource; the
    endpoint's query is kept. The result is checked like any endpoint before it is used."""
    parts = urlsplit(endpoint)
    path = f"{parts.path.rstrip('/')}/{quote(resource_type, safe='')}/" \
        f"{quote(resource_id, safe='')}"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def policy_for(settings: Settings) -> Policy:
    """The policy of a deployment: internal addresses only in development or when allowlisted."""
    return Policy(allow_http=settings.webhooks_may_use_http,
                  allow_internal=settings.environment is Environment.DEVELOPMENT,
                  allowed_networks=tuple(settings.webhook_allowed_networks),
                  own_origins=own_origins(settings.public_base_url,
                                          *settings.public_base_urls))


def pinned_request(client: httpx.Client, destination: Destination, headers: dict[str, str],
                   body: bytes, method: str = "POST") -> httpx.Request:
    """A request to the checked address itself. Host carries the endpoint's name (and port
    when not the default), and for https the TLS server name (SNI and certificate check) stays
    the name too."""
    target = destination.target
    url = httpx.URL(scheme=target.scheme, host=str(destination.address), port=target.port,
                    path=target.path, **({"query": target.query.encode()} if target.query
                                         else {}))
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    return client.build_request(method, url, content=body, extensions=extensions,
                                headers={**headers, "Host": target.host_header})
