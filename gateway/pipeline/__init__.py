"""The inbound pipeline: the named stages every message passes (``stages``), a GP referral's
path through them (``referral``), an adapter message's (``messages``), a Consent's
(``consent``) and the FHIR API's other writes' (``fhir_rest``)."""

from gateway.pipeline.referral import Accepted, receive_referral

__all__ = ["Accepted", "receive_referral"]
