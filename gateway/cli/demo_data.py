"""Demo data for ``make run``: two teams, a GP practice and a team system with fixed,
development-only credentials so the README walkthrough works as written."""

from __future__ import annotations

from sqlalchemy.orm import Session

from gateway.auth.actors import add_actor, registered_actor
from gateway.auth.bearer import Actor
from gateway.auth.clients import add_client
from gateway.auth.scopes import (
    GP_SCOPES,
    SCOPE_AUDIT_READ,
    SCOPE_IDENTITY_REVIEW,
    SCOPE_INVOLVEMENT_ADMIN,
    TEAM_SCOPES,
)
from gateway.platform.db.models import OAuthClient, Organization
from gateway.referrals.teams import add_team

DEMO_TEAMS = {"wijkteam-noord": "Wijkteam Noord", "wijkteam-zuid": "Wijkteam Zuid"}
# the URA of each demo team's organisation (fictitious), so a referral may name it by identifier
DEMO_TEAM_IDENTIFIERS = {"wijkteam-noord": "ura:90000101", "wijkteam-zuid": "ura:90000102"}
DEMO_CLIENTS = (  # id, name, scopes, team, recipient role (None: the default)
    ("demo-huisarts", "Huisartsenpraktijk De Linde (demo)", GP_SCOPES, None, None),
    ("demo-wijkteam-noord", "Wijkteam Noord registratiesysteem (demo)", TEAM_SCOPES,
     "wijkteam-noord", None),
    ("demo-privacy-officer", "Privacy officer tooling (demo)", (SCOPE_AUDIT_READ,), None,
     "privacy-officer"),
    ("demo-beheer", "Functional administration (demo)",
     (SCOPE_INVOLVEMENT_ADMIN, SCOPE_IDENTITY_REVIEW), None, "functioneel-beheer"),
)
# The person each demo system acts for (token exchange names them in every request).
DEMO_ACTORS = {
    "demo-huisarts": Actor("huisarts-1", "gp"),
    "demo-wijkteam-noord": Actor("medewerker-1", "worker", "adult"),
    "demo-privacy-officer": Actor("privacy-1", "privacy-officer"),
    "demo-beheer": Actor("beheerder-1", "administrator"),
}


def demo_secret(client_id: str) -> str:
    return f"{client_id}-secret"


def load_demo(session: Session) -> list[str]:
    """Add what is missing; running it twice changes nothing. Returns what was added."""
    added = []
    for team_id, name in DEMO_TEAMS.items():
        if session.get(Organization, team_id) is None:
            add_team(session, team_id, name, [DEMO_TEAM_IDENTIFIERS[team_id]])
            added.append(f"team {team_id}")
    for client_id, name, scopes, team, role in DEMO_CLIENTS:
        if session.get(OAuthClient, client_id) is None:
            add_client(session, name, list(scopes), team_id=team, client_id=client_id,
                       secret=demo_secret(client_id), role=role)
            added.append(f"client {client_id}")
        actor = DEMO_ACTORS[client_id]
        if registered_actor(session, client_id, actor.id, actor.role) is None:
            add_actor(session, client_id, actor.id, actor.role, actor.unit)
            added.append(f"actor {actor.id} ({actor.role}) of {client_id}")
    return added
