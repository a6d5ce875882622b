"""The canonical referral: what the gateway needs to identify, route and store a referral,
whichever system sent it. The source resource travels alongside, unchanged."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.consent_claim import ConsentClaim
from schemas.household import RepresentationClaim
from schemas.reference import Identifier


class Subject(BaseModel):
    """The resident a message is about: by BSN, or (no BSN) by a local id of the sender."""

    model_config = ConfigDict(frozen=True)

    bsn: str | None = None
    local_id: Identifier | None = None
    birth_date: date | None = Field(None, description="Decides who may consent (minors).")
    has_demographics: bool = Field(
        False, description="Name and birth date present, so a person without BSN can be traced."
    )
    family_name: str | None = Field(None, description="Read for the match key; not stored.")
    given_name: str | None = Field(None, description="Read for the match key; not stored.")
    postcode: str | None = Field(None, description="Read for the match key; not stored.")

    @model_validator(mode="after")
    def _identifiable(self) -> Subject:
        if self.bsn is None and self.local_id is None and not self.has_demographics:
            raise ValueError("a subject needs a BSN, a local identifier, or name and birth date")
        return self


class Referral(BaseModel):
    """A referral to a neighbourhood team (iJw/iWmo referrer type ``02`` = GP, COD327)."""

    identifier: Identifier | None = None
    subject: Subject
    requester: str | None = Field(
        None, description="The referring professional as sent: ``agb:01234567`` (personal AGB) "
        "or ``uzi:123456789``.")
    requester_organization: str | None = Field(
        None, description="The practice the professional refers for: ``agb:...`` or ``ura:...``.")
    referrer_type: str = "02"
    team_id: str | None = Field(None, description="The receiving team, as ``Organization/{id}``.")
    team_identifier: str | None = Field(
        None, description="Or the team by its organisation's identifier (``ura:12345678``), "
        "resolved to ``team_id`` by the gateway.")
    consent_index: int | None = Field(
        None, description="Index in ``contained`` of the resident's Consent to this referral, "
        "referenced from ``supportingInfo``.")
    consent: ConsentClaim | None = Field(None, description="That Consent, as a claim.")
    consent_grantors: tuple[RepresentationClaim | None, ...] = Field(
        (), description="Per performer of that Consent: None for the resident, else the "
        "contained RelatedPerson (a parent or guardian the sender declares).")
    resource: dict[str, Any] = Field(description="The validated source resource, as JSON.")

    @model_validator(mode="after")
    def _routable(self) -> Referral:
        if self.requester is None and self.requester_organization is None:
            raise ValueError("a referral needs its requester or the requester's practice")
        if self.team_id is None and self.team_identifier is None:
            raise ValueError("a referral names its team by id or by identifier")
        return self
