"""A resource a client writes through the FHIR API (transport ``fhir-rest``: ``POST`` or
``PUT`` of a Group, ``POST`` of a Patient or RelatedPerson) through the stages:

    decode    JSON, depth limit; a PUT's body names the resource it replaces
    parse     the gp-referral adapter (FHIR R4B is its system's format) -> a canonical claim
    persist   the resource's service applies the claim: it identifies the persons named,
              checks what the caller may change and stores the change

A referral (``referral``) and a consent (``consent``) take paths of their own: what they
store is decided again for each recipient and sent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from adapters import get_adapter
from adapters.fhir_validation import check_resource_type
from gateway.pipeline.stages import DECODE, PARSE, PERSIST, MessagePath
from gateway.platform.fhir_json import decode_json_object, require_own_id
from gateway.platform.metrics import Metrics
from gateway.referrals.service import GP_ADAPTER

TRANSPORT = "fhir-rest"
R = TypeVar("R")


def receive_resource(resource_type: str, body: bytes, max_depth: int,
                     apply: Callable[[Any], R], *, resource_id: str | None = None,
                     metrics: Metrics | None = None) -> R:
    """Decode and parse ``body`` as a ``resource_type`` (the one ``resource_id`` names, for a
    PUT), then ``apply`` the claim; returns what ``apply`` returns."""
    path = MessagePath(GP_ADAPTER, TRANSPORT, metrics)
    with path.stage(DECODE):
        document = decode_json_object(body, max_depth)
        if resource_id is not None:
            require_own_id(document, resource_id, resource_type)
    with path.stage(PARSE):
        claim = parse_as(resource_type, document)
    with path.stage(PERSIST):
        result = apply(claim)
    path.done("applied")
    return result


def parse_as(resource_type: str, document: dict[str, Any]) -> Any:
    """The gp-referral adapter's canonical claim for ``document``, which must be a
    ``resource_type`` (400 else: it was sent to the wrong place)."""
    check_resource_type(resource_type, document)
    return get_adapter(GP_ADAPTER).parse(document)
