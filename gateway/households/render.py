"""A household as FHIR R4B ``Group`` (type person, actual): every member a ``Patient``, its
role in the household-member-role extension, its period by the day; each source system's
own id for the household an identifier."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.platform.db.models import HouseholdIdentifier, HouseholdMember, HouseholdRow
from schemas.household import MEMBER_ROLE_EXTENSION

HOUSEHOLD_CODE = {"text": "household"}


def render_group(row: HouseholdRow, members: Sequence[HouseholdMember],
                 identifiers: Sequence[HouseholdIdentifier]) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Group", "id": row.id,
        "meta": {"versionId": str(row.version_id), "lastUpdated": row.updated_at.isoformat()}}
    if identifiers:
        resource["identifier"] = [{"system": i.system, "value": i.value} for i in identifiers]
    return {**resource, "active": True, "type": "person", "actual": True,
            "code": HOUSEHOLD_CODE,
            "member": [_member(m) for m in members]}


def _member(member: HouseholdMember) -> dict[str, Any]:
    period = {key: day.isoformat() for key, day in
              (("start", member.period_start), ("end", member.period_end)) if day is not None}
    return {"extension": [{"url": MEMBER_ROLE_EXTENSION, "valueCode": member.role}],
            "entity": {"reference": f"Patient/{member.person_id}"},
            **({"period": period} if period else {})}
