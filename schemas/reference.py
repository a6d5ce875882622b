"""A FHIR Reference as the gateway reads it, whichever system sent it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from schemas.referral import Identifier


class Reference(BaseModel):
    """A literal reference (``Patient/{id}``, ``#id`` to a contained resource) or a logical
    one by identifier (kept only with both system and value). The gateway resolves it."""

    model_config = ConfigDict(frozen=True)

    reference: str | None = None
    identifier: Identifier | None = None
