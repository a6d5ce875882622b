"""Record and revoke consents. History is append-only: a revocation inserts a new version and
never changes the one it revokes. Never commits (the request's session does, once)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date
from typing import Any

import orjson
from fhir.resources.R4B.consent import Consent
from sqlalchemy.orm import Session

from adapters.fhir_validation import validate_resource
from adapters.gp_referral.persons import parse_related_person
from consent import (
    CHILD_DECIDES_ALONE_FROM,
    SELF,
    UNNAMED_REPRESENTATIVE,
    Grantor,
    Register,
    Representative,
    age_on,
    counts_for,
)
from gateway.audit import log as audit
from gateway.auth.bearer import Caller
from gateway.consents import repository
from gateway.consents.fhir import (
    ConsentSubmission,
    consent_resource,
    parse_consent,
    recorded_by,
)
from gateway.fhir.common import check_if_match
from gateway.involvements.access import require_involved_with
from gateway.persons import (
    PATIENT_PREFIX,
    RELATED_PREFIX,
    add_related_person,
    involved_patient,
)
from gateway.platform.db.models import ConsentRow, Person, RelatedPersonRow, new_id
from gateway.platform.db.types import utcnow
from gateway.platform.errors import NotFound, Unprocessable
from gateway.platform.fhir_json import require_own_id
from gateway.platform.logging import get_logger
from schemas import ACTIVITY_REFERRAL, BSN_SYSTEMS, CONSENT_CATEGORY, CONSENT_SCOPE, Referral

IMMUTABLE_ELEMENTS = ("patient", "performer", "provision")
# Representatives who speak for some categories only, and which (consent.speaks_for)
SCOPES = {"financial-administrator": "financial categories (finances)",
          "mentor": "care and personal categories, not financial ones"}
log = get_logger()


def record_consent(session: Session, caller: Caller, register: Register,
                   document: dict[str, Any]) -> tuple[ConsentRow, bool]:
    """Store a new consent or objection. Returns (row, created); an identical earlier
    submission by the same client answers with what it created, so retries are safe."""
    content_hash = _content_hash(document)
    if previous := repository.submitted_before(session, caller, content_hash):
        return previous, False
    submission = parse_consent(document, register)
    person = involved_patient(session, caller, submission.patient, "Consent.patient",
                              "consent.refused")
    grantors, performers = _performers(session, person, submission.performers)
    representatives = representatives_now(session, person.id)
    row = _insert(session, caller, register, submission, person, person.birth_date, grantors,
                  performers, content_hash, "Consent", representatives)
    return row, True


def record_referral_consent(session: Session, caller: Caller, register: Register,
                            referral: Referral, person_id: str, born: date | None) -> ConsentRow:
    """The resident's consent that came contained in a GP referral, recorded as if it had
    been sent on its own (for the receiving team's systems to read), before any delivery."""
    base, document, submission = check_referral_consent(register, referral, born)
    person = session.get(Person, person_id)
    assert person is not None
    contained = _contained(referral)
    grantors: list[tuple[str, Grantor]] = []
    performers = []
    for expr, reference in submission.performers:
        if _grantor(referral, expr, reference) == SELF:
            grantors.append((expr, SELF))
            performers.append({"reference": f"{PATIENT_PREFIX}{person.id}"})
        else:
            target = contained[(reference.reference or "").removeprefix("#")]
            related = add_related_person(session, caller, person.id,
                                         parse_related_person(target, expr), expr,
                                         team_id=referral.team_id)
            grantors.append((expr, _as_representative(session, person.id, related)))
            performers.append({"reference": f"{RELATED_PREFIX}{related.id}"})
    row = _insert(session, caller, register, submission, person, born, grantors, performers,
                  _content_hash(document), base, team_id=referral.team_id,
                  referral_sender=caller.client_id)
    return row


def _as_representative(session: Session, person_id: str, related: RelatedPersonRow) -> Grantor:
    """The grantor a parent named in a referral is: a representative in force with the same
    BSN (a household system registered their authority), or else the parent as declared.
    The stored Consent shows the parent as sent either way: the sender learns nothing of
    who holds authority."""
    if related.bsn is not None:
        for representative in representatives_now(session, person_id):
            known = repository.related_person(session,
                                              representative.id.removeprefix(RELATED_PREFIX))
            if known is not None and known.bsn == related.bsn:
                return representative.id
    return f"{RELATED_PREFIX}{related.id}"


def representatives_now(session: Session, person_id: str) -> tuple[Representative, ...]:
    """Who speaks for the resident today (its merge set)."""
    now = utcnow()
    return tuple(r for r in repository.who_decides(session, person_id)[1] if r.in_force(now))


def check_referral_consent(register: Register, referral: Referral, born: date | None
                           ) -> tuple[str, dict[str, Any], ConsentSubmission]:
    """The contained consent, checked without the gateway's own knowledge of the person: its
    form, its purpose and recipient, that it is about the referred resident, and that its
    grantors may consent at the age of ``born``, the birth date the referral gives (or one an
    identity review settled). A known birth date is never used: the answer would tell the
    sender whether, and how old, the gateway knows this BSN. 422 naming the element."""
    assert referral.consent_index is not None
    base = f"ServiceRequest.contained[{referral.consent_index}]"
    document = referral.resource["contained"][referral.consent_index]
    submission = _for_this_referral(parse_consent(document, register, base), referral, base)
    if not _same_subject(document.get("patient"), referral.resource.get("subject")):
        raise Unprocessable("the consent must be about the referred resident (the same "
                            "reference as ServiceRequest.subject)", expression=f"{base}.patient")
    if born is None:
        raise Unprocessable("a consent sent with a referral needs the resident's birth date in "
                            "the contained Patient: who may consent depends on age",
                            expression=f"{base}.patient")
    grantors = [(expr, _grantor(referral, expr, reference))
                for expr, reference in submission.performers]
    _check_entitled(register, born, grantors, submission, base)
    return base, document, submission


def _contained(referral: Referral) -> dict[Any, dict[str, Any]]:
    return {c.get("id"): c for c in referral.resource.get("contained", [])}


def _grantor(referral: Referral, expr: str, reference: Any) -> Grantor:
    """A contained consent's performer: the resident (the subject's own reference) or a
    contained RelatedPerson (a parent or guardian the sender declares, not yet stored); else
    422."""
    if reference.reference and reference.reference == referral.resource["subject"].get(
            "reference"):
        return SELF
    target = _contained(referral).get((reference.reference or "").removeprefix("#"), {})
    if target.get("resourceType") == "RelatedPerson":
        return UNNAMED_REPRESENTATIVE
    raise Unprocessable("the performer is the resident ('#' reference to the subject's "
                        "contained Patient) or a contained RelatedPerson", expression=expr)


def _for_this_referral(submission: ConsentSubmission, referral: Referral,
                       base: str) -> ConsentSubmission:
    """A consent that travels with a referral covers the referral's activity and the team
    it goes to, nothing wider: a GP cannot open another team's view, or another sender's."""
    if submission.activity_id != ACTIVITY_REFERRAL:
        raise Unprocessable(f"a consent sent with a referral covers the referral only "
                            f"(purpose {ACTIVITY_REFERRAL}); record others with POST "
                            "/fhir/Consent", expression=f"{base}.provision.purpose")
    if submission.recipient_organization not in (None, referral.team_id):
        raise Unprocessable("a consent sent with a referral covers the receiving team only",
                            expression=f"{base}.provision.actor")
    return replace(submission, recipient_organization=referral.team_id)


def _content_hash(document: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _same_subject(patient: Any, subject: Any) -> bool:
    if not isinstance(patient, dict) or not isinstance(subject, dict):
        return False
    if patient.get("reference"):
        return patient.get("reference") == subject.get("reference")
    return patient.get("identifier") is not None and \
        patient.get("identifier") == subject.get("identifier")


def _insert(session: Session, caller: Caller, register: Register,
            submission: ConsentSubmission, person: Person, born: date | None,
            grantors: list[tuple[str, Grantor]], performers: list[dict[str, str]],
            content_hash: str, base: str, representatives: tuple[Representative, ...] = (),
            team_id: str | None = None, referral_sender: str | None = None) -> ConsentRow:
    """Check who gave the consent may give it at the age ``born`` gives, given the
    representatives in force, then insert version 1, naming each grantor."""
    _check_entitled(register, born, grantors, submission, base, representatives)
    named = {grantor for _, grantor in grantors}
    now = utcnow()
    row = ConsentRow(
        consent_id=new_id(), version=1, person_id=person.id, activity_id=submission.activity_id,
        verdict=submission.verdict, active=True, by_self=SELF in named,
        by_representative=bool(named - {SELF}), grantors=" ".join(sorted(named)),
        recipient_organization=submission.recipient_organization,
        recipient_role=submission.recipient_role,
        categories=" ".join(sorted(submission.categories)), period_start=submission.start,
        period_end=submission.end, client_id=caller.client_id,
        team_id=team_id or caller.team_id, worker=submission.worker, content_hash=content_hash,
        referral_sender=referral_sender,
        recorded_at=now, resource={})
    row.resource = {**consent_resource(row, person.id, performers), "dateTime": now.isoformat()}
    session.add(row)
    session.flush()
    _logged(session, caller, row, "consent.recorded")
    log.info("consent_recorded", consent_id=row.consent_id, activity_id=row.activity_id,
             verdict=row.verdict, client_id=caller.client_id)
    return row


def _performers(session: Session, person: Person, performers: list[tuple[str, Any]]
                ) -> tuple[list[tuple[str, Grantor]], list[dict[str, str]]]:
    """Each performer is the person, or a related person registered for this person (a
    parent, a guardian or another representative), named as the grantor it is."""
    grantors: list[tuple[str, Grantor]] = []
    resolved = []
    for expr, reference in performers:
        ref = reference.reference or ""
        ident = reference.identifier
        if ref == f"{PATIENT_PREFIX}{person.id}" or (
                ident is not None and ident.system in BSN_SYSTEMS and person.bsn
                and ident.value == person.bsn):
            grantors.append((expr, SELF))
            resolved.append({"reference": f"{PATIENT_PREFIX}{person.id}"})
            continue
        related = (repository.related_person(session, ref.removeprefix(RELATED_PREFIX))
                   if ref.startswith(RELATED_PREFIX) else None)
        if related is None or related.person_id != person.id:
            raise Unprocessable("the performer must be the person (Patient) or one of their "
                                "registered parents or guardians or other representatives "
                                "(RelatedPerson/{id})", expression=expr)
        grantors.append((expr, f"{RELATED_PREFIX}{related.id}"))
        resolved.append({"reference": f"{RELATED_PREFIX}{related.id}"})
    return grantors, resolved


def _check_entitled(register: Register, born: date | None, grantors: list[tuple[str, Grantor]],
                    submission: ConsentSubmission, base: str,
                    representatives: tuple[Representative, ...] = ()) -> None:
    """Each grantor must count for at least one category the consent covers, at the age
    today and with the representatives in force (see consent.parties): 422 with the reason
    for one who would count for nothing. Without ``representatives`` (a referral's sender
    may not learn them) a declared parent or guardian counts while the person is under 16."""
    if born is None:
        raise Unprocessable("the person's birth date is unknown, so it cannot be checked who "
                            "may consent; register it with POST /fhir/Patient (or send it in "
                            "the referral's contained Patient)", expression=f"{base}.patient")
    age = age_on(born, utcnow().date())
    activity = register.activity(submission.activity_id)
    assert activity is not None  # parse_consent checked it
    covered = submission.categories or activity.data_categories
    for expr, grantor in grantors:
        if not counts_for(age, representatives, grantor, covered):
            raise _not_entitled(age, representatives, grantor, expr, base)


def _not_entitled(age: int, representatives: tuple[Representative, ...], grantor: Grantor,
                  expr: str, base: str) -> Unprocessable:
    """Why ``grantor`` counts for nothing here, naming the element to change."""
    if grantor == SELF:
        return Unprocessable("grantor not entitled: a child under 12 does not consent; the "
                             "holders of parental authority decide", expression=expr)
    kind = next((r.kind for r in representatives if r.id == grantor), None)
    if kind in SCOPES:
        return Unprocessable(f"grantor not entitled for these categories: a {kind} speaks "
                             f"for {SCOPES[kind]} only; name those in provision.code",
                             expression=f"{base}.provision.code")
    if age < CHILD_DECIDES_ALONE_FROM:
        return Unprocessable("grantor not entitled: this related person holds no parental "
                             "authority or guardianship over the child, and only those who do "
                             "consent for a child under 16", expression=expr)
    return Unprocessable("grantor not entitled: from 16 the person decides alone; a parent or "
                         "guardian cannot consent for them (only a curator, mentor or "
                         "financial administrator in force, within their scope)",
                         expression=expr)


def revoke_consent(session: Session, caller: Caller, consent_id: str,
                   document: dict[str, Any], if_match: str | None) -> ConsentRow:
    """``status: inactive`` revokes by adding a version; revoking again answers the same."""
    current = repository.get_visible(session, caller, consent_id)
    if current is None:
        raise NotFound("no such Consent", expression="Consent.id")
    require_involved_with(session, caller, current.person_id, "consent.refused")
    resource = validate_resource(Consent, document)
    require_own_id(document, consent_id, "Consent")
    for element in IMMUTABLE_ELEMENTS:
        if element in document and document[element] != current.resource.get(element):
            raise Unprocessable("a consent cannot be changed, only revoked (status "
                                "'inactive'); record a new Consent instead",
                                expression=f"Consent.{element}")
    status = document.get("status")
    if status == "active" and current.active:
        return current
    if status != "inactive":
        raise Unprocessable("only a revocation (status 'inactive') can be recorded on an "
                            "existing consent", expression="Consent.status")
    if not current.active:
        return current
    check_if_match(if_match, current.version)  # an empty header is malformed, not absent
    revoked = ConsentRow(**{c: getattr(current, c) for c in _COPIED}, version=current.version + 1,
                         active=False, client_id=caller.client_id,
                         worker=recorded_by(resource.extension or []),
                         recorded_at=utcnow())
    session.add(revoked)
    session.flush()
    _logged(session, caller, revoked, "consent.revoked")
    log.info("consent_revoked", consent_id=consent_id, version_id=revoked.version,
             client_id=caller.client_id)
    return revoked


def _logged(session: Session, caller: Caller, row: ConsentRow, action: str) -> None:
    audit.record(session, kind="write", action=action, activity_id=row.activity_id,
                 actor_id=caller.client_id, person_id=row.person_id,
                 categories=frozenset(row.categories.split()),
                 recipient=row.recipient_organization, recipient_role=row.recipient_role,
                 details={"consent": row.consent_id, "version": row.version,
                          "verdict": row.verdict, "worker": row.worker})


_COPIED = ("consent_id", "person_id", "activity_id", "verdict", "by_self", "by_representative",
           "grantors", "recipient_organization", "recipient_role", "categories", "period_start",
           "period_end", "team_id", "content_hash", "resource", "referral_sender")


def render_consent(row: ConsentRow) -> dict[str, Any]:
    return {"resourceType": "Consent", "id": row.consent_id,
            "meta": {"versionId": str(row.version), "lastUpdated": row.recorded_at.isoformat()},
            "status": "active" if row.active else "inactive", "scope": CONSENT_SCOPE,
            "category": CONSENT_CATEGORY, **row.resource}
