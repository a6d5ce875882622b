"""Residents and their parents or guardians, as far as consent needs them: a birth date (who
may consent depends on age) and who holds authority over a minor. Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from gateway.audit import log as audit
from gateway.auth.bearer import Caller
from gateway.auth.clients import sender_of
from gateway.fhir.render import fhir_identifier
from gateway.households.repository import organizations_helping_household, roles
from gateway.households.representation import check_representation
from gateway.identity.matching import Identified
from gateway.identity.repository import person_by_bsn, person_by_reference
from gateway.identity.service import AUTHORITY_CONFIRMED, queue_authority_claim
from gateway.involvements.access import require_involved
from gateway.platform.db.driver import DriverInsert
from gateway.platform.db.models import IdentityReview, Person, RelatedPersonRow, new_id
from gateway.platform.db.types import utcnow
from gateway.platform.errors import Conflict, GatewayError, Unprocessable
from gateway.platform.logging import get_logger
from schemas import (
    BSN_SYSTEM,
    BSN_SYSTEMS,
    ROLE_CODE_SYSTEM,
    PersonClaim,
    Reference,
    RepresentationClaim,
    is_valid_bsn,
)
from schemas.household import CHILD_ROLES, REPRESENTATION_SYSTEM

PATIENT_PREFIX, RELATED_PREFIX = "Patient/", "RelatedPerson/"
PARENTAL_AUTHORITY = "parental-authority"
PARENT_ROLE = "PRN"  # v3 RoleCode: a parent, when the system does not say mother or father
log = get_logger()


def register_patient(session: Session, caller: Caller, claim: PersonClaim) -> Person:
    """Complete a person the caller's organisation helps with their birth date (``claim``: a
    Patient's BSN and birth date). A different birth date than the one known is a conflict,
    not an overwrite: one of the two registries is wrong and a person should look. Anyone
    else gets the same 403, known or not."""
    assert claim.bsn is not None and claim.birth_date is not None  # the adapter checked
    person = require_involved(session, caller, person_by_bsn(session, claim.bsn),
                              audit.subject_identifier(claim.bsn), "person.refused")
    if person.birth_date not in (None, claim.birth_date):
        raise Conflict("the gateway knows this person with another birth date",
                       expression="Patient.birthDate")
    if person.birth_date is None:
        audit.record(session, kind="write", action="person.birth_date_recorded",
                     actor_id=caller.client_id, person_id=person.id)
        log.info("person_birth_date_recorded", resource_id=person.id)
    person.birth_date = claim.birth_date
    return person


# Persons and RelatedPersons keep no versions: every one is this version (a birth date
# recorded after registration does not make a new one).
REGISTERED_VERSION = 1


def render_patient(person: Person) -> dict[str, Any]:
    """A person as FHIR, as version ``REGISTERED_VERSION``."""
    return {"resourceType": "Patient", "id": person.id,
            "meta": {"versionId": str(REGISTERED_VERSION),
                     "lastUpdated": person.created_at.isoformat()},
            "identifier": [{"system": BSN_SYSTEM, "value": person.bsn}] if person.bsn else [],
            **({"birthDate": person.birth_date.isoformat()} if person.birth_date else {})}


def register_related_person(session: Session, caller: Caller,
                            claim: RepresentationClaim) -> RelatedPersonRow:
    """A parent or guardian of a known person; they may then consent for the minor."""
    person = involved_patient(session, caller, claim.patient, "RelatedPerson.patient",
                              "related_person.refused")
    return add_related_person(session, caller, person.id, claim, "RelatedPerson")


def add_related_person(session: Session, caller: Caller, person_id: str,
                       claim: RepresentationClaim, expr: str,
                       team_id: str | None = None) -> RelatedPersonRow:
    """Store a parent or guardian (as sent, or contained in a referral's consent), and the
    legal representation it holds, if any, once it fits the person
    (``gateway.households.representation``). Written at the session's next flush."""
    person = session.get(Person, person_id)
    assert person is not None  # the caller resolved it
    check_representation(session, claim, person, expr)
    row = RelatedPersonRow(**_registered(session, caller, person.id, claim, team_id))
    session.add(row)
    return row


_RELATED = DriverInsert(RelatedPersonRow.__table__)
# built once: every household registration with parental authority over known children
# reads it
_AUTHORITY_IN_FORCE = select(RelatedPersonRow.id, RelatedPersonRow.person_id,
                             RelatedPersonRow.bsn).where(
    RelatedPersonRow.person_id.in_(bindparam("children", expanding=True)),
    RelatedPersonRow.representation == PARENTAL_AUTHORITY,
    RelatedPersonRow.period_end.is_(None))


@dataclass(frozen=True)
class AuthorityClaim:
    """A parent's parental authority over a child as a household message says it (``index``:
    its place, for a 422 naming ``authority[i]``): ``in_force``, its RelatedPerson when
    recorded already; ``contested`` when it waits for review instead (``authority_claims``)."""

    parent: Person
    child: Person
    index: int
    in_force: str | None = None
    contested: bool = False


@dataclass(frozen=True)
class Authority:
    """What a household message's claims came to: the RelatedPerson each claim is, in order
    (a contested one's once confirmed: its sender is told the same as for one recorded, or
    the answer would tell a stranger whether the gateway knows the child), and the reviews
    the contested ones wait in."""

    named: list[str]
    reviews: list[str]


def authority_claims(session: Session, organization: str,
                     held: Sequence[tuple[Identified, Identified]]) -> list[AuthorityClaim]:
    """A household message's claims (``(parent, child)`` as identity matching found them),
    read before the household changes: which are in force already, and which are contested.

    A claim not in force over a child the gateway knew is contested when ``organization``
    (the sender's) helps neither the child nor anyone in a household with the child, while
    others have a say: the child has holders of authority, or another organisation helps the
    child or their household. Otherwise any system naming a child could make a stranger a
    holder, whose consent then counts for the child and without whose consent the parents'
    no longer suffices. A first claim over a child nobody helps nor holds authority over (new
    to the gateway, as a family is registered before its case opens) stands: there is no one
    it could take a say from, and it is the team's own registration.

    Those in force are read once for all children; who helps a child only for a known child
    with a claim not in force."""
    in_force: dict[tuple[str, str | None], str] = {}
    if known := sorted({child.person.id for _, child in held if not child.created}):
        for row_id, child_id, bsn in session.execute(_AUTHORITY_IN_FORCE, {"children": known}):
            in_force.setdefault((child_id, bsn), row_id)
    holders = {child_id for child_id, _ in in_force}
    helping: dict[str, set[str]] = {}
    claims = []
    for i, (parent, child) in enumerate(held):
        recorded = in_force.get((child.person.id, parent.person.bsn))
        contested = False
        if recorded is None and not child.created:
            if child.person.id not in helping:
                helping[child.person.id] = organizations_helping_household(
                    session, child.person.id, utcnow())
            others = helping[child.person.id]
            contested = organization not in others and (bool(others)
                                                         or child.person.id in holders)
        claims.append(AuthorityClaim(parent.person, child.person, i, recorded, contested))
    return claims


def record_parental_authority(session: Session, caller: Caller, household_id: str,
                              claims: Sequence[AuthorityClaim]) -> Authority:
    """Each claim not in force, checked as a RelatedPerson with parental authority would be
    (422 naming ``authority[i]``), contested or not: one not contested is registered once
    (the new ones in one statement); a contested one waits for review
    (``queue_authority_claim``) under the RelatedPerson id it will have, and the rest of the
    message stands. The household's members were read once: a parent and child there need no
    other search."""
    members = roles(session, household_id)
    added: list[dict[str, Any]] = []
    named: dict[tuple[str, str | None], str] = {}
    reviews: dict[tuple[str, str | None], str] = {}
    for claim in claims:
        key = (claim.child.id, claim.parent.bsn)
        if claim.in_force is not None or key in named or key in reviews:
            continue
        representation = _authority(claim.parent)
        check_representation(session, representation, claim.child, f"authority[{claim.index}]",
                             tied=(claim.parent.id, "parent") in members and any(
                                 (claim.child.id, role) in members for role in CHILD_ROLES))
        if claim.contested:
            review = queue_authority_claim(
                session, child_id=claim.child.id, parent_id=claim.parent.id,
                source_ref=f"Group/{household_id}", client_id=caller.client_id,
                reserved=new_id())
            reviews[key] = review.id
            named[key] = (review.claimed_value or "").removeprefix(RELATED_PREFIX)
        else:
            added.append(_registered(session, caller, claim.child.id, representation))
            named[key] = added[-1]["id"]
    if added:
        _RELATED.run(session.connection(), added)
    return Authority([claim.in_force or named[claim.child.id, claim.parent.bsn]
                      for claim in claims], list(dict.fromkeys(reviews.values())))


def settle_authority(session: Session, review: IdentityReview) -> dict[str, Any]:
    """A reviewed claim of authority: confirmed, it is recorded now for the system that sent
    it, under the id that system was told, checked again as of now (one that no longer fits,
    the child now of age say, is reported and not recorded; one in force meanwhile stands);
    refused, never."""
    if review.resolution != AUTHORITY_CONFIRMED:
        return {"released": 0}
    child, parent = session.get(Person, review.person_id), \
        session.get(Person, review.candidate_id or "")
    assert child is not None and parent is not None  # persons are never deleted
    for row_id, _, bsn in session.execute(_AUTHORITY_IN_FORCE, {"children": [child.id]}):
        if bsn == parent.bsn:
            return {"released": 0, "authority": f"{RELATED_PREFIX}{row_id}"}
    representation = _authority(parent)
    try:
        with session.begin_nested():
            check_representation(session, representation, child, "authority")
            row = _registered(session, sender_of(session, review.client_id), child.id,
                              representation, row_id=(review.claimed_value or "").removeprefix(
                                  RELATED_PREFIX) or None)
            session.connection().execute(RelatedPersonRow.__table__.insert(), [row])
    except GatewayError as error:
        return {"released": 0, "authority": f"not recorded: {error.message}"}
    return {"released": 0, "authority": f"{RELATED_PREFIX}{row['id']}"}


def _authority(parent: Person) -> RepresentationClaim:
    """A parent's parental authority, as a RelatedPerson with it would claim it."""
    return RepresentationClaim(relationship=PARENT_ROLE, representation=PARENTAL_AUTHORITY,
                               bsn=parent.bsn)


def _registered(session: Session, caller: Caller, person_id: str, claim: RepresentationClaim,
                team_id: str | None = None, row_id: str | None = None) -> dict[str, Any]:
    """The row of a RelatedPerson as ``claim`` says (checked already; ``row_id``: an id its
    sender was told already), its registration logged."""
    row = {"id": row_id or new_id(), "person_id": person_id, "relationship": claim.relationship,
           "bsn": claim.bsn, "client_id": caller.client_id,
           "team_id": team_id or caller.team_id, "created_at": utcnow(),
           "representation": claim.representation, "organization": claim.organization,
           "period_start": claim.start, "period_end": claim.end}
    audit.record(session, kind="write", action="related_person.registered",
                 actor_id=caller.client_id, person_id=person_id,
                 details={"related_person": row["id"], "relationship": claim.relationship,
                          "representation": claim.representation})
    log.info("related_person_registered", resource_id=row["id"], client_id=caller.client_id,
             representation=claim.representation)
    return row


def render_related_person(row: RelatedPersonRow) -> dict[str, Any]:
    """A registered parent, guardian or other representative, as version
    ``REGISTERED_VERSION``."""
    codings = [{"system": ROLE_CODE_SYSTEM, "code": row.relationship}] if row.relationship \
        else []
    if row.representation:
        codings.append({"system": REPRESENTATION_SYSTEM, "code": row.representation})
    identifier = [{"system": BSN_SYSTEM, "value": row.bsn}] if row.bsn \
        else [fhir_identifier(row.organization)] if row.organization else []
    period = {k: v.isoformat() for k, v in (("start", row.period_start),
                                            ("end", row.period_end)) if v is not None}
    return {"resourceType": "RelatedPerson", "id": row.id,
            "meta": {"versionId": str(REGISTERED_VERSION),
                     "lastUpdated": row.created_at.isoformat()},
            **({"identifier": identifier} if identifier else {}),
            "patient": {"reference": f"{PATIENT_PREFIX}{row.person_id}"},
            "relationship": [{"coding": [coding]} for coding in codings],
            **({"period": period} if period else {})}


def involved_patient(session: Session, caller: Caller, reference: Reference | None, expr: str,
                     action: str) -> Person:
    """``Patient/{id}`` or a BSN identifier -> a person the caller's organisation helps.
    A malformed reference is 422; an unknown person and one the caller is not involved with
    get the same 403 (no oracle)."""
    person, subject = None, None
    if reference is not None and (reference.reference or "").startswith(PATIENT_PREFIX):
        person = session.get(Person, reference.reference.removeprefix(PATIENT_PREFIX))
    elif reference is not None and reference.identifier is not None \
            and reference.identifier.system in BSN_SYSTEMS and reference.identifier.value:
        subject = audit.subject_identifier(reference.identifier.value)
        person = person_by_bsn(session, reference.identifier.value)
    else:
        raise Unprocessable("reference the person as 'Patient/{id}' or by BSN identifier",
                            expression=expr)
    return require_involved(session, caller, person, subject, action)


def involved_person(session: Session, caller: Caller, patient: str, action: str) -> Person:
    """``Patient/{id}`` or a BSN -> a person the caller's organisation helps; else the same
    403 for unknown and not involved. Neither form: 422 naming ``patient``."""
    if not patient.startswith(PATIENT_PREFIX) and not is_valid_bsn(patient):
        raise Unprocessable("give 'Patient/{id}' or a valid BSN", expression="patient")
    subject = audit.subject_identifier(patient) if is_valid_bsn(patient) else None
    return require_involved(session, caller, person_by_reference(session, patient),
                            subject, action)
