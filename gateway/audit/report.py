"""The resident's access report (inzage, AVG art 15): what was shared about them, with whom,
why, what was withheld, their consents and objections, and who else processed their data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit.log import AuditContext, subject_identifier
from gateway.consents.repository import person_by_bsn
from gateway.db.models import ConsentRow, ProcessingLogEntry


def access_report(session: Session, context: AuditContext, bsn: str) -> dict[str, Any]:
    pseudonyms = context.pseudonymiser.every_pseudonym(subject_identifier(bsn))
    entries = session.scalars(select(ProcessingLogEntry).where(
        ProcessingLogEntry.subject.in_(pseudonyms)).order_by(ProcessingLogEntry.seq))
    report: dict[str, Any] = {"generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
                              "disclosures": [], "withheld": [], "other": [], "consents": []}
    for entry in entries:
        shared = {"when": entry.recorded_at, "recipient": entry.recipient,
                  "recipient_role": entry.recipient_role, "activity": entry.activity_id,
                  "purpose": entry.purpose, "legal_basis": entry.legal_basis,
                  "categories": entry.categories.split() if entry.categories else []}
        if entry.kind == "disclosure":
            report["disclosures"].append(shared)
        elif entry.kind == "denial" and entry.action == "delivery.withheld":
            report["withheld"].append(shared)
        else:
            report["other"].append({"when": entry.recorded_at, "action": entry.action,
                                    "actor": entry.actor_id or entry.actor_type,
                                    "activity": entry.activity_id, "purpose": entry.purpose})
    person = person_by_bsn(session, bsn)
    if person is not None:
        for row in session.scalars(select(ConsentRow).where(ConsentRow.person_id == person.id)
                                   .order_by(ConsentRow.recorded_at, ConsentRow.row_id)):
            report["consents"].append({
                "id": row.consent_id, "version": row.version,
                "recorded_at": row.recorded_at.isoformat(timespec="seconds"),
                "activity": row.activity_id, "verdict": row.verdict,
                "status": "active" if row.active else "inactive",
                "recipient": row.recipient_organization or row.recipient_role,
                "categories": row.categories.split()})
    return report
