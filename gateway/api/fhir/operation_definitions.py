"""``/fhir/OperationDefinition/{id}``: what each operation the CapabilityStatement declares takes
and answers (public, as ``/fhir/metadata`` is)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request

from gateway.api.fhir import care_plan, who_else_helps
from gateway.fhir.base_url import public_base
from gateway.platform.errors import NotFound
from gateway.platform.fhir_json import FhirResponse
from gateway.platform.unit_of_work import UnitOfWorkRoute

router = APIRouter(prefix="/fhir", tags=["metadata"], route_class=UnitOfWorkRoute)
DEFINITIONS: dict[str, Callable[[str], dict[str, Any]]] = {
    who_else_helps.NAME: who_else_helps.definition,
    **care_plan.DEFINITIONS,
}


@router.get("/OperationDefinition/{operation_id}", response_class=FhirResponse)
def read_operation_definition(operation_id: str, request: Request) -> FhirResponse:
    if operation_id not in DEFINITIONS:
        raise NotFound(f"no such OperationDefinition; this gateway defines "
                       f"{', '.join(sorted(DEFINITIONS))}", expression="OperationDefinition.id")
    return FhirResponse(DEFINITIONS[operation_id](public_base(request)))
