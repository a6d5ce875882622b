"""Validate a FHIR R4B document with fhir.resources; errors become element-named issues."""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from adapters.base import InvalidMessage, Issue
from adapters.bindings import binding_issues
from schemas import safe_name

M = TypeVar("M", bound=BaseModel)
# What a FHIR string should not hold (R4 datatypes: no code points below 32 but tab, CR, LF)
# and FHIR XML cannot: stored, one such character made every XML read of it (a team's whole
# search page) a 406.
_NOT_IN_STRINGS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def expression_for(resource_type: str, loc: tuple[int | str, ...]) -> str:
    """``("note", 0, "text")`` -> ``ServiceRequest.note[0].text``. A key the client chose
    that holds a BSN-like digit run, or is long, is not repeated (``?``)."""
    path = resource_type
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "resource_type":
            path += ".resourceType"
        elif part != "__root__":
            path += f".{safe_name(part)}"
    return path


# pydantic's own "missing", and fhir.resources' for required primitives (status, intent, ...)
MISSING_TYPES = frozenset({"missing", "model_field_validation.missing"})


def issues_from_validation(resource_type: str, error: ValidationError) -> list[Issue]:
    """One issue per pydantic error; the message never includes the offending value. A
    missing required element is coded ``required``, anything else ``structure``."""
    issues = []
    for err in error.errors(include_input=False, include_url=False):
        message, code = err["msg"], "structure"
        if err["type"] == "extra_forbidden":
            message = "unknown element"
        elif err["type"] in MISSING_TYPES:
            message, code = "required element is missing", "required"
        elif err["type"].startswith("fhir-validation-wrong-resource-type"):
            message = f"expected resourceType {resource_type}"
        issues.append(Issue(expression_for(resource_type, err["loc"]), message, code))
    return issues


def _contained_issues(resource_type: str, document: dict[str, Any]) -> list[Issue]:
    """fhir.resources crashes on a contained entry without a usable resourceType; say so."""
    contained = document.get("contained")
    if not isinstance(contained, list):
        return []
    return [Issue(f"{resource_type}.contained[{i}].resourceType",
                  "each contained resource needs a resourceType", "structure")
            for i, item in enumerate(contained)
            if not isinstance(item, dict) or not isinstance(item.get("resourceType"), str)
            or not item["resourceType"].isalpha()]


def _element_issues(resource_type: str, document: dict[str, Any]) -> list[Issue]:
    """Two rules of FHIR JSON that fhir.resources does not enforce, checked before it runs.

    - No ``null`` (an absent element is left out), except in a primitive array that has a
      ``_name`` twin carrying extensions: ``"given": [null, "B"]`` with ``"_given": [{...}, null]``.
    - A ``modifierExtension`` changes the meaning of what holds it, and may not be ignored; the
      gateway understands none, so it refuses them rather than read a "not" as a "yes".
    - No control characters in a string (nor U+FFFE, U+FFFF): FHIR XML cannot carry them.
    """
    issues: list[Issue] = []
    stack: list[tuple[Any, tuple[int | str, ...], bool]] = [(document, (), False)]
    while stack:
        node, loc, nulls_allowed = stack.pop()
        if node is None and not nulls_allowed:
            issues.append(Issue(expression_for(resource_type, loc), "null is not allowed in "
                                "FHIR JSON; leave the element out", "structure"))
        elif isinstance(node, dict):
            if node.get("modifierExtension"):
                issues.append(Issue(expression_for(resource_type, (*loc, "modifierExtension")),
                                    "modifier extensions are not supported: they change the "
                                    "meaning of an element, and the gateway cannot honour them",
                                    "not-supported"))
            stack.extend((child, (*loc, key),
                          isinstance(child, list) and (key.startswith("_") or f"_{key}" in node))
                         for key, child in node.items())
        elif isinstance(node, list):
            stack.extend((child, (*loc, i), nulls_allowed) for i, child in enumerate(node))
        elif isinstance(node, str) and _NOT_IN_STRINGS.search(node):
            issues.append(Issue(expression_for(resource_type, loc), "a string may not hold "
                                "control characters (but tab, line feed and carriage return) "
                                "or U+FFFE/U+FFFF: FHIR XML cannot carry them", "value"))
    return sorted(issues, key=lambda issue: issue.expression)


def check_resource_type(resource_type: str, document: dict[str, Any]) -> None:
    """400 unless ``document`` is a ``resource_type``: a client sent it to the wrong place."""
    if document.get("resourceType") != resource_type:
        raise InvalidMessage([Issue(f"{resource_type}.resourceType",
                                    f"expected resourceType {resource_type}", "structure")],
                             status=400)


def validate_resource(model: type[M], document: dict[str, Any]) -> M:
    """``document`` as ``model`` (e.g. R4B Task), or InvalidMessage naming every bad element."""
    resource_type = model.__name__
    check_resource_type(resource_type, document)
    if issues := _contained_issues(resource_type, document) or \
            _element_issues(resource_type, document):
        raise InvalidMessage(issues)
    if issues := binding_issues(resource_type, document):
        raise InvalidMessage(issues)
    try:
        return model.model_validate(document)
    except ValidationError as error:
        raise InvalidMessage(issues_from_validation(resource_type, error)) from None
    except (KeyError, TypeError, AttributeError):
        # fhir.resources raises these for some malformed nested resources (library defect).
        raise InvalidMessage([Issue(resource_type, "the resource cannot be read as FHIR R4B; "
                                    "check nested resources and their resourceType",
                                    "structure")]) from None
