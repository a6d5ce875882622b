"""Teams that receive referrals, and the AGB or URA of each team's organisation, by which a GP
system may name the team (``performer.identifier``) instead of ``Organization/{id}``."""

from __future__ import annotations

import re
from collections import defaultdict

from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.orm import Session

from gateway.platform.db.models import Organization, TeamIdentifier
from gateway.platform.fhir_json import split_token
from schemas import IDENTIFIER_KINDS, kind_of_system, parse_identifier_token

TEAM_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
TEAM_IDENTIFIER_KINDS = ("agb", "ura")  # an organisation's identifiers; UZI names a person


class TeamError(ValueError):
    """A team cannot be added as asked; the message says why (shown by the CLI)."""


def add_team(session: Session, team_id: str, name: str, identifiers: list[str]) -> Organization:
    """A new team with its identifiers (``agb:01234567``, ``ura:12345678``), each unique
    across teams. Flushes, never commits."""
    if not TEAM_ID.fullmatch(team_id):
        raise TeamError("team id: letters, digits and '-', at most 64")
    if session.get(Organization, team_id) is not None:
        raise TeamError(f"team {team_id!r} exists")
    team = Organization(id=team_id, name=name)
    session.add(team)
    session.flush()
    add_identifiers(session, team_id, identifiers)  # refused: the caller rolls back the team
    return team


def add_identifiers(session: Session, team_id: str, identifiers: list[str]) -> None:
    """Give an existing team more identifiers, checked as :func:`add_team` checks them (a
    team made before teams had identifiers gets them this way)."""
    if session.get(Organization, team_id) is None:
        raise TeamError(f"no team {team_id[:64]!r}")
    session.add_all(TeamIdentifier(identifier=token, organization_id=team_id)
                    for token in _checked_tokens(session, identifiers))
    session.flush()


def _checked_tokens(session: Session, identifiers: list[str]) -> list[str]:
    tokens = [_checked_token(token) for token in identifiers]
    if len(set(tokens)) < len(tokens):
        raise TeamError("an identifier is given twice")
    taken = session.execute(select(TeamIdentifier.identifier, TeamIdentifier.organization_id)
                            .where(TeamIdentifier.identifier.in_(tokens))).first()
    if taken is not None:
        raise TeamError(f"identifier {taken[0]} belongs to team {taken[1]!r} already")
    return tokens


def _checked_token(token: str) -> str:
    try:
        kind, value = parse_identifier_token(token)
    except ValueError as error:
        raise TeamError(f"identifier {token[:20]!r}: {error}") from None
    if kind.prefix not in TEAM_IDENTIFIER_KINDS:
        raise TeamError(f"identifier {kind.prefix}: a team's organisation is named by its "
                        "AGB or URA (agb:01234567, ura:12345678)")
    return kind.token(value)


def team_for_identifier(session: Session, token: str) -> str | None:
    """The id of the team with this identifier (``ura:12345678``), if any."""
    return session.scalar(select(TeamIdentifier.organization_id)
                          .where(TeamIdentifier.identifier == token))


def identifiers_of(session: Session, team_ids: list[str]) -> dict[str, list[str]]:
    """Each team's identifier tokens, sorted; one query for a page of teams."""
    found: dict[str, list[str]] = defaultdict(list)
    for token, team_id in session.execute(
            select(TeamIdentifier.identifier, TeamIdentifier.organization_id)
            .where(TeamIdentifier.organization_id.in_(team_ids))
            .order_by(TeamIdentifier.identifier)):
        found[team_id].append(token)
    return found


def teams_found(identifier: str | None) -> Select[tuple[Organization]]:
    """All teams, or those with an ``identifier`` token value (see :func:`_with_identifier`)."""
    query = select(Organization)
    return query if identifier is None else query.where(_with_identifier(identifier))


def _with_identifier(value: str) -> ColumnElement[bool]:
    """Token values (comma for OR) against the stored ``ura:12345678``: an AGB or URA system
    (http or OID form) names its kind, ``system|`` any value of it; no system, any kind;
    another system matches nothing."""
    clauses = []
    for system, code in map(split_token, value.split(",")):
        kinds = [IDENTIFIER_KINDS[k] for k in TEAM_IDENTIFIER_KINDS] if system is None \
            else [kind] if (kind := kind_of_system(system)) else []
        column = TeamIdentifier.identifier
        clauses += [column == f"{k.prefix}:{code}" if code else column.startswith(f"{k.prefix}:")
                    for k in kinds]
    return Organization.id.in_(select(TeamIdentifier.organization_id).where(or_(false(),
                                                                              *clauses)))
