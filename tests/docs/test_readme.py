"""The README's quick start and first referral, executed against a fresh gateway as `make run`
starts it (tests/docs/runner.py has the rules), and the README kept short."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from tests.docs import runner

README = runner.ROOT / "README.md"
TERMINAL = re.compile(r"In the `make run` terminal.*?```text\n(.*?)```", re.S)


@pytest.fixture(scope="module")
def gateway() -> Iterator[runner.Gateway]:
    with runner.fresh_gateway() as live:
        yield live


@pytest.fixture(scope="module")
def drifted(gateway: runner.Gateway) -> list[str]:
    """The README's blocks run once; the messages of those that printed something else."""
    return runner.mismatches(README, gateway)


def test_the_first_referral_prints_what_the_readme_shows(drifted: list[str]) -> None:
    assert drifted == []


def test_the_make_run_terminal_shows_the_webhooks_the_readme_shows(
        drifted: list[str], gateway: runner.Gateway) -> None:
    shown = TERMINAL.search(README.read_text()).group(1)
    log = gateway.folder / "demo-run.log"

    def printed() -> list[str]:  # the banner mentions 'webhook -> ...' too, mid-line
        return [line for line in log.read_text().splitlines() if line.startswith("webhook -> ")]

    deadline = time.monotonic() + 30  # a wait for the worker, not a measurement
    while time.monotonic() < deadline and len(printed()) < len(shown.splitlines()):
        time.sleep(0.1)
    assert runner.matches(shown, "\n".join(printed())), "\n".join(printed())


def test_the_first_referral_has_five_checked_steps() -> None:
    checked = [block for block in runner.blocks(README.read_text()) if block.expected is not None]
    assert len(checked) == 5


def test_the_readme_is_at_most_300_lines() -> None:
    assert len(README.read_text().splitlines()) <= 300
