"""FHIR search, once for every resource type.

A route declares what its type accepts (``SearchSpec``); here the request is checked against
it and the result parameters are applied, so every search answers the same way:

- an unknown parameter or an unsupported modifier (``status:not``) is a 400 naming it, unless
  the request says ``Prefer: handling=lenient``: then it is ignored, and an OperationOutcome
  entry (``search.mode = outcome``) says so;
- ``_lastUpdated`` (prefixes eq, gt, ge, lt, le; any dateTime precision), ``_sort``
  (``_lastUpdated``, ``-_lastUpdated``), ``_count``/``_offset``, ``_summary=count``,
  ``_total`` and ``_totalMethod=count`` (no-ops: the total is always exact),
  ``_elements`` (only after consent minimisation: it can narrow, never widen), and the
  ``_include``/``_revinclude`` a type declares;
- reference values as ``Type/id``, ``id`` or an absolute URL on this gateway's base; token
  values as ``system|code``, ``|code`` or ``code``, comma-separated for OR;
- Bundle links (self, next, previous) carry only the parameters used, so following one
  answers the same page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fhir.resources.R4B import get_fhir_model_class
from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from adapters.base import Issue
from gateway.fhir import prefer
from gateway.fhir.base_url import public_base
from gateway.fhir.subset import subset_view
from gateway.platform.db.paging import page
from gateway.platform.errors import BadRequest
from gateway.platform.fhir_json import FhirResponse, operation_outcome, searchset, split_token
from schemas import safe_name, shown

MAX_COUNT = 200
DEFAULT_COUNT = 50
MAX_OFFSET = 100_000
COMMON = frozenset({"_count", "_offset", "_summary", "_elements", "_total", "_totalMethod",
                    "_pretty"})
# The total is always counted exactly, so these ask for nothing more: _total (FHIR) and
# _totalMethod=count (what fhirpy's documented count() sends, with _count=0).
TOTALS = {"_total": ("none", "estimate", "accurate"), "_totalMethod": ("count",)}
REPEATABLE = frozenset({"_lastUpdated"})
# Bounds on the SQL one search builds: SQLite refuses an expression nested 1000 deep, so 500
# _lastUpdated values, or 400 comma-separated Organization identifiers, were a 500.
MAX_REPEATS = 4  # of a repeatable parameter (a _lastUpdated range takes two)
MAX_VALUES = 100  # comma-separated (OR) values of one parameter
SORTS = {"_lastUpdated": False, "-_lastUpdated": True}  # value -> newest first
PREFIXES = frozenset({"eq", "gt", "ge", "lt", "le"})
# DSTU1's comparators, still sent by fhirclient's documented $gt/$gte/$lt/$lte and read by HAPI
LEGACY_PREFIXES = {">=": "ge", "<=": "le", ">": "gt", "<": "lt"}  # longest first
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_DATETIME = re.compile(
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,9}))?)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})?)?)?)?", re.ASCII)  # \d is 0-9 only, not every Nd digit


@dataclass(frozen=True, eq=False)
class SearchSpec:
    """What one resource type's search accepts, beyond the paging and result parameters."""

    resource_type: str
    params: frozenset[str] = frozenset()
    last_updated: InstrumentedAttribute[datetime] | None = None  # enables _lastUpdated, _sort
    include: frozenset[str] = frozenset()  # accepted _include values, e.g. "Task:focus"
    revinclude: frozenset[str] = frozenset()

    def names(self) -> frozenset[str]:
        extra = {"_lastUpdated", "_sort"} if self.last_updated is not None else set()
        extra |= {"_include"} if self.include else set()
        extra |= {"_revinclude"} if self.revinclude else set()
        return self.params | COMMON | extra


@dataclass(frozen=True)
class LastUpdated:
    """One ``_lastUpdated`` value: a prefix and the instant range its precision spans."""

    prefix: str
    start: datetime
    end: datetime

    def clause(self, column: InstrumentedAttribute[datetime]) -> ColumnElement[bool]:
        return {"eq": and_(column >= self.start, column < self.end),
                "gt": column >= self.end, "ge": column >= self.start,
                "lt": column < self.start, "le": column < self.end}[self.prefix]


@dataclass(frozen=True)
class Search:
    """A checked search: the type's own ``params`` and the common ones, parsed."""

    params: dict[str, str]
    count: int
    offset: int
    spec: SearchSpec | None = None
    used: tuple[tuple[str, str], ...] = ()  # as given, but paging: what links repeat
    ignored: tuple[str, ...] = ()  # unknown parameters a lenient request gave
    total_only: bool = False  # _summary=count or _count=0
    last_updated: tuple[LastUpdated, ...] = ()
    newest_first: bool | None = None  # None: the type's own order
    elements: frozenset[str] | None = None
    include: bool = False
    revinclude: bool = False

    def rows(self, session: Session, query: Select[Any],
             *order: Any) -> tuple[list[Any], int]:
        """Apply ``_lastUpdated`` and ``_sort`` to ``query`` (``order`` is the type's own order
        and breaks ties); one page of rows and the total, or only the total."""
        column = self.spec.last_updated if self.spec else None
        if column is not None:
            query = query.where(*(value.clause(column) for value in self.last_updated))
            if self.newest_first is not None:
                order = (column.desc() if self.newest_first else column.asc(), *order)
        if self.total_only:
            return [], session.scalar(select(func.count()).select_from(query.subquery())) or 0
        return page(session, query.order_by(*order), self.count, self.offset)


def parse_search(request: Request, spec: SearchSpec) -> Search:
    """Known parameters only (each once, but ``_lastUpdated``), each with a value."""
    lenient = prefer.lenient(request)
    known = spec.names()
    used: list[tuple[str, str]] = []
    ignored: list[str] = []
    for name, value in request.query_params.multi_items():
        if name not in known:
            if lenient:
                ignored.append(safe_name(name[:40]))
                continue
            raise BadRequest(f"unsupported search parameter {shown(name)}; supported: "
                             f"{', '.join(sorted(known))}", expression=safe_name(name[:40]))
        if name not in REPEATABLE and any(name == seen for seen, _ in used):
            raise BadRequest("give each search parameter once", expression=name)
        if not value:
            raise BadRequest(f"{name} needs a value", expression=name)
        if value.count(",") >= MAX_VALUES:
            raise BadRequest(f"{name} takes at most {MAX_VALUES} comma-separated values",
                             expression=name)
        if sum(name == seen for seen, _ in used) >= MAX_REPEATS:
            raise BadRequest(f"give {name} at most {MAX_REPEATS} times", expression=name)
        used.append((name, value))
    given = dict(used)
    count = bounded_int(given.pop("_count", None), "_count", DEFAULT_COUNT, 0, MAX_COUNT)
    offset = bounded_int(given.pop("_offset", None), "_offset", 0, 0, MAX_OFFSET)
    summary = given.pop("_summary", "false")
    if summary not in ("count", "false"):
        raise BadRequest("_summary takes 'count' (the total only) or 'false'",
                         expression="_summary")
    sort = given.pop("_sort", None)
    if sort is not None and sort not in SORTS:
        raise BadRequest(f"_sort takes {' or '.join(SORTS)}", expression="_sort")
    elements = given.pop("_elements", None)
    if given.pop("_pretty", "false") not in ("true", "false"):  # asked of every interaction,
        raise BadRequest("_pretty takes true or false", expression="_pretty")  # HAPI's habit
    for name, values in TOTALS.items():
        if given.pop(name, values[-1]) not in values:
            raise BadRequest(f"{name} takes {', '.join(values)} (the total is always exact)",
                             expression=name)
    return Search(
        params={k: v for k, v in given.items() if not k.startswith("_")},
        count=count, offset=offset, spec=spec,
        used=tuple((k, v) for k, v in used if k not in ("_count", "_offset")),
        ignored=tuple(dict.fromkeys(ignored)), total_only=summary == "count" or count == 0,
        last_updated=tuple(_last_updated(v) for k, v in used if k == "_lastUpdated"),
        newest_first=SORTS.get(sort) if sort else None,
        elements=_elements(spec.resource_type, elements) if elements else None,
        include=_included(given.get("_include"), spec.include, "_include"),
        revinclude=_included(given.get("_revinclude"), spec.revinclude, "_revinclude"))


def bounded_int(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if value is None:
        return default
    if not value.isascii() or not value.isdigit() or not low <= int(value) <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}", expression=name)
    return int(value)


def _included(value: str | None, accepted: frozenset[str], name: str) -> bool:
    if value is None:
        return False
    if value not in accepted:
        raise BadRequest(f"{name} supports {min(accepted, key=len)} only", expression=name)
    return True


def _last_updated(value: str) -> LastUpdated:
    """``[prefix]dateTime`` -> the range the value spans at its precision (FHIR search
    dates: ``2026`` is the whole year, ``2026-12-01T06:07:23.5Z`` a tenth of a second)."""
    legacy = next((p for p in LEGACY_PREFIXES if value.startswith(p)), None)
    if legacy:
        value = LEGACY_PREFIXES[legacy] + value[len(legacy):]
    prefix, text = (value[:2], value[2:]) if value[:2].isalpha() else ("eq", value)
    match = _DATETIME.fullmatch(text)
    if prefix not in PREFIXES or not match:
        hint = " (a '+' in a URL is a space: write %2B)" if " " in text else ""
        raise BadRequest("_lastUpdated is [eq|gt|ge|lt|le] followed by a FHIR dateTime, "
                         f"e.g. ge2026-12-01T06:00:00Z{hint}", expression="_lastUpdated")
    parts = match.groupdict()
    if parts["hour"] and not parts["zone"]:
        raise BadRequest("_lastUpdated with a time needs a time zone (Z or +01:00)",
                         expression="_lastUpdated")
    try:
        start, step = _start_and_step(parts)
        latest = datetime.max.replace(tzinfo=UTC)
        end = start + step if start < latest - step else latest
    except (ValueError, OverflowError):
        raise BadRequest("_lastUpdated is not a date-time that exists",
                         expression="_lastUpdated") from None
    return LastUpdated(prefix, start, end)


def _start_and_step(parts: dict[str, str | None]) -> tuple[datetime, timedelta]:
    zone = parts["zone"] or "Z"
    offset = UTC if zone == "Z" else timezone(
        (1 if zone[0] == "+" else -1) * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:])))
    fraction = parts["fraction"] or ""
    start = datetime(int(parts["year"] or 0), int(parts["month"] or 1), int(parts["day"] or 1),
                     int(parts["hour"] or 0), int(parts["minute"] or 0),
                     int(parts["second"] or 0), int(fraction[:6].ljust(6, "0")), offset)
    if fraction:
        step = timedelta(microseconds=10 ** (6 - min(len(fraction), 6)))
    elif parts["second"]:
        step = timedelta(seconds=1)
    elif parts["hour"]:
        step = timedelta(minutes=1)
    elif parts["day"]:
        step = timedelta(days=1)
    else:
        year, month = (start.year + 1, 1) if not parts["month"] or start.month == 12 \
            else (start.year, start.month + 1)
        following = start.replace(year=year, month=month) if year <= 9999 \
            else datetime.max.replace(tzinfo=start.tzinfo)
        step = following - start
    return start.astimezone(UTC), step


@cache
def _model_elements(resource_type: str) -> tuple[frozenset[str], dict[str, frozenset[str]],
                                                  frozenset[str]]:
    """The type's element names, its choice elements (``occurrence`` -> the concrete
    names), and its mandatory ones (min 1), from fhir.resources' R4B model."""
    model = get_fhir_model_class(resource_type)
    names = frozenset(f.alias or n for n, f in model.model_fields.items()
                      if (f.json_schema_extra or {}).get("element_property"))
    choices = {base: frozenset(variants)
               for base, variants in model.get_one_of_many_fields(model).items()}
    mandatory = frozenset(f.alias or n for n, f in model.model_fields.items()
                          if f.is_required() or (f.json_schema_extra or {}).get(
                              "element_required"))
    return names, choices, mandatory


def _elements(resource_type: str, value: str) -> frozenset[str]:
    names, choices, _ = _model_elements(resource_type)
    wanted: set[str] = set()
    for name in (n.strip() for n in value.split(",")):
        if name == "resourceType":  # always there; fhirpy's elements() names it
            continue
        if name.startswith(f"{resource_type}."):
            name = name.removeprefix(f"{resource_type}.")
        if name in choices:
            wanted |= choices[name]
        elif name in names:
            wanted.add(name)
        else:
            raise BadRequest(f"_elements names {shown(name)}, not an element of {resource_type}",
                             expression="_elements")
    return frozenset(wanted)


def narrowed(resource: dict[str, Any], elements: frozenset[str] | None) -> dict[str, Any]:
    """``_elements`` on a resource as consent already minimised it: those elements, the
    mandatory ones, and what keeps it valid (``subset_view``); it never adds one back."""
    if elements is None:
        return resource
    _, _, mandatory = _model_elements(resource["resourceType"])
    keep = elements | mandatory | {"resourceType", "id", "meta", "contained"}
    return subset_view(resource, {k: v for k, v in resource.items()
                                  if k.removeprefix("_") in keep})


def reference_ids(request: Request, name: str, value: str, target: str) -> list[str]:
    """A reference parameter's ids (comma for OR): ``Type/id``, a bare ``id``, or an
    absolute URL on this gateway's FHIR base; another server's URL or type is a 400."""
    base = f"{public_base(request)}/fhir/"
    ids = []
    for reference in value.split(","):
        if "://" in reference:
            if not reference.startswith(base):
                raise BadRequest(f"{name} refers to another server; give {target}/{{id}} or "
                                 f"a URL under {base}", expression=name)
            reference = reference.removeprefix(base)
        kind, _, resource_id = reference.rpartition("/")
        if kind not in ("", target) or not _ID.fullmatch(resource_id):
            raise BadRequest(f"{name} is {target}/{{id}}, the id alone, or its URL",
                             expression=name)
        ids.append(resource_id)
    return ids


def token_clause(value: str, system: Any, code: Any) -> ColumnElement[bool]:
    """Comma-separated tokens (OR): ``system|code``, ``|code`` (no system), ``code``
    (any system), ``system|`` (any code of that system)."""
    clauses = []
    for token in value.split(","):
        given, wanted = split_token(token)
        parts = []
        if given == "":
            parts.append(system.is_(None))
        elif given is not None:
            parts.append(system == given)
        if wanted:
            parts.append(code == wanted)
        clauses.append(and_(*parts) if parts else true())
    return or_(*clauses)


def code_clause(value: str, name: str, implicit_system: str, column: Any,
                codes: Iterable[str]) -> ColumnElement[bool]:
    """Comma-separated codes of a ``code`` element, whose system is implicit: ``code`` or
    ``{implicit_system}|code`` match; another system (or ``|code``) matches nothing, as the
    spec says; a code outside the required value set is a 400."""
    allowed = frozenset(codes)
    wanted = []
    for token in value.split(","):
        given, code = split_token(token)
        if code not in allowed:
            raise BadRequest(f"{name} is one of {', '.join(sorted(allowed))}", expression=name)
        if given in (None, implicit_system):
            wanted.append(code)
    return column.in_(wanted) if wanted else false()


def bundle_response(request: Request, search: Search, matches: Sequence[dict[str, Any]],
                    total: int, included: Sequence[dict[str, Any]] = ()) -> FhirResponse:
    """The searchset: matches narrowed by ``_elements``, included resources, and a warning
    entry naming each parameter a lenient request had ignored."""
    outcome = None
    if search.ignored:
        outcome = operation_outcome([Issue(name, f"unknown search parameter {name!r} ignored "
                                           "(Prefer: handling=lenient)", "not-supported")
                                     for name in search.ignored], severity="warning")
    return FhirResponse(searchset(
        public_base(request), _links(request, search, total), total,
        [narrowed(r, search.elements) for r in matches], included, outcome))


def _links(request: Request, search: Search, total: int) -> dict[str, str]:
    path = f"{public_base(request)}{request.url.path}"

    def at(offset: int) -> str:
        return f"{path}?{urlencode([*search.used, ('_count', search.count), ('_offset', offset)])}"

    links = {"self": at(search.offset)}
    if not search.total_only and search.offset + search.count < total:
        links["next"] = at(search.offset + search.count)
    if not search.total_only and search.offset > 0:
        links["previous"] = at(max(0, search.offset - search.count))
    return links

