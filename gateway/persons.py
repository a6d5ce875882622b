"""Residents and their parents or guardians, as far as consent needs them: a birth date (who
may consent depends on age) and who holds authority over a minor. Never commits."""

from __future__ import annotations

from datetime import date
from typing import Any

from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.relatedperson import RelatedPerson
from sqlalchemy.orm import Session

from adapters.fhir_validation import validate_resource
from gateway.audit import log as audit
from gateway.auth.bearer import Caller
from gateway.consents import repository
from gateway.db.models import Person, RelatedPersonRow
from gateway.errors import Conflict, Unprocessable
from gateway.logging import get_logger
from schemas import BSN_SYSTEM, BSN_SYSTEMS, REPRESENTATIVE_CODES, ROLE_CODE_SYSTEM, is_valid_bsn

PATIENT_PREFIX, RELATED_PREFIX = "Patient/", "RelatedPerson/"
log = get_logger()


def register_patient(session: Session, caller: Caller,
                     document: dict[str, Any]) -> tuple[Person, bool]:
    """Create the person by BSN, or complete a known one with the birth date. Returns
    (person, created). A different birth date than the one known is a conflict, not an
    overwrite: one of the two registries is wrong and a person should look."""
    patient = validate_resource(Patient, document)
    bsn = _bsn(patient.identifier or [], "Patient.identifier")
    if patient.birthDate is None or not isinstance(patient.birthDate, date):
        raise Unprocessable("give the full birth date (YYYY-MM-DD)",
                            expression="Patient.birthDate")
    person = repository.person_by_bsn(session, bsn)
    if person is None:
        person = Person(bsn=bsn, birth_date=patient.birthDate)
        session.add(person)
        session.flush()
        audit.record(session, kind="write", action="person.registered",
                     actor_id=caller.client_id, person_id=person.id)
        log.info("person_registered", resource_id=person.id)
        return person, True
    if person.birth_date not in (None, patient.birthDate):
        raise Conflict("the gateway knows this person with another birth date",
                       expression="Patient.birthDate")
    if person.birth_date is None:
        audit.record(session, kind="write", action="person.birth_date_recorded",
                     actor_id=caller.client_id, person_id=person.id)
    person.birth_date = patient.birthDate
    return person, False


def render_patient(person: Person) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": person.id,
            "identifier": [{"system": BSN_SYSTEM, "value": person.bsn}] if person.bsn else [],
            **({"birthDate": person.birth_date.isoformat()} if person.birth_date else {})}


def register_related_person(session: Session, caller: Caller,
                            document: dict[str, Any]) -> RelatedPersonRow:
    """A parent or guardian of a known person; they may then consent for the minor."""
    related = validate_resource(RelatedPerson, document)
    person = resolve_patient(session, related.patient, "RelatedPerson.patient")
    return add_related_person(session, caller, person.id, related, "RelatedPerson")


def add_related_person(session: Session, caller: Caller, person_id: str, related: RelatedPerson,
                       expr: str, team_id: str | None = None) -> RelatedPersonRow:
    """Store a parent or guardian (as sent, or contained in a referral's consent)."""
    codes = {c.code for concept in related.relationship or [] for c in concept.coding or []
             if c.system == ROLE_CODE_SYSTEM}
    relationship = sorted(codes & REPRESENTATIVE_CODES)
    if not relationship:
        raise Unprocessable(f"give the relationship as {ROLE_CODE_SYSTEM} code: a parent "
                            "(PRN, MTH, FTH) or a guardian (GUARD); only they consent for a "
                            "minor", expression=f"{expr}.relationship")
    bsn = _bsn(related.identifier, f"{expr}.identifier") if related.identifier else None
    row = RelatedPersonRow(person_id=person_id, relationship=relationship[0], bsn=bsn,
                           client_id=caller.client_id, team_id=team_id or caller.team_id)
    session.add(row)
    session.flush()
    audit.record(session, kind="write", action="related_person.registered",
                 actor_id=caller.client_id, person_id=person_id,
                 details={"related_person": row.id, "relationship": row.relationship})
    log.info("related_person_registered", resource_id=row.id, client_id=caller.client_id)
    return row


def render_related_person(row: RelatedPersonRow) -> dict[str, Any]:
    return {"resourceType": "RelatedPerson", "id": row.id,
            "patient": {"reference": f"{PATIENT_PREFIX}{row.person_id}"},
            "relationship": [{"coding": [{"system": ROLE_CODE_SYSTEM,
                                          "code": row.relationship}]}],
            **({"identifier": [{"system": BSN_SYSTEM, "value": row.bsn}]} if row.bsn else {})}


def resolve_patient(session: Session, reference: Any, expr: str) -> Person:
    """``Patient/{id}`` or a BSN identifier -> a person the gateway knows, else 422."""
    person = None
    if reference is not None and (reference.reference or "").startswith(PATIENT_PREFIX):
        person = session.get(Person, reference.reference.removeprefix(PATIENT_PREFIX))
    elif reference is not None and reference.identifier is not None:
        ident = reference.identifier
        if ident.system in BSN_SYSTEMS and ident.value:
            person = repository.person_by_bsn(session, ident.value)
    if person is None:
        raise Unprocessable("unknown person: reference a Patient the gateway knows (from a "
                            "referral or POST /fhir/Patient) as 'Patient/{id}' or by BSN",
                            expression=expr)
    return person


def find_person(session: Session, patient: str) -> Person:
    """``Patient/{id}`` or a BSN -> the person, or 422 naming ``patient``."""
    person = None
    if patient.startswith("Patient/"):
        person = session.get(Person, patient.removeprefix("Patient/"))
    elif is_valid_bsn(patient):
        person = repository.person_by_bsn(session, patient)
    if person is None:
        raise Unprocessable("unknown person: give 'Patient/{id}' or the BSN of a person the "
                            "gateway knows", expression="patient")
    return person


def _bsn(identifiers: list[Any], expr: str) -> str:
    for i, ident in enumerate(identifiers):
        if ident.system in BSN_SYSTEMS:
            if not ident.value or not is_valid_bsn(ident.value):
                raise Unprocessable("not a valid BSN (9 digits passing the elfproef)",
                                    expression=f"{expr}[{i}].value")
            return ident.value
    raise Unprocessable(f"give a BSN identifier (system {BSN_SYSTEM})", expression=expr)
