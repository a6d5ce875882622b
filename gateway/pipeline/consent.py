"""A Consent a client records (transport: FHIR REST, ``POST /fhir/Consent``): stored by the
consent service, then what waited for it, referral messages withheld for want of consent,
decided again and sent where the new decision permits."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from consent import Register
from gateway.auth.bearer import Caller
from gateway.consents.service import record_consent
from gateway.disclosure.service import release_withheld
from gateway.platform.db.models import ConsentRow


def receive_consent(session: Session, caller: Caller, register: Register,
                    document: dict[str, Any]) -> tuple[ConsentRow, bool]:
    """Returns (row, created), as ``record_consent``; a retry releases nothing again."""
    row, created = record_consent(session, caller, register, document)
    if created and row.verdict == "permit":
        release_withheld(session, register, row.person_id, row.activity_id)
    return row, created
