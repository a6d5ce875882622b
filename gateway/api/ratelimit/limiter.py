"""The gateway's named limits, parsed once from the settings, and one question to ask them:
may this request go on, and if not, how long until it may."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from limits import RateLimitItem, parse
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import Connection, Engine
from starlette.types import Scope

from gateway.api.ratelimit.storage import SqlStorage
from gateway.platform.settings import Settings


def _named(text: str, name: str) -> RateLimitItem:
    """A parsed limit in a namespace of its own, so equal limits keep apart counters."""
    item = parse(text)
    return type(item)(item.amount, item.multiples, namespace=name)


@dataclass(frozen=True)
class Limits:
    token_per_client: RateLimitItem
    token_per_address: RateLimitItem
    api_per_client: RateLimitItem
    api_per_address: RateLimitItem
    console_login: RateLimitItem

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(_named(settings.rate_limit_token_per_client, "token-client"),
                   _named(settings.rate_limit_token_per_address, "token-address"),
                   _named(settings.rate_limit_api_per_client, "api-client"),
                   _named(settings.rate_limit_api_per_address, "api-address"),
                   _named(settings.console_login_attempts, "console-login"))


class RateLimits:
    """One per app; the counters live in the database, so every process shares them."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.storage = SqlStorage(engine)
        self.limiter = FixedWindowRateLimiter(self.storage)
        self.limits = Limits.from_settings(settings)
        # where to run the counting: see gateway.platform.unit_of_work
        self.inline = settings.is_sqlite

    def hit(self, item: RateLimitItem, *identifiers: str) -> int | None:
        """Count one request; ``None`` if it is within the limit, else the seconds until the
        window ends (for ``Retry-After``, at least 1)."""
        if self.limiter.hit(item, *identifiers):
            return None
        reset = self.limiter.get_window_stats(item, *identifiers).reset_time
        return max(1, math.ceil(reset - time.time()))

    def hit_all(self, *hits: tuple[RateLimitItem, str]) -> int | None:
        """``hit`` for several limits (item, identifier) in one statement; the longest wait
        among those exceeded, or ``None``."""
        keys = {item.key_for(identifier): item for item, identifier in hits}
        counts = self.storage.incr_many([(key, item.get_expiry(), 1)
                                         for key, item in keys.items()])
        expiries = [self.storage.get_expiry(key) for (key, item), count
                    in zip(keys.items(), counts, strict=True) if count > item.amount]
        return max(1, math.ceil(max(expiries) - time.time())) if expiries else None

    def clear(self, item: RateLimitItem, *identifiers: str) -> None:
        self.limiter.clear(item, *identifiers)

    @contextmanager
    def together(self, connection: Connection | None = None) -> Iterator[None]:
        """Several hits in one database transaction: a new one, or ``connection``'s."""
        with self.storage.batch(connection):
            yield


def client_address(scope: Scope) -> str:
    """The peer's address as the server saw it (behind a proxy: set
    ``WIJKGATEWAY_FORWARDED_ALLOW_IPS`` so that this is the real client)."""
    client = scope.get("client")
    return client[0] if client else "unknown"


async def get_rate_limits(request: Request) -> RateLimits:
    return request.app.state.rate_limits


RateLimitsDep = Annotated[RateLimits, Depends(get_rate_limits)]
