"""A Consent a client records (transport: FHIR REST, ``POST /fhir/Consent``) through the
stages:

    decode    JSON, depth limit
    parse     the gp-referral adapter -> canonical ConsentClaim; the same body sent again by
              the same client answers with the consent it created, and nothing changes
    persist   checked against the register and the person, stored, the processing log
    decide    a permit: what waited for it, referral messages withheld for want of consent,
              decided again and sent where the new decision permits (enqueued)
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from consent import Register
from gateway.auth.bearer import Caller
from gateway.consents.service import consent_submitted_before, record_consent
from gateway.disclosure.service import release_withheld
from gateway.pipeline.fhir_rest import TRANSPORT, parse_as
from gateway.pipeline.stages import DECIDE, DECODE, PARSE, PERSIST, MessagePath
from gateway.platform.db.models import ConsentRow
from gateway.platform.fhir_json import decode_json_object
from gateway.platform.metrics import Metrics
from gateway.referrals.service import GP_ADAPTER
from schemas import ConsentClaim


def receive_consent(session: Session, caller: Caller, register: Register, body: bytes,
                    max_depth: int, metrics: Metrics | None = None) -> tuple[ConsentRow, bool]:
    """Returns (row, created); a retry releases nothing again."""
    path = MessagePath(GP_ADAPTER, TRANSPORT, metrics)
    with path.stage(DECODE):
        document = decode_json_object(body, max_depth)
    with path.stage(PARSE):
        content_hash, previous = consent_submitted_before(session, caller, document)
        if previous is not None:
            path.done("replayed")
            return previous, False
        claim: ConsentClaim = parse_as("Consent", document)
    with path.stage(PERSIST):
        row = record_consent(session, caller, register, claim, content_hash)
    if row.verdict == "permit":
        with path.stage(DECIDE):
            release_withheld(session, register, row.person_id, row.activity_id)
    path.done("created")
    return row, True
