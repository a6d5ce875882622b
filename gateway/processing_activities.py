"""Load the register of processing activities at start-up, and publish it.

The register is read once: a broken file stops start-up with a message naming the problem,
rather than failing the first exchange that needs it.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from consent import Register, RegisterError, parse_register
from gateway.runtime import RuntimeDep
from schemas import REFERRAL_FLOW_ACTIVITIES

router = APIRouter(tags=["privacy"])


def load_register(path: Path | None = None) -> Register:
    """The register at ``path`` (``WIJKGATEWAY_PROCESSING_ACTIVITIES_PATH``), or the packaged
    Dutch default set."""
    source = path or files("consent") / "processing_activities.yaml"
    try:
        document: Any = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as error:
        raise RegisterError(f"cannot read the register at {source}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise RegisterError(f"the register at {source} is not valid YAML: {error}") from None
    register = parse_register(document)
    if missing := [a for a in REFERRAL_FLOW_ACTIVITIES if register.activity(a) is None]:
        raise RegisterError(f"the register at {source} lacks the activities the gateway's "
                            f"flows run under: {', '.join(missing)}")
    return register


@router.get("/processing-activities")
def processing_activities(runtime: RuntimeDep) -> JSONResponse:
    """The register (AVG art 30): what the gateway processes, why, and on which legal basis."""
    return JSONResponse(runtime.register.model_dump(mode="json"))
