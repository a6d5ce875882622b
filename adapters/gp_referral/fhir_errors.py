"""Translate pydantic validation errors from fhir.resources into element-named issues."""

from __future__ import annotations

from pydantic import ValidationError

from adapters.base import Issue


def expression_for(resource_type: str, loc: tuple[int | str, ...]) -> str:
    """``("note", 0, "text")`` -> ``ServiceRequest.note[0].text``."""
    path = resource_type
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "resource_type":
            path += ".resourceType"
        elif part != "__root__":
            path += f".{part}"
    return path


def issues_from_validation(resource_type: str, error: ValidationError) -> list[Issue]:
    """One issue per pydantic error; the message never includes the offending value."""
    issues = []
    for err in error.errors(include_input=False, include_url=False):
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown element"
        elif err["type"] == "missing":
            message = "required element is missing"
        elif err["type"].startswith("fhir-validation-wrong-resource-type"):
            message = f"expected resourceType {resource_type}"
        issues.append(
            Issue(expression=expression_for(resource_type, err["loc"]), message=message,
                  code="required" if err["type"] == "missing" else "structure")
        )
    return issues
