"""Deliver outbox messages to webhooks: at-least-once, FIFO per subscriber and person.

Each message is decided again right before it is sent, so a consent revoked after the message
was queued still stops it (or narrows it).

A claim is leased in a short transaction, the HTTP call runs outside any transaction, and its
outcome is written in another. Failures back off exponentially with jitter; after
``outbox_max_attempts`` a message is dead until someone replays it.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
import orjson
from sqlalchemy.orm import Session, sessionmaker

from gateway.auth.clients import webhook_secret
from gateway.db.models import DeliveryAttempt, OutboxMessage, SubscriptionRow
from gateway.db.types import utcnow
from gateway.disclosure import recheck
from gateway.logging import get_logger
from gateway.outbox import repository
from gateway.outbox.signing import sign
from gateway.settings import Settings

LEASE = timedelta(minutes=2)
BATCH = 20
log = get_logger()


def backoff_seconds(attempts: int, base: float, cap: float, jitter: float) -> float:
    """``base * 2**(attempts-1)``, capped, scaled by a jitter factor in [0.5, 1.0)."""
    return min(cap, base * 2 ** max(attempts - 1, 0)) * (0.5 + jitter / 2)


class Worker:
    def __init__(self, sessions: sessionmaker[Session], settings: Settings,
                 client: httpx.Client | None = None,
                 now: Callable[[], datetime] = utcnow,
                 jitter: Callable[[], float] = random.random) -> None:
        self.sessions = sessions
        self.settings = settings
        self.client = client or httpx.Client(timeout=settings.delivery_timeout_seconds,
                                             follow_redirects=False)
        self.now = now
        self.jitter = jitter

    def run_once(self) -> int:
        """Deliver every message due now; returns how many were attempted."""
        attempted = 0
        while batch := self._claim():
            for message_id in batch:
                self._deliver(message_id)
            attempted += len(batch)
        return attempted

    def run_forever(self, stop: threading.Event) -> None:
        log.info("worker_started")
        while not stop.is_set():
            if self.run_once() == 0:
                stop.wait(self.settings.worker_poll_seconds)
        log.info("worker_stopped")

    def _claim(self) -> list[int]:
        with self.sessions.begin() as session:
            return repository.claim_due(session, self.now(), BATCH, LEASE)

    def _deliver(self, message_id: int) -> None:
        with self.sessions.begin() as session:
            message = session.get(OutboxMessage, message_id)
            subscription = session.get(SubscriptionRow, message.subscription_id)
            if recheck(session, message) is None:
                return  # consent was revoked after the message was queued: withheld now
            request = self._request(message, subscription)
        if subscription.status != "active":
            self._record(message_id, None, "subscription_off", 0, final=True)
            return
        started = time.perf_counter()
        try:
            response = self.client.send(request)
            status_code, error = response.status_code, None
            if not 200 <= status_code < 300:
                error = f"http_{status_code}"
        except httpx.TimeoutException:
            status_code, error = None, "timeout"
        except httpx.HTTPError as exc:
            status_code, error = None, type(exc).__name__
        self._record(message_id, status_code, error,
                     int((time.perf_counter() - started) * 1000))

    def _request(self, message: OutboxMessage, subscription: SubscriptionRow) -> httpx.Request:
        body = orjson.dumps(message.payload)
        timestamp = int(self.now().timestamp())
        secret = webhook_secret(self.settings.secret_key, subscription.client_id)
        headers = {
            **subscription.headers,
            "Content-Type": "application/fhir+json",
            "webhook-id": f"msg_{message.id}",
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, f"msg_{message.id}", timestamp, body),
            "X-Wijkgateway-Event": message.event_type,
        }
        return self.client.build_request("POST", subscription.endpoint, content=body,
                                          headers=headers)

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
            elif final or message.attempts >= self.settings.outbox_max_attempts:
                message.status = "dead"
                log.warning("delivery_dead", outbox_id=message_id, attempt=message.attempts,
                            error_code=error)
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
    repository.make_due(message, now or utcnow())
    message.attempts = 0
    return message
