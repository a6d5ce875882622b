"""The worker's heartbeat: a beat before each message and each poll, so a liveness probe sees a
busy worker (a long backlog) as alive and an idle one too; a failed touch is logged and
delivery goes on. The probe itself is tested with the manifest (tests/deploy/)."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from gateway.delivery.heartbeat import heartbeat
from gateway.delivery.worker import Worker
from gateway.platform.settings import Settings


class Polls:
    """A stop signal for ``run_forever`` that ends it after ``polls`` idle polls."""

    def __init__(self, polls: int) -> None:
        self.polls, self.waits = polls, 0

    def is_set(self) -> bool:
        return self.waits >= self.polls

    def wait(self, _timeout: float) -> bool:
        self.waits += 1
        return False


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> tuple[Worker, list[object], list[list[int]]]:
    """A worker whose claims come from a list of batches and whose deliveries and beats are
    noted in order (no database, no receiver: the loop alone is under test)."""
    noted: list[object] = []
    batches: list[list[int]] = []
    worker = Worker(None, Settings(environment="development"),  # type: ignore[arg-type]
                    beat=lambda: noted.append("beat"))
    monkeypatch.setattr(worker, "_claim", lambda: batches.pop(0) if batches else [])
    monkeypatch.setattr(worker, "_deliver", noted.append)
    return worker, noted, batches


def test_a_busy_worker_beats_before_every_message(events) -> None:  # noqa: ANN001
    worker, noted, batches = events
    batches += [[1, 2, 3], [4, 5]]
    assert worker.run_once() == 5
    assert noted == ["beat", 1, "beat", 2, "beat", 3, "beat", 4, "beat", 5]


def test_an_idle_worker_beats_on_every_poll(events) -> None:  # noqa: ANN001
    worker, noted, batches = events
    worker.run_forever(Polls(3))
    assert noted == ["beat"] * 3
    batches.append([7])
    worker.run_forever(Polls(1))
    assert noted[3:] == ["beat", "beat", 7, "beat"]


def test_the_beat_touches_its_file(tmp_path: Path) -> None:
    path = tmp_path / "alive"
    beat = heartbeat(path)
    beat()
    os.utime(path, (0, 0))
    beat()
    assert path.stat().st_mtime > 0


def test_a_failed_touch_is_logged_and_delivery_goes_on(tmp_path: Path,
                                                        log_stream: io.StringIO) -> None:
    heartbeat(tmp_path / "no such folder" / "alive")()
    (line,) = map(json.loads, log_stream.getvalue().splitlines())
    assert (line["event"], line["level"], line["error_type"]) \
        == ("heartbeat_failed", "error", "FileNotFoundError")
