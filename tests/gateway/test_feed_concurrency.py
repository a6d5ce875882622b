"""The feed's cursor never passes an entry that commits late (issue 13). On PostgreSQL,
sequence numbers are taken in insert order but become visible in commit order, so a reader
ordering by ``seq`` alone would see a later entry first and move its cursor past an earlier
one still in flight. ``gateway.outbox.feed`` reads only entries of transactions older than
every transaction in flight; these tests hold writers open on purpose to prove it."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from gateway.auth.scopes import adapter_scope
from gateway.outbox import feed
from gateway.platform.db.models import FeedEntry, OutboxMessage, SubscriptionRow
from gateway.subscriptions.service import STYLE_FEED
from tests.conftest import add_test_client

POSTGRES_ONLY = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
SYSTEM = "feed-reader"


@pytest.fixture
def messages(sessions: sessionmaker[Session]) -> Iterator[list[int]]:
    """Outbox messages of one feed subscription, not yet in the feed."""
    with sessions.begin() as session:
        add_test_client(session, "Feed reader", [adapter_scope("menscentraal")],
                        client_id=SYSTEM)
        subscription = SubscriptionRow(client_id=SYSTEM, criteria="ServiceRequest",
                                       resource_type="ServiceRequest", endpoint="", headers={},
                                       notification_style=STYLE_FEED)
        session.add(subscription)
        session.flush()
        rows = [OutboxMessage(subscription_id=subscription.id, event_type="test",
                              ordering_key="p", resource_type="ServiceRequest",
                              resource_id=f"r{i}", payload={}, status=feed.IN_FEED)
                for i in range(200)]
        session.add_all(rows)
        session.flush()
        ids = [row.id for row in rows]
    yield ids


def _write(session: Session, outbox_id: int) -> None:
    message = session.get(OutboxMessage, outbox_id)
    assert message is not None
    feed.add_entries(session, [(message, SYSTEM)])


def _poll(sessions: sessionmaker[Session], after: feed.Position,
          limit: int = 100) -> tuple[list[int], feed.Position]:
    with sessions.begin() as session:
        found = feed.entries_after(session, SYSTEM, after, limit)
    return [outbox_id for _, outbox_id in found], found[-1][0] if found else after


def _naive(sessions: sessionmaker[Session], after_seq: int) -> list[tuple[int, int]]:
    """What a cursor on ``seq`` alone would read: (seq, outbox id)."""
    with sessions() as session:
        rows = session.execute(select(FeedEntry.seq, FeedEntry.outbox_id).where(
            FeedEntry.seq > after_seq).order_by(FeedEntry.seq))
        return [(seq, outbox_id) for seq, outbox_id in rows]


def test_each_entry_keeps_its_writers_transaction(sessions: sessionmaker[Session],
                                                 messages: list[int]) -> None:
    """The server fills ``txid`` (migration 0016) on PostgreSQL; SQLite leaves it empty."""
    with sessions.begin() as session:
        _write(session, messages[0])
        postgres = session.get_bind().dialect.name == "postgresql"
        writer = session.scalar(text("SELECT pg_current_xact_id()::text::bigint")) \
            if postgres else None
    with sessions() as session:
        assert session.scalars(select(FeedEntry.txid)).one() == writer
    assert _poll(sessions, feed.START)[0] == [messages[0]]


@POSTGRES_ONLY
def test_an_entry_committed_late_is_not_passed(sessions: sessionmaker[Session],
                                               messages: list[int]) -> None:
    first, second = messages[:2]
    with sessions() as a, sessions() as b:
        _write(a, first)
        a.flush()  # A has its entry (the lower seq) and stays open
        _write(b, second)
        b.commit()  # B commits first
        naive = _naive(sessions, 0)
        assert [outbox_id for _, outbox_id in naive] == [second]  # seq alone: B, past A's seq
        seen, cursor = _poll(sessions, feed.START)
        assert seen == []  # B's transaction is younger than A's, which is still in flight
        a.commit()
    assert _naive(sessions, naive[-1][0]) == []  # ... so a seq cursor has skipped A for good
    seen, cursor = _poll(sessions, cursor)
    assert seen == [first, second]
    assert _poll(sessions, cursor) == ([], cursor)


@POSTGRES_ONLY
def test_an_older_transaction_writing_late_is_waited_for(
        sessions: sessionmaker[Session], messages: list[int]) -> None:
    """A transaction that took its id early and writes its entry late still lands after
    the cursor: the reader waits for it instead of passing it."""
    early, later = messages[:2]
    with sessions() as a:
        a.execute(text("SELECT pg_current_xact_id()"))  # A takes its id, older than B's
        with sessions.begin() as b:
            _write(b, later)
        seen, cursor = _poll(sessions, feed.START)
        assert seen == []  # A is in flight and older: B's entry waits
        _write(a, early)
        a.commit()
    seen, cursor = _poll(sessions, cursor)
    assert seen == [early, later]  # in transaction order: A's id is the older


@POSTGRES_ONLY
def test_concurrent_writers_and_one_poller_see_every_entry_once(
        sessions: sessionmaker[Session], messages: list[int]) -> None:
    """Writers commit (or roll back) in random order with sleeps in between; a poller with
    a small page reads throughout. It sees every committed entry exactly once and no rolled
    back one."""
    rng = random.Random(13)
    plans = [(outbox_id, rng.random() < 0.15, rng.uniform(0, 0.02)) for outbox_id in messages]
    chunks = [plans[i::6] for i in range(6)]
    committed: list[int] = []
    lock, done = threading.Lock(), threading.Event()
    failures: list[BaseException] = []

    def writer(plan: list[tuple[int, bool, float]]) -> None:
        try:
            for outbox_id, roll_back, pause in plan:
                with sessions() as session:
                    _write(session, outbox_id)
                    session.flush()
                    time.sleep(pause)
                    if roll_back:
                        session.rollback()
                        continue
                    session.commit()
                with lock:
                    committed.append(outbox_id)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)

    seen: list[int] = []

    def poller() -> None:
        cursor = feed.START
        try:
            while not done.is_set():
                page, cursor = _poll(sessions, cursor, limit=rng.randint(1, 7))
                seen.extend(page)
                time.sleep(0.002)
            while True:  # drain what committed last
                page, cursor = _poll(sessions, cursor)
                if not page:
                    break
                seen.extend(page)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)

    writers = [threading.Thread(target=writer, args=(chunk,)) for chunk in chunks]
    reader = threading.Thread(target=poller)
    reader.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=120)
    done.set()
    reader.join(timeout=60)
    assert failures == []
    assert len(seen) == len(set(seen)), "an entry was read twice"
    assert sorted(seen) == sorted(committed), "an entry was skipped (or a rolled back one read)"
    assert len(committed) > 150
