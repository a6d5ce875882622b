"""Load the register of processing activities at start-up, and publish it.

The register is read once: a broken file stops start-up with a message naming the problem,
rather than failing the first exchange that needs it.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from gateway.api.runtime import RuntimeDep
from gateway.platform.processing_register import load_register

__all__ = ["load_register", "router"]  # load_register lives in processing_register (no web)

router = APIRouter(tags=["privacy"])


@router.get("/processing-activities")
def processing_activities(runtime: RuntimeDep) -> JSONResponse:
    """The register (AVG art 30): what the gateway processes, why, and on which legal basis."""
    return JSONResponse(runtime.register.model_dump(mode="json"))
