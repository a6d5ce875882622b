"""``/audit``: the processing log for privacy officers' systems (scope
``system/AuditEvent.read``): search, CSV export, and a resident's access report.
A refused attempt is itself logged, and so is every look at a person's entries."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse

from gateway.api.officer import Officer
from gateway.api.runtime import DbSession, RuntimeDep
from gateway.audit import log as audit
from gateway.audit.leaves import tree_size
from gateway.auth.bearer import Caller
from gateway.fhir.search import bounded_int
from gateway.oversight import export
from gateway.oversight.queries import (
    DEFAULT_COUNT,
    MAX_COUNT,
    MAX_OFFSET,
    EntryFilter,
    entry_json,
    parse_filter,
    search,
)
from gateway.oversight.report import access_report
from gateway.platform.errors import BadRequest
from gateway.platform.templating import templates
from gateway.platform.unit_of_work import UnitOfWorkRoute
from schemas import is_valid_bsn, loggable

router = APIRouter(prefix="/audit", tags=["processing log"], route_class=UnitOfWorkRoute)


def _filter(request: Request, runtime: RuntimeDep,
            session: DbSession) -> tuple[EntryFilter, dict[str, str]]:
    params: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name in params:
            raise BadRequest("give each parameter once", expression=name[:40])
        params[name] = value
    return parse_filter(params, runtime.audit, session), params


def _looked(session: DbSession, caller: Caller, action: str, params: dict[str, str]) -> None:
    """The search itself, logged; a BSN it names is kept only as a pseudonym, in every
    field (a household search names its member by BSN)."""
    details = {k: loggable(v) for k, v in params.items() if k != "subject"}
    if "household" in params:
        pseudonymiser = session.info[audit.CONTEXT].pseudonymiser
        details["household"] = pseudonymiser.pseudonym(
            audit.subject_identifier(params["household"]))[0]
    audit.record(session, kind="read", action=action, actor_id=caller.client_id,
                 subject=audit.subject_identifier(params["subject"])
                 if "subject" in params else None, details=details or None)


@router.get("/entries")
def list_entries(request: Request, caller: Officer, session: DbSession,
                 runtime: RuntimeDep) -> JSONResponse:
    """Newest first; filters ``subject`` (BSN), ``activity``, ``recipient``, ``kind``,
    ``outcome``, ``from``/``to`` (dates); paged with ``_count`` and ``_offset``."""
    where, params = _filter(request, runtime, session)
    count = bounded_int(params.get("_count"), "_count", DEFAULT_COUNT, 1, MAX_COUNT)
    offset = bounded_int(params.get("_offset"), "_offset", 0, 0, MAX_OFFSET)
    rows, total = search(session, where, count, offset)
    _looked(session, caller, "audit.entries.read", params)
    return JSONResponse({"total": total, "count": len(rows), "offset": offset,
                         "entries": [entry_json(r) for r in rows]})


@router.get("/entries.csv")
def export_entries(request: Request, caller: Officer, session: DbSession,
                   runtime: RuntimeDep) -> StreamingResponse:
    """The same filters, as CSV, newest first (at most 1,000,000 rows). The export is logged
    and committed before its first row is read; the rows stream in pages, each read apart,
    off the event loop (see ``gateway.oversight.export``)."""
    where, params = _filter(request, runtime, session)
    head = tree_size(session.connection())  # the newest entry: the export ends there
    _looked(session, caller, "audit.entries.exported", params)
    rows = export.pages(runtime.reader, where, head)
    return StreamingResponse(export.csv_chunks(rows), media_type="text/csv", headers={
        "Content-Disposition": 'attachment; filename="processing-log.csv"'})


@router.get("/access-report", response_model=None)
def resident_access_report(request: Request, patient: str, caller: Officer,
                           session: DbSession, runtime: RuntimeDep,
                           format: str = "json",
                           proofs: str = "false") -> JSONResponse | HTMLResponse:
    """What was shared about one person, with whom and why; ``format=html`` to print;
    ``proofs=true`` adds each entry's inclusion proof against the latest signed checkpoint."""
    if not is_valid_bsn(patient):
        raise BadRequest("patient is a BSN (9 digits passing the elfproef)",
                         expression="patient")
    if format not in ("json", "html"):
        raise BadRequest("format is json or html", expression="format")
    if proofs not in ("true", "false"):
        raise BadRequest("proofs is true or false", expression="proofs")
    report = access_report(session, runtime.audit, patient, proofs=proofs == "true")
    audit.record(session, kind="read", action="audit.access_report", actor_id=caller.client_id,
                 subject=audit.subject_identifier(patient))
    if format == "html":
        return templates.TemplateResponse(request, "access_report.html", {"report": report})
    return JSONResponse(report)
