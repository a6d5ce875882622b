"""A consent or objection as a source system records it: about whom, given by whom, for which
processing activity, recipient, data categories and period. The gateway checks it against
the register of processing activities and the person before it records it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from schemas.reference import Reference


class ConsentClaim(BaseModel):
    """``verdict`` permit is a consent, deny an objection. No recipient: every recipient of
    the activity; no categories: all of the activity's."""

    model_config = ConfigDict(frozen=True)

    patient: Reference
    performers: tuple[Reference, ...]
    verdict: Literal["permit", "deny"]
    activity_id: str
    recipient_organization: str | None = None
    recipient_role: str | None = None
    categories: tuple[tuple[str, ...], ...] = ()  # per provision.code[i], its category codes
    start: datetime | None = None
    end: datetime | None = None
    worker: str | None = None  # the recording worker, as "system|value"

    @property
    def all_categories(self) -> frozenset[str]:
        return frozenset(code for codes in self.categories for code in codes)
