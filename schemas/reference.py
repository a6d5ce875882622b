"""Identifiers and references, as FHIR has them and the gateway reads them, whichever system
sent them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Identifier(BaseModel):
    """A business identifier (system + value), as FHIR has it."""

    model_config = ConfigDict(frozen=True)

    system: str
    value: str

    def token(self) -> str:
        return f"{self.system}|{self.value}"


class Reference(BaseModel):
    """A literal reference (``Patient/{id}``, ``#id`` to a contained resource) or a logical
    one by identifier (kept only with both system and value). The gateway resolves it."""

    model_config = ConfigDict(frozen=True)

    reference: str | None = None
    identifier: Identifier | None = None
