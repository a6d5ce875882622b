"""One app-wide dependency: no control character in a path segment or a query value.

No FHIR id, search value or identifier holds one, and PostgreSQL refuses a NUL in a text
parameter with an error the client did not cause in a way we could name; a 400 here names it
before any query runs (the character itself is not echoed)."""

from __future__ import annotations

import re

from fastapi import Request

from gateway.platform.errors import BadRequest
from schemas import safe_name

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def refuse_control_characters(request: Request) -> None:
    for name, value in request.path_params.items():
        if isinstance(value, str) and _CONTROL.search(value):
            raise BadRequest(f"the path parameter {name} holds a control character",
                             expression=name)
    for name, value in request.query_params.multi_items():
        if _CONTROL.search(value) or _CONTROL.search(name):
            raise BadRequest("a query parameter holds a control character",
                             expression=safe_name(name) if not _CONTROL.search(name) else None)
