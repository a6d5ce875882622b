"""Consent and AVG purpose engine: a pure policy core (no I/O).

Decisions are a function of the request, the person's consent records, the register of
processing activities and the time; storage and APIs live in ``gateway``.
"""

from consent.decide import (
    Decision,
    DecisionError,
    DecisionRequest,
    Override,
    Recipient,
    RecipientDecision,
    decide,
)
from consent.minimise import minimise
from consent.parties import counts_for
from consent.records import (
    CHILD_DECIDES_ALONE_FROM,
    SELF,
    UNNAMED_REPRESENTATIVE,
    ConsentRecord,
    Grantor,
    Verdict,
    age_on,
    current_versions,
)
from consent.register import ProcessingActivity, Register, RegisterError, parse_register
from consent.representation import Representative, speaks_for
from schemas.household import REPRESENTATION_KINDS, RepresentationKind

__all__ = [
    "CHILD_DECIDES_ALONE_FROM",
    "REPRESENTATION_KINDS",
    "SELF",
    "UNNAMED_REPRESENTATIVE",
    "ConsentRecord",
    "Decision",
    "DecisionError",
    "DecisionRequest",
    "Grantor",
    "Override",
    "ProcessingActivity",
    "Recipient",
    "RecipientDecision",
    "Register",
    "RegisterError",
    "RepresentationKind",
    "Representative",
    "Verdict",
    "age_on",
    "counts_for",
    "current_versions",
    "decide",
    "minimise",
    "parse_register",
    "speaks_for",
]
