"""A change to the plan, made on version N, merged three-way with the current version item by
item: a goal, an action, a score, the roles, the title and the status are each one item.

An item only the change touched takes the change; one only the others touched keeps theirs;
one both changed alike is that; one both changed differently (or one changed and the other
removed) is a conflict, and the change is refused naming it (412). An action or score left
without its goal by the merge conflicts too. Items the changing system may not see
(``hidden``) are the others' alone: kept as they are, never changed or removed through it."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from schemas.plans import Plan

_FIELDS = ("status", "title", "roles")


class MergeConflict(Exception):
    """Both sides changed these items (``Goal/g1``, ``Task/t3``, ``roles``, ...); ``hidden``:
    items the change wrote that are withheld from its system."""

    def __init__(self, keys: list[str], hidden: list[str]) -> None:
        super().__init__(", ".join(keys + hidden))
        self.keys, self.hidden = keys, hidden


def items(plan: Plan) -> dict[str, Any]:
    """Each item of the plan by its key; an absent item has no key."""
    fields = {name: getattr(plan, name) for name in _FIELDS if getattr(plan, name)}
    return {**fields, **{f"Goal/{k}": v for k, v in plan.goals.items()},
            **{f"Task/{k}": v for k, v in plan.actions.items()},
            **{f"Observation/{k}": v for k, v in plan.scores.items()}}


def from_items(household: str, merged: dict[str, Any]) -> Plan:
    def of(kind: str) -> dict[str, Any]:
        return {key.split("/", 1)[1]: value for key, value in sorted(merged.items())
                if key.startswith(kind + "/")}
    return Plan(household=household, status=merged["status"], title=merged.get("title"),
                goals=of("Goal"), actions=of("Task"), scores=of("Observation"),
                roles=merged.get("roles", ()))


def three_way(base: Plan, current: Plan, change: Plan,
              hidden: Collection[str] = frozenset()) -> Plan:
    """``change`` (made on ``base``) merged with ``current``; MergeConflict naming the items
    both changed. ``hidden``: keys of items the changing system cannot see."""
    was, now, wanted = items(base), items(current), items(change)
    merged: dict[str, Any] = {}
    conflicts: list[str] = []
    hidden_written: list[str] = []
    for key in sorted(was.keys() | now.keys() | wanted.keys()):
        before, theirs, ours = was.get(key), now.get(key), wanted.get(key)
        if key in hidden:
            if ours is not None:
                hidden_written.append(key)
            chosen = theirs
        elif ours == before or ours == theirs:
            chosen = theirs
        elif theirs == before:
            chosen = ours
        else:
            conflicts.append(key)
            continue
        if chosen is not None:
            merged[key] = chosen
    conflicts += _orphans(merged, conflicts)
    clashing, clashing_hidden = _shared_ids(merged, hidden)
    conflicts += clashing
    hidden_written += clashing_hidden
    if conflicts or hidden_written:
        raise MergeConflict(sorted(set(conflicts)), hidden_written)
    return from_items(current.household, merged)


def _orphans(merged: dict[str, Any], conflicts: list[str]) -> list[str]:
    """Goals removed on one side while the other gave them an action or a score."""
    goals = {key.split("/", 1)[1] for key in merged if key.startswith("Goal/")}
    return [f"Goal/{value.goal}" for key, value in merged.items()
            if key.startswith(("Task/", "Observation/")) and value.goal not in goals
            and f"Goal/{value.goal}" not in conflicts]


def _shared_ids(merged: dict[str, Any], hidden: Collection[str]) -> tuple[list[str], list[str]]:
    """Items of different types with one id (a Goal and a Task both ``x``, one from each
    side): the plan names its items by id alone. Those beside a withheld item (the change's
    key only), and the others."""
    by_id: dict[str, list[str]] = {}
    for key in merged:
        if "/" in key:
            by_id.setdefault(key.split("/", 1)[1], []).append(key)
    shared = [keys for keys in by_id.values() if len(keys) > 1]
    beside_hidden = [k for keys in shared if set(keys) & set(hidden) for k in keys
                     if k not in hidden]
    return [k for keys in shared if not set(keys) & set(hidden) for k in keys], beside_hidden
