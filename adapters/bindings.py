"""FHIR R4B's required code bindings on the elements the gateway receives: fhir.resources
checks an element's type, not its value set, so ``intent: "bogus"`` would pass. Each entry
is (resource type, element) -> the codes of the required value set."""

from __future__ import annotations

from typing import Any

from adapters.base import Issue

REQUEST_STATUS = ("draft", "active", "on-hold", "revoked", "completed", "entered-in-error",
                  "unknown")
REQUEST_INTENT = ("proposal", "plan", "directive", "order", "original-order", "reflex-order",
                  "filler-order", "instance-order", "option")
REQUEST_PRIORITY = ("routine", "urgent", "asap", "stat")
REQUIRED: dict[tuple[str, str], tuple[str, ...]] = {
    ("ServiceRequest", "status"): REQUEST_STATUS,
    ("ServiceRequest", "intent"): REQUEST_INTENT,
    ("ServiceRequest", "priority"): REQUEST_PRIORITY,
    ("Task", "status"): ("draft", "requested", "received", "accepted", "rejected", "ready",
                         "cancelled", "in-progress", "on-hold", "failed", "completed",
                         "entered-in-error"),
    ("Task", "intent"): ("unknown", "proposal", "plan", "order", "original-order",
                         "reflex-order", "filler-order", "instance-order", "option"),
    ("Task", "priority"): REQUEST_PRIORITY,
    ("Consent", "status"): ("draft", "proposed", "active", "rejected", "inactive",
                            "entered-in-error"),
    ("Subscription", "status"): ("requested", "active", "error", "off"),
    ("Patient", "gender"): ("male", "female", "other", "unknown"),
    ("RelatedPerson", "gender"): ("male", "female", "other", "unknown"),
}


def binding_issues(resource_type: str, document: dict[str, Any]) -> list[Issue]:
    """An issue per code outside its required value set (the value is not repeated)."""
    return [Issue(f"{resource_type}.{element}",
                  f"not a code of the required value set: one of {', '.join(codes)}",
                  "code-invalid")
            for (owner, element), codes in REQUIRED.items()
            if owner == resource_type and isinstance(document.get(element), str)
            and document[element] not in codes]
