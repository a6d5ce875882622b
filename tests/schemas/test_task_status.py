"""Walk every (from, to) pair of the Task status table."""

from __future__ import annotations

import itertools

import pytest

from schemas import TASK_STATUSES, TASK_TRANSITIONS, can_transition

EXPECTED_MOVES = {
    ("requested", "received"), ("requested", "accepted"), ("requested", "rejected"),
    ("requested", "cancelled"), ("received", "accepted"), ("received", "rejected"),
    ("received", "cancelled"), ("accepted", "in-progress"), ("accepted", "on-hold"),
    ("accepted", "cancelled"), ("in-progress", "on-hold"), ("in-progress", "completed"),
    ("in-progress", "failed"), ("in-progress", "cancelled"), ("on-hold", "in-progress"),
    ("on-hold", "cancelled"), ("on-hold", "failed"),
}


@pytest.mark.parametrize("current,new", list(itertools.product(sorted(TASK_STATUSES), repeat=2)))
def test_every_pair(current: str, new: str) -> None:
    assert can_transition(current, new) is (current == new or (current, new) in EXPECTED_MOVES)


def test_terminal_states_have_no_way_out() -> None:
    terminal = {s for s, nxt in TASK_TRANSITIONS.items() if not nxt}
    assert terminal == {"completed", "rejected", "cancelled", "failed"}


def test_unknown_current_status_allows_nothing() -> None:
    assert can_transition("draft", "accepted") is False
