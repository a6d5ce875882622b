"""Record and revoke consents. History is append-only: a revocation inserts a new version and
never changes the one it revokes. Never commits (the request's session does, once)."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

import orjson
from fhir.resources.R4B.consent import Consent
from sqlalchemy.orm import Session

from adapters.fhir_validation import validate_resource
from adapters.gp_referral.consent import recorded_by
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
from gateway.consents.fhir import check_consent, consent_resource, named_performers
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
from schemas import (
    ACTIVITY_REFERRAL,
    BSN_SYSTEMS,
    CONSENT_CATEGORY,
    CONSENT_SCOPE,
    ConsentClaim,
    Reference,
    Referral,
)

IMMUTABLE_ELEMENTS = ("patient", "performer", "provision")
# Representatives who speak for some categories only, and which (consent.speaks_for)
SCOPES = {"financial-administrator": "financial categories (finances)",
          "mentor": "care and personal categories, not financial ones"}
log = get_logger()


def consent_submitted_before(session: Session, caller: Caller,
                             document: dict[str, Any]) -> tuple[str, ConsentRow | None]:
    """The body's content hash, and the consent an identical earlier submission by the same
    client created, if any: a retry answers with it, so retries are safe."""
    content_hash = _content_hash(document)
    return content_hash, repository.submitted_before(session, caller, content_hash)


def record_consent(session: Session, caller: Caller, register: Register, claim: ConsentClaim,
                   content_hash: str) -> ConsentRow:
    """Store a new consent or objection, checked against the register and the person."""
    check_consent(claim, register)
    person = involved_patient(session, caller, claim.patient, "Consent.patient",
                              "consent.refused")
    grantors, resolved = _performers(session, person, named_performers(claim, "Consent"))
    representatives = representatives_now(session, person.id)
    return _insert(session, caller, register, claim, person, person.birth_date, grantors,
                   resolved, content_hash, "Consent", representatives)


def record_referral_consent(session: Session, caller: Caller, register: Register,
                            referral: Referral, person_id: str, born: date | None) -> ConsentRow:
    """The resident's consent that came contained in a GP referral, recorded as if it had
    been sent on its own (for the receiving team's systems to read), before any delivery."""
    base, document, claim = check_referral_consent(register, referral, born)
    person = session.get(Person, person_id)
    assert person is not None
    grantors: list[tuple[str, Grantor]] = []
    resolved = []
    for (expr, _), declared in zip(named_performers(claim, base), referral.consent_grantors,
                                   strict=True):
        if declared is None:
            grantors.append((expr, SELF))
            resolved.append({"reference": f"{PATIENT_PREFIX}{person.id}"})
        else:
            related = add_related_person(session, caller, person.id, declared, expr,
                                         team_id=referral.team_id)
            grantors.append((expr, _as_representative(session, person.id, related)))
            resolved.append({"reference": f"{RELATED_PREFIX}{related.id}"})
    return _insert(session, caller, register, claim, person, born, grantors, resolved,
                   _content_hash(document), base, team_id=referral.team_id,
                   referral_sender=caller.client_id)


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
                           ) -> tuple[str, dict[str, Any], ConsentClaim]:
    """The contained consent (its form, and that it is about the referred resident, the
    adapter checked), checked without the gateway's own knowledge of the person: its purpose
    and recipient, and that its grantors may consent at the age of ``born``, the birth date
    the referral gives (or one an identity review settled). A known birth date is never
    used: the answer would tell the sender whether, and how old, the gateway knows this BSN.
    422 naming the element."""
    assert referral.consent_index is not None and referral.consent is not None
    base = f"ServiceRequest.contained[{referral.consent_index}]"
    document = referral.resource["contained"][referral.consent_index]
    check_consent(referral.consent, register, base)
    claim = _for_this_referral(referral.consent, referral, base)
    if born is None:
        raise Unprocessable("a consent sent with a referral needs the resident's birth date in "
                            "the contained Patient: who may consent depends on age",
                            expression=f"{base}.patient")
    grantors = [(expr, SELF if declared is None else UNNAMED_REPRESENTATIVE)
                for (expr, _), declared in zip(named_performers(claim, base),
                                               referral.consent_grantors, strict=True)]
    _check_entitled(register, born, grantors, claim, base)
    return base, document, claim


def _for_this_referral(claim: ConsentClaim, referral: Referral, base: str) -> ConsentClaim:
    """A consent that travels with a referral covers the referral's activity and the team
    it goes to, nothing wider: a GP cannot open another team's view, or another sender's."""
    if claim.activity_id != ACTIVITY_REFERRAL:
        raise Unprocessable(f"a consent sent with a referral covers the referral only "
                            f"(purpose {ACTIVITY_REFERRAL}); record others with POST "
                            "/fhir/Consent", expression=f"{base}.provision.purpose")
    if claim.recipient_organization not in (None, referral.team_id):
        raise Unprocessable("a consent sent with a referral covers the receiving team only",
                            expression=f"{base}.provision.actor")
    return claim.model_copy(update={"recipient_organization": referral.team_id})


def _content_hash(document: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _insert(session: Session, caller: Caller, register: Register,
            claim: ConsentClaim, person: Person, born: date | None,
            grantors: list[tuple[str, Grantor]], performers: list[dict[str, str]],
            content_hash: str, base: str, representatives: tuple[Representative, ...] = (),
            team_id: str | None = None, referral_sender: str | None = None) -> ConsentRow:
    """Check who gave the consent may give it at the age ``born`` gives, given the
    representatives in force, then insert version 1, naming each grantor."""
    _check_entitled(register, born, grantors, claim, base, representatives)
    named = {grantor for _, grantor in grantors}
    now = utcnow()
    row = ConsentRow(
        consent_id=new_id(), version=1, person_id=person.id, activity_id=claim.activity_id,
        verdict=claim.verdict, active=True, by_self=SELF in named,
        by_representative=bool(named - {SELF}), grantors=" ".join(sorted(named)),
        recipient_organization=claim.recipient_organization,
        recipient_role=claim.recipient_role,
        categories=" ".join(sorted(claim.all_categories)), period_start=claim.start,
        period_end=claim.end, client_id=caller.client_id,
        team_id=team_id or caller.team_id, worker=claim.worker, content_hash=content_hash,
        referral_sender=referral_sender,
        recorded_at=now, resource={})
    row.resource = {**consent_resource(row, person.id, performers), "dateTime": now.isoformat()}
    session.add(row)
    session.flush()
    _logged(session, caller, row, "consent.recorded")
    log.info("consent_recorded", consent_id=row.consent_id, activity_id=row.activity_id,
             verdict=row.verdict, client_id=caller.client_id)
    return row


def _performers(session: Session, person: Person, performers: list[tuple[str, Reference]]
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
                    claim: ConsentClaim, base: str,
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
    activity = register.activity(claim.activity_id)
    assert activity is not None  # check_consent checked it
    covered = claim.all_categories or activity.data_categories
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
