"""The register of processing activities (AVG art 30, *verwerkingsactiviteiten*).

Every exchange names an activity; the activity fixes its purpose (*doelbinding*), its legal
basis (AVG art 6(1)(a)-(f), plus an art 9(2) ground where health data is involved), the data
categories it may touch, the recipient roles it may disclose to, how long records are kept, and
whether the data subject's consent is required. Pure: parses a mapping, does no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_serializer,
    model_validator,
)

LegalBasis = Literal["6.1.a", "6.1.b", "6.1.c", "6.1.d", "6.1.e", "6.1.f"]
HealthGround = Literal["9.2.a", "9.2.b", "9.2.c", "9.2.d", "9.2.e", "9.2.f", "9.2.g",
                       "9.2.h", "9.2.i", "9.2.j"]
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# ``ServiceRequest.reasonCode``: a resource type and one of its top-level elements. Elements of
# a contained resource are named by that resource's type (``Patient.telecom``).
_ELEMENT_PATH = r"^[A-Z][A-Za-z]+\.[a-z][A-Za-z]*$"
ElementPath = Annotated[str, Field(pattern=_ELEMENT_PATH)]


class RegisterError(ValueError):
    """The register cannot be used; the message says where and why."""


class ProcessingActivity(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=_SLUG.pattern, max_length=64)
    name: str = Field(min_length=1)
    purpose: str = Field(min_length=1, description="The doelbinding, in one sentence.")
    legal_basis: LegalBasis
    health_ground: HealthGround | None = None
    data_categories: frozenset[str] = Field(min_length=1)
    recipient_roles: frozenset[str] = Field(min_length=1)
    retention_years: int = Field(ge=1, le=115)
    requires_consent: bool
    meldrecht_override: bool = Field(
        False, description="May go without consent under Wmo 2015 art 5.2.6, with a written "
        "justification that is logged for review.")
    criminal_ground: str | None = Field(
        None, min_length=1, description="Where the activity touches criminal-offence data "
        "(AVG art 10): the statutory basis that allows it (UAVG art 32/33).")

    @field_serializer("data_categories", "recipient_roles")
    def _sorted(self, values: frozenset[str]) -> list[str]:
        return sorted(values)

    @model_validator(mode="after")
    def _coherent(self) -> ProcessingActivity:
        if self.legal_basis == "6.1.a" and not self.requires_consent:
            raise ValueError("legal basis 6.1.a is consent, so requires_consent must be true")
        if self.meldrecht_override and not self.requires_consent:
            raise ValueError("meldrecht_override only makes sense where consent is required")
        return self


class Register(BaseModel):
    """The activities, plus the vocabulary they share: which elements of a message belong to
    which data category (what data minimisation keeps), and the envelope that carries no
    personal data and always travels."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1)
    envelope: frozenset[ElementPath] = Field(min_length=1)
    categories: dict[str, frozenset[ElementPath]] = Field(min_length=1)
    activities: tuple[ProcessingActivity, ...] = Field(min_length=1)
    # life domain -> the data category a case on it is (debt is finances, upbringing parenting)
    life_domains: dict[str, str] = Field(default_factory=dict)
    # categories of special data (AVG art 9: health) and of criminal-offence data (art 10)
    special_categories: frozenset[str] = frozenset({"health"})
    criminal_categories: frozenset[str] = frozenset()

    @field_serializer("envelope", "special_categories", "criminal_categories")
    def _sorted_envelope(self, values: frozenset[str]) -> list[str]:
        return sorted(values)

    @field_serializer("categories")
    def _sorted_categories(self, values: dict[str, frozenset[str]]) -> dict[str, list[str]]:
        return {name: sorted(paths) for name, paths in sorted(values.items())}

    @model_validator(mode="after")
    def _consistent(self) -> Register:
        ids = [a.id for a in self.activities]
        if duplicates := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"activity ids must be unique; repeated: {', '.join(duplicates)}")
        for activity in self.activities:
            if unknown := sorted(activity.data_categories - self.categories.keys()):
                raise ValueError(f"activity {activity.id} uses undeclared data categories: "
                                 f"{', '.join(unknown)}")
        named = {"life_domains": set(self.life_domains.values()),
                 "special_categories": self.special_categories,
                 "criminal_categories": self.criminal_categories}
        for key, values in named.items():
            if unknown := sorted(values - self.categories.keys()):
                raise ValueError(f"{key} name undeclared data categories: {', '.join(unknown)}")
        for activity in self.activities:
            _check_special(activity, self.special_categories, self.criminal_categories)
        return self

    def activity(self, activity_id: str) -> ProcessingActivity | None:
        return self._by_id.get(activity_id)

    def fields_for(self, permitted: frozenset[str]) -> frozenset[str]:
        """The elements a recipient of these categories may receive (with the envelope);
        nothing when no category is permitted. Remembered: few combinations occur."""
        if permitted not in self._fields:
            self._fields[permitted] = self.envelope.union(
                *(self.categories[c] for c in permitted)) if permitted else frozenset()
        return self._fields[permitted]

    def categories_of(self, domains: Iterable[str]) -> frozenset[str]:
        """The data categories of a case on these life domains (``life_domains``)."""
        return frozenset(self.life_domains[domain] for domain in domains)

    @cached_property
    def _by_id(self) -> dict[str, ProcessingActivity]:
        return {a.id: a for a in self.activities}

    @cached_property
    def _fields(self) -> dict[frozenset[str], frozenset[str]]:
        return {}


def _check_special(activity: ProcessingActivity, special: frozenset[str],
                   criminal: frozenset[str]) -> None:
    """Special and criminal-offence data each need their own ground, stated explicitly."""
    if activity.data_categories & special and activity.health_ground is None:
        raise ValueError(f"activity {activity.id}: special data (AVG art 9: "
                         f"{', '.join(sorted(activity.data_categories & special))}) needs an "
                         "art 9(2) ground (health_ground)")
    if activity.data_categories & criminal and activity.criminal_ground is None:
        raise ValueError(f"activity {activity.id}: criminal-offence data (AVG art 10: "
                         f"{', '.join(sorted(activity.data_categories & criminal))}) needs "
                         "its statutory basis (criminal_ground)")


def parse_register(document: Any) -> Register:
    """A decoded register file -> Register, or RegisterError naming each problem's place."""
    try:
        return Register.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'register'}: {e['msg']}"
            for e in error.errors(include_url=False, include_input=False))
        raise RegisterError(f"invalid register of processing activities: {problems}") from None
