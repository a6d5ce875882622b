"""A household plan's pieces for tests: the youth and adult units' systems of wijkteam-noord
with the plan scopes, their team leaders, and goals, actions and scores as contained items."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from gateway.auth.actors import add_actor
from gateway.auth.bearer import Actor
from gateway.auth.scopes import (
    SCOPE_CARE_PLAN_APPROVE,
    SCOPE_CARE_PLAN_READ,
    SCOPE_CARE_PLAN_WRITE,
    SCOPE_CONSENT_WRITE,
    SCOPE_GROUP_READ,
)
from gateway.cli.demo_data import demo_secret
from gateway.plans.fhir import ROLE_SYSTEM, SCORE_SYSTEM
from schemas.plan_domains import LIST_SYSTEM
from tests.conftest import add_test_client, get_token
from tests.support.units import Units

PLAN_YOUTH, PLAN_ADULTS = "plan-jeugd", "plan-volwassenen"
FHIR = "application/fhir+json"
ZRM, YOUTH_LIST = LIST_SYSTEM + "zrm", LIST_SYSTEM + "youth"
SCOPES = [SCOPE_CARE_PLAN_READ, SCOPE_CARE_PLAN_WRITE, SCOPE_CARE_PLAN_APPROVE,
          SCOPE_GROUP_READ, SCOPE_CONSENT_WRITE]
LEADERS = {"youth": Actor("leider-jeugd", "team-leader", "youth"),
           "adult": Actor("leider-volw", "team-leader", "adult")}


def plan_systems(client: TestClient, sessions: sessionmaker[Session]
                 ) -> dict[str, dict[str, str]]:
    """Headers of the two units' plan systems (workers acting), by client id."""
    with sessions.begin() as session:
        for client_id, role, unit in ((PLAN_YOUTH, "wijkteam-jeugd", "youth"),
                                      (PLAN_ADULTS, "wijkteam-volwassenen", "adult")):
            add_test_client(session, client_id, SCOPES, client_id=client_id,
                            secret=demo_secret(client_id), team_id="wijkteam-noord", role=role)
            add_actor(session, client_id, LEADERS[unit].id, "team-leader", unit)
    return {c: headers(client, c) for c in (PLAN_YOUTH, PLAN_ADULTS)}


def registries_and_plan_systems(client: TestClient, units: Units,
                                sessions: sessionmaker[Session]) -> dict[str, dict[str, str]]:
    """The plan systems, and both units' registries subscribed to the plan by feed."""
    for registry in (units.youth, units.adults):
        subscribed = client.post("/fhir/Subscription", headers=registry, json={
            "resourceType": "Subscription", "status": "requested", "criteria": "CarePlan",
            "reason": "the household plan", "channel": {"type": "message"}})
        assert subscribed.status_code == 201, subscribed.text
    return plan_systems(client, sessions)


def headers(client: TestClient, client_id: str, actor: Actor | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {get_token(client, client_id, actor=actor)}",
            "Content-Type": FHIR}


def leader(client: TestClient, client_id: str, unit: str) -> dict[str, str]:
    return headers(client, client_id, LEADERS[unit])


def goal(goal_id: str, member: str | None, code: str, system: str = ZRM,
         text: str = "een doel", **extra: Any) -> dict[str, Any]:
    subject = {"reference": member} if member else {}
    return {"resourceType": "Goal", "id": goal_id, "lifecycleStatus": "active",
            "category": [{"coding": [{"system": system, "code": code}]}],
            "description": {"text": text}, **({"subject": subject} if member else {}),
            **extra}


def action(action_id: str, goal_id: str, member: str, owner: str = "wijkteam-noord",
           due: str = "2027-03-01", text: str = "een actie") -> dict[str, Any]:
    return {"resourceType": "Task", "id": action_id, "status": "requested", "intent": "plan",
            "description": text, "for": {"reference": member},
            "owner": {"type": "Organization", "identifier": {
                "system": "https://wijkgateway.nl/fhir/NamingSystem/team", "value": owner}},
            "reasonReference": {"reference": f"#{goal_id}"},
            "restriction": {"period": {"end": due}}}


def score(score_id: str, goal_id: str, kind: str, value: int,
          at: str = "2026-11-01") -> dict[str, Any]:
    return {"resourceType": "Observation", "id": score_id, "status": "final",
            "code": {"coding": [{"system": SCORE_SYSTEM, "code": kind}]},
            "focus": [{"reference": f"#{goal_id}"}], "effectiveDateTime": at,
            "valueInteger": value}


def roles(**holders: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "CareTeam", "id": "roles", "participant": [
        {"role": [{"coding": [{"system": ROLE_SYSTEM, "code": role}]}], "member": member}
        for role, member in holders.items()]}


def care_plan(household: str, *contained: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"resourceType": "CarePlan", "status": "draft", "intent": "plan",
            "subject": {"reference": household}, "contained": list(contained), **extra}
