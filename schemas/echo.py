"""What of a client's input may be repeated back in an error or written to a log.

A client can put anything in a code, a parameter or a JSON key, a BSN or a name included.
Errors quote a submitted value only in a bounded, sanitised form, and logs name elements only
from a fixed vocabulary: FHIR R4B's element and resource names, shipped with the package as
``fhir_elements.txt`` (a test checks it against fhir.resources) plus the gateway's own
parameter names. Anything else is replaced, never shown.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

NOT_SHOWN = "(value not repeated)"
_SAFE_VALUE = re.compile(r"[A-Za-z0-9._:/|#$\[\]-]{1,64}")
_DIGIT_RUN = re.compile(r"[0-9]{5,}")  # a BSN, a phone number, a birth date: separators aside
_NOT_DIGIT = re.compile(r"[^0-9]")
_POSITION = re.compile(r"[0-9]{1,4}")  # a list position in a validation error's path
_INDEX = re.compile(r"\[[0-9]{1,6}\]$")
_GATEWAY_NAMES = frozenset({
    "Authorization", "If-Match", "If-None-Exist", "Idempotency-Key", "Content-Type",
    "Content-Length", "body", "query", "path", "header", "patient", "activity", "categories",
    "recipients", "organization", "role", "override", "justification", "meldcode_step", "at",
    "start", "end", "resolution", "comment", "subject", "household", "recipient", "kind",
    "outcome", "from", "to", "format", "id", "_count", "_offset", "_include", "_elements",
    "status", "focus", "identifier", "actor", "actor:identifier", "purpose", "criteria",
    "_lastUpdated", "_sort", "_summary", "_revinclude", "_total", "_totalMethod",
})


def shown(value: object, limit: int = 40) -> str:
    """``'value'`` when it is short, code-like and holds no long digit run; else a marker."""
    text = str(value)
    if _SAFE_VALUE.fullmatch(text) and len(text) <= limit \
            and not _DIGIT_RUN.search(_NOT_DIGIT.sub("", text)):
        return repr(text)
    return NOT_SHOWN


def loggable(value: object) -> str:
    """A client-given value as a log's details may hold it: the value, or the marker."""
    return str(value) if shown(value) != NOT_SHOWN else NOT_SHOWN


def safe_name(text: str) -> str:
    """A client-chosen name (a parameter, a header) as an expression may repeat it."""
    return text if shown(text) != NOT_SHOWN else "?"


@cache
def element_names() -> frozenset[str]:
    names = (files("schemas") / "fhir_elements.txt").read_text(encoding="utf-8").split()
    return frozenset(names) | _GATEWAY_NAMES


def loggable_expression(expression: str) -> str:
    """An error's expression with every step outside the vocabulary replaced by ``?``:
    ``ServiceRequest.contained[0].Fatima123456782`` -> ``ServiceRequest.contained[0].?``."""
    known = element_names()
    steps = []
    for step in expression.split(".")[:12]:
        index = _INDEX.search(step)
        name = step[:index.start()] if index else step
        steps.append(("?" if name not in known and not _POSITION.fullmatch(name) else name)
                     + (index.group() if index else ""))
    return ".".join(steps)
