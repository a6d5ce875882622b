"""The inbound pipeline: the named stages every message passes (``stages``), a GP referral's
path through them (``referral``) and an adapter message's (``messages``)."""

from gateway.pipeline.referral import Accepted, receive_referral

__all__ = ["Accepted", "receive_referral"]
