"""The resident's access report (inzage, AVG art 15): what was shared about them, with whom,
why, what was withheld, their consents and objections, and who else processed their data.

With ``proofs``, each entry comes with its RFC 9162 inclusion proof against the latest signed
checkpoint, so anyone holding the log's verifier key can check that the entries shown are
the ones the log holds (and that no later rewrite removed them). Entries newer than that
checkpoint are listed as not yet covered: the next checkpoint covers them.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit.leaves import leaves
from gateway.audit.log import AuditContext
from gateway.audit.merkle import Tree
from gateway.identity.merges import person_ids
from gateway.identity.repository import person_by_bsn
from gateway.oversight.queries import resident
from gateway.platform.db.models import ConsentRow, ProcessingLogCheckpoint, ProcessingLogEntry


def access_report(session: Session, context: AuditContext, bsn: str,
                  proofs: bool = False) -> dict[str, Any]:
    pseudonyms = [p for identifier in resident(session, bsn)
                  for p in context.pseudonymiser.every_pseudonym(identifier)]
    entries = list(session.scalars(select(ProcessingLogEntry).where(
        ProcessingLogEntry.subject.in_(pseudonyms)).order_by(ProcessingLogEntry.seq)))
    report: dict[str, Any] = {"generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
                              "disclosures": [], "withheld": [], "other": [], "consents": []}
    for entry in entries:
        shared = {"seq": entry.seq, "when": entry.recorded_at, "recipient": entry.recipient,
                  "recipient_role": entry.recipient_role, "activity": entry.activity_id,
                  "purpose": entry.purpose, "legal_basis": entry.legal_basis,
                  "categories": entry.categories.split() if entry.categories else []}
        if entry.kind == "disclosure":
            report["disclosures"].append(shared)
        elif entry.kind == "denial" and entry.action == "delivery.withheld":
            report["withheld"].append(shared)
        else:
            report["other"].append({"seq": entry.seq, "when": entry.recorded_at,
                                    "action": entry.action,
                                    "actor": entry.actor_id or entry.actor_type,
                                    "activity": entry.activity_id, "purpose": entry.purpose})
    person = person_by_bsn(session, bsn)
    if person is not None:
        merged = person_ids(session, person.id)  # consents of every merged person too
        for row in session.scalars(select(ConsentRow).where(ConsentRow.person_id.in_(merged))
                                   .order_by(ConsentRow.recorded_at, ConsentRow.row_id)):
            report["consents"].append({
                "id": row.consent_id, "version": row.version,
                "recorded_at": row.recorded_at.isoformat(timespec="seconds"),
                "activity": row.activity_id, "verdict": row.verdict,
                "status": "active" if row.active else "inactive",
                "recipient": row.recipient_organization or row.recipient_role,
                "categories": row.categories.split()})
    if proofs:
        report["proofs"] = inclusion_proofs(session, entries)
    return report


def inclusion_proofs(session: Session, entries: Sequence[ProcessingLogEntry]) -> dict[str, Any]:
    """Each entry's leaf hash and audit path in the tree of the latest signed checkpoint.

    Builds the tree's levels once (O(n) hashes and memory for n entries in the log), so a
    report of many entries costs one pass, not one per entry."""
    latest = session.scalar(select(ProcessingLogCheckpoint).order_by(
        ProcessingLogCheckpoint.seq.desc()).limit(1))
    size = latest.seq if latest else 0
    covered = [e for e in entries if e.seq <= size]
    tree = Tree([bytes.fromhex(h) for _, h in session.execute(leaves(0, size))]) \
        if covered else None
    return {
        "checkpoint": latest.note if latest else None,
        "tree_size": size,
        "entries": [{"seq": e.seq, "leaf_index": e.seq - 1, "leaf_hash": _b64(e.hash),
                     "inclusion_proof": [base64.b64encode(h).decode()
                                         for h in tree.inclusion_proof(e.seq - 1, size)]}
                    for e in covered] if tree else [],
        "not_yet_covered": [e.seq for e in entries if e.seq > size],
    }


def _b64(hex_hash: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_hash)).decode()
