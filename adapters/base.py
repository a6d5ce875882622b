"""The adapter port: every external system sits behind ``parse`` and ``render``.

Contract:
- ``parse(document)`` takes the source system's document, already decoded from JSON, and
  returns the canonical model, or raises :class:`InvalidMessage` listing *every* problem found,
  each naming the element (a FHIRPath-like expression). It does no I/O and never echoes values
  from the document in its messages (they may hold a BSN or a name).
- ``render(canonical)`` turns the canonical model back into the system's format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Issue:
    """One problem in an inbound message. ``code`` is a FHIR issue-type code."""

    expression: str
    message: str
    code: str = "invalid"


class InvalidMessage(Exception):
    """The inbound document cannot be accepted; ``issues`` says why, element by element."""

    def __init__(self, issues: list[Issue], status: int = 422) -> None:
        super().__init__("; ".join(f"{i.expression}: {i.message}" for i in issues))
        self.issues = issues
        self.status = status


@dataclass(frozen=True)
class AdapterDescriptor:
    """What an adapter is and can do; listed at start-up and in the CapabilityStatement."""

    name: str
    version: str
    description: str
    capabilities: frozenset[str] = field(default_factory=frozenset)


class Adapter(Protocol):
    descriptor: AdapterDescriptor

    def parse(self, document: dict[str, Any]) -> Any:
        """Source document -> canonical model, or raise InvalidMessage."""
        ...

    def render(self, canonical: Any) -> dict[str, Any]:
        """Canonical model -> the system's document."""
        ...
