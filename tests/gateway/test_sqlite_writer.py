"""SQLite transactions queue on an in-process lock; a lock held too long is a 503."""

from __future__ import annotations

import asyncio
import json
import threading
from types import SimpleNamespace

import pytest

import gateway.platform.db.engine as engine_module
from gateway.api.error_handlers import database_busy
from gateway.platform.db.engine import DatabaseBusy, make_engine, make_sessionmaker
from gateway.platform.db.migrate import upgrade


@pytest.fixture
def sessions(tmp_path):  # noqa: ANN001, ANN201
    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield make_sessionmaker(engine)
    engine.dispose()


class ObservedLock:
    """The writer lock, telling the test when a thread finds it taken and has to wait."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.contended = threading.Event()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self._lock.acquire(blocking=False):
            return True
        self.contended.set()
        return self._lock.acquire(blocking, timeout)

    def release(self) -> None:
        self._lock.release()


@pytest.fixture
def observed(tmp_path, monkeypatch):  # noqa: ANN001, ANN201
    """Sessions whose engine's writer lock is an ``ObservedLock``."""
    made: list[ObservedLock] = []
    monkeypatch.setattr(engine_module, "threading",
                        SimpleNamespace(Lock=lambda: made.append(ObservedLock()) or made[-1]))
    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield make_sessionmaker(engine), made[-1]
    engine.dispose()


def test_a_second_transaction_waits_for_the_first(observed) -> None:  # noqa: ANN001
    sessions, writer = observed
    first = sessions()
    first.connection()
    order = []

    def second() -> None:
        with sessions() as session:
            session.connection()
            order.append("second began")

    thread = threading.Thread(target=second)
    thread.start()
    # Set only when the second transaction found the lock taken: from here on it waits.
    assert writer.contended.wait(timeout=30)
    order.append("first ends")
    first.close()
    thread.join(timeout=30)
    assert order == ["first ends", "second began"]


def test_a_lock_held_too_long_raises_database_busy(sessions, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(engine_module, "WRITER_WAIT_SECONDS", 0.05)
    holder = sessions()
    holder.connection()
    errors = []

    def waiter() -> None:
        try:
            sessions().connection()
        except DatabaseBusy as error:
            errors.append(error)

    thread = threading.Thread(target=waiter)
    thread.start()
    thread.join(timeout=5)
    holder.close()
    assert [type(e) for e in errors] == [DatabaseBusy]


def test_database_busy_is_a_503_with_retry_after() -> None:
    response = asyncio.run(database_busy(None, DatabaseBusy("x")))  # type: ignore[arg-type]
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert json.loads(response.body)["issue"][0]["code"] == "transient"
