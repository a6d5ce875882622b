"""Deliver outbox messages to webhooks: at-least-once, FIFO per subscriber and person.

Notifications follow R4B rest-hooks: with a payload the (minimised) resource is PUT to
``[endpoint]/{type}/{id}``, without one a POST has no body; subscriptions stored before that
keep their POST of the resource to the endpoint. Every one is signed (Standard Webhooks) over
its exact body. A message that goes dead moves its Subscription to ``error``; any later
successful delivery (a retry of an older message, a replay) makes it active again.

Each message is decided again right before it is sent, so a consent revoked after the message
was queued still stops it (or narrows it). Then the receiving system's adapter renders it and
checks it against that system's schema (``rendering``); a message that cannot be rendered, or
does not fit, is dead at once, with the reason, and is not sent.

A claim is leased in a short transaction, the HTTP call runs outside any transaction, and its
outcome is written in another. Failures back off exponentially with jitter; after
``outbox_max_attempts`` a message is dead until someone replays it.

One message can never stop delivery: whatever goes wrong building or sending it (a stored header
that may not be sent, an endpoint the egress policy refuses at send time, an exception in the
transport) fails that message, recorded with the error's class name only, and the worker goes
on. The endpoint is resolved and checked again before each send, and the request goes to the
address that was checked (``egress.pinned_request``), never through a proxy from the
environment.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy.orm import Session, sessionmaker

from gateway.auth.clients import webhook_secret
from gateway.delivery.decide import recheck
from gateway.outbox import egress, headers, repository
from gateway.outbox.feed import IN_FEED, release_to_feed
from gateway.outbox.rendering import Undeliverable, render_for
from gateway.outbox.signing import sign
from gateway.platform.db.models import DeliveryAttempt, OAuthClient, OutboxMessage, SubscriptionRow
from gateway.platform.db.types import utcnow
from gateway.platform.logging import get_logger
from gateway.platform.settings import Settings
from gateway.subscriptions import service as subscriptions
from gateway.subscriptions.service import STYLE_EMPTY, STYLE_FEED, STYLE_PUT

LEASE = timedelta(minutes=2)
BATCH = 20
log = get_logger()


def backoff_seconds(attempts: int, base: float, cap: float, jitter: float) -> float:
    """``base * 2**(attempts-1)``, capped, scaled by a jitter factor in [0.5, 1.0)."""
    return min(cap, base * 2 ** max(attempts - 1, 0)) * (0.5 + jitter / 2)


def failure_reason(error: str, attempts: int) -> str:
    """Why a Subscription is in ``error``: built from the error code and the attempt count
    only, so it never carries a receiver's answer or personal data."""
    if error.startswith("http_"):
        what = f"endpoint answered {error.removeprefix('http_')}"
    elif error == "timeout":
        what = "endpoint did not answer in time"
    else:
        what = f"delivery failed ({error})"
    return f"{what} on {attempts} attempt{'' if attempts == 1 else 's'}"


@dataclass(frozen=True)
class _Outgoing:
    """What one send needs, read in the claim's transaction so no ORM object outlives it."""

    message_id: int
    event_type: str
    body: bytes  # as the receiving system's adapter rendered it (Rendered.body)
    media_type: str
    endpoint: str
    headers: dict[str, str]
    client_id: str
    active: bool
    style: str
    resource_type: str
    resource_id: str

    def request_line(self) -> tuple[str, str, bytes]:
        """Method, URL and body per the notification style (docs/webhooks.md)."""
        if self.style == STYLE_PUT:
            return "PUT", egress.resource_url(self.endpoint, self.resource_type,
                                              self.resource_id), self.body
        if self.style == STYLE_EMPTY:
            return "POST", self.endpoint, b""
        return "POST", self.endpoint, self.body


class Worker:
    def __init__(self, sessions: sessionmaker[Session], settings: Settings,
                 client: httpx.Client | None = None,
                 now: Callable[[], datetime] = utcnow,
                 jitter: Callable[[], float] = random.random,
                 beat: Callable[[], None] | None = None) -> None:
        self.sessions = sessions
        self.settings = settings
        self.policy = egress.policy_for(settings)
        self.client = client or httpx.Client(timeout=settings.delivery_timeout_seconds,
                                             follow_redirects=False, trust_env=False)
        self.now = now
        self.jitter = jitter
        self.beat = beat or (lambda: None)  # before each message and poll (heartbeat.py)

    def run_once(self, stop: threading.Event | None = None) -> int:
        """Deliver every message due now; returns how many were attempted. ``stop`` set (a
        SIGTERM) ends it after the message in hand: the rest of the batch is given back, due
        at once for any worker, so a rollout neither waits for a backlog nor for leases."""
        attempted = 0
        while batch := self._claim():
            for position, message_id in enumerate(batch):
                if stop is not None and stop.is_set():
                    with self.sessions.begin() as session:
                        repository.give_back(session, batch[position:], self.now())
                    log.info("worker_gave_back", count=len(batch) - position)
                    return attempted
                self.beat()
                self._deliver(message_id)
                attempted += 1
        return attempted

    def run_forever(self, stop: threading.Event) -> None:
        """Deliver until stopped. A cycle that fails as a whole (the database away) is logged
        and tried again after the poll interval; the loop itself never ends on an error."""
        log.info("worker_started")
        while not stop.is_set():
            try:
                self.beat()
                attempted = self.run_once(stop)
            except Exception as error:  # noqa: BLE001 - the loop outlives any one failure
                log.error("worker_cycle_failed", error_type=type(error).__name__)
                attempted = 0
            if attempted == 0:
                stop.wait(self.settings.worker_poll_seconds)
        log.info("worker_stopped")

    def _claim(self) -> list[int]:
        with self.sessions.begin() as session:
            return repository.claim_due(session, self.now(), BATCH, LEASE)

    def _deliver(self, message_id: int) -> None:
        """One attempt at one message, always ending in a recorded outcome (or in the message
        being withheld). A failure to record is logged; the lease brings the message back."""
        started = time.perf_counter()
        try:
            outgoing = self._load(message_id)
            if outgoing is None:
                return  # consent was revoked after the message was queued: withheld now
            if isinstance(outgoing, Undeliverable):
                self._record(message_id, None, outgoing.reason, 0, final=True)
                return
            if not outgoing.active:
                self._record(message_id, None, "subscription_off", 0, final=True)
                return
            status_code, error = self._send(outgoing)
        except Exception as exc:  # noqa: BLE001 - one message's fault fails that message only
            status_code, error = None, type(exc).__name__
        try:
            self._record(message_id, status_code, error,
                         int((time.perf_counter() - started) * 1000))
        except Exception as exc:  # noqa: BLE001 - the next message must still go out
            log.error("delivery_not_recorded", outbox_id=message_id,
                      error_type=type(exc).__name__)

    def _load(self, message_id: int) -> _Outgoing | Undeliverable | None:
        """The message as it will be sent: decided again, then rendered by the receiving
        system's adapter; None when it is withheld now."""
        with self.sessions.begin() as session:
            message = session.get(OutboxMessage, message_id)
            subscription = session.get(SubscriptionRow, message.subscription_id)
            payload = recheck(session, message)
            if payload is None:
                return None
            client = session.get(OAuthClient, subscription.client_id)
            try:
                rendered = render_for(client, message, payload, self.settings.adapters)
            except Undeliverable as refused:
                return refused
            return _Outgoing(message.id, message.event_type, rendered.body(),
                             rendered.media_type, subscription.endpoint,
                             dict(subscription.headers), subscription.client_id,
                             subscription.status in ("active", "error"),
                             subscription.notification_style, message.resource_type,
                             message.resource_id)

    def _send(self, outgoing: _Outgoing) -> tuple[int | None, str | None]:
        """Check, sign and send; the outcome as (status code, error code or None)."""
        headers.check_stored(outgoing.headers)
        method, url, body = outgoing.request_line()
        destination = egress.destination(url, self.policy)
        request = egress.pinned_request(self.client, destination,
                                        self._headers(outgoing, body), body, method)
        try:  # the status line is the answer: the body is never read, so a receiver that
            # trickles (or floods) one cannot hold the worker or its memory
            response = self.client.send(request, stream=True)
            status_code = response.status_code
            response.close()
        except httpx.TimeoutException:
            return None, "timeout"
        return status_code, None if 200 <= status_code < 300 else f"http_{status_code}"

    def _headers(self, outgoing: _Outgoing, body: bytes) -> dict[str, str]:
        timestamp = int(self.now().timestamp())
        secret = webhook_secret(self.settings.secret_key, outgoing.client_id)
        webhook_id = f"msg_{outgoing.message_id}"
        return {
            **outgoing.headers,
            **({"Content-Type": outgoing.media_type} if body else {}),
            "webhook-id": webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, webhook_id, timestamp, body),
            "X-Wijkgateway-Event": outgoing.event_type,
        }

    def _record(self, message_id: int, status_code: int | None, error: str | None,
                duration_ms: int, final: bool = False) -> None:
        now = self.now()
        with self.sessions.begin() as session:
            message = session.get(OutboxMessage, message_id)
            session.add(DeliveryAttempt(outbox_id=message_id, status_code=status_code,
                                        error=error, duration_ms=duration_ms, attempted_at=now))
            message.attempts += 1
            message.last_status_code = status_code
            message.lease_until = None
            if error is None:
                message.status, message.delivered_at = "delivered", now
                log.info("delivery_succeeded", outbox_id=message_id, attempt=message.attempts,
                         status_code=status_code)
                subscriptions.mark_active(session, message.subscription_id)
            elif final or message.attempts >= self.settings.outbox_max_attempts:
                message.status = "dead"
                log.warning("delivery_dead", outbox_id=message_id, attempt=message.attempts,
                            error_code=error)
                if not final:
                    subscriptions.mark_error(session, message.subscription_id,
                                             failure_reason(error, message.attempts))
            else:
                delay = backoff_seconds(message.attempts, self.settings.outbox_backoff_base_seconds,
                                        self.settings.outbox_backoff_max_seconds, self.jitter())
                repository.make_due(message, now + timedelta(seconds=delay))
                log.info("delivery_failed", outbox_id=message_id, attempt=message.attempts,
                         error_code=error, next_attempt_in_s=round(delay, 1))


def replay(session: Session, message_id: int, now: datetime | None = None) -> OutboxMessage:
    """Send a dead (or delivered) message again; its attempt count starts over."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise LookupError(f"no outbox message {message_id}")
    if message.status == "withheld":
        raise LookupError(f"message {message_id} was withheld by the consent decision; "
                          "replaying it would bypass that decision. Recording the consent "
                          "releases it")
    subscription = session.get(SubscriptionRow, message.subscription_id)
    if subscription is not None and subscription.notification_style == STYLE_FEED:
        if message.status == IN_FEED:
            raise LookupError(f"message {message_id} is in its client's feed already")
        release_to_feed(session, message, subscription.client_id)  # a new entry, read again
    else:
        repository.make_due(message, now or utcnow())
    message.attempts = 0
    return message
