"""The README's quick start and first referral, executed against a fresh gateway as `make run`
starts it (tests/docs/runner.py has the rules), and the README kept short."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.docs import runner

README = runner.ROOT / "README.md"


@pytest.fixture(scope="module")
def gateway() -> Iterator[runner.Gateway]:
    with runner.fresh_gateway() as live:
        yield live


def test_the_first_referral_prints_what_the_readme_shows(gateway: runner.Gateway) -> None:
    assert runner.mismatches(README, gateway) == []


def test_the_first_referral_has_five_checked_steps() -> None:
    checked = [block for block in runner.blocks(README.read_text()) if block.expected is not None]
    assert len(checked) == 5


def test_the_readme_is_at_most_300_lines() -> None:
    assert len(README.read_text().splitlines()) <= 300
