"""The console's pages. Each view is logged (who looked, and at whose data
when the page is about particular people); each change is a CSRF-checked form."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from gateway.api.console.auth import ConsoleOfficer, ConsoleUser, CsrfChecked
from gateway.api.console.chart import stacked_bars
from gateway.api.console.web import ConsoleRoute, page, see_other
from gateway.api.runtime import DbSession, RuntimeDep
from gateway.audit import log as audit
from gateway.console import service
from gateway.fhir.search import bounded_int
from gateway.households.merging import merge_reviewed
from gateway.identity.repository import open_reviews_with_bsn
from gateway.identity.service import MAX_COMMENT_LENGTH as IDENTITY_COMMENT_MAX
from gateway.identity.service import RESOLUTIONS, RESOLUTIONS_BY_KIND, resolve
from gateway.involvements.repository import recent_registrations
from gateway.oversight.queries import KINDS, MAX_OFFSET, OUTCOMES, EntryFilter, parse_filter, search
from gateway.pipeline.reviews import settle
from gateway.platform.errors import BadRequest
from schemas import is_valid_bsn

router = APIRouter(prefix="/console", route_class=ConsoleRoute)
PAGE_SIZE = 50
LIST_LIMIT = 100
FIRST_PAGE = "/console/entries"


def _viewed(session: DbSession, user: ConsoleUser, page_name: str, *, bsn: str | None = None,
            person_id: str | None = None, details: dict[str, object] | None = None) -> None:
    audit.record(session, kind="view", action=f"console.{page_name}.viewed",
                 actor_type="officer", actor_id=user.username, person_id=person_id,
                 subject=audit.subject_identifier(bsn) if bsn else None, details=details)


def _page_number(value: str | None) -> int:
    return bounded_int(value, "page", 1, 1, MAX_OFFSET // PAGE_SIZE)


def _paging(path: str, params: dict[str, str], number: int, total: int) -> dict[str, object]:
    last = max(1, -(-total // PAGE_SIZE))
    links = {name: f"{path}?{urlencode({**params, 'page': n})}"
             for name, n in (("previous", number - 1), ("next", number + 1)) if 1 <= n <= last}
    return {"number": number, "last": last, "total": total, **links}


@router.get("")
def home() -> RedirectResponse:
    return see_other(FIRST_PAGE)


@router.get("/entries")
def entries(request: Request, user: ConsoleOfficer, session: DbSession,
            runtime: RuntimeDep) -> HTMLResponse:
    """The API's filters as a form; empty fields are no filter."""
    if len(set(request.query_params)) != len(request.query_params.multi_items()):
        raise BadRequest("give each field once")
    params = {k: v.strip() for k, v in request.query_params.items() if v.strip()}
    number = _page_number(params.pop("page", None))
    rows, total = search(session, parse_filter(params, runtime.audit, session), PAGE_SIZE,
                         (number - 1) * PAGE_SIZE)
    _viewed(session, user, "entries", bsn=params.get("subject"),
            details={**{k: v for k, v in params.items() if k != "subject"}, "page": number})
    return page(request, "console_entries.html", user, rows=rows, params=params,
                paging=_paging(request.url.path, params, number, total), kinds=sorted(KINDS),
                outcomes=sorted(OUTCOMES), activities=[a.id for a in runtime.register.activities])


@router.get("/denied")
def denied(request: Request, user: ConsoleOfficer, session: DbSession) -> HTMLResponse:
    number = _page_number(request.query_params.get("page"))
    rows, total = search(session, EntryFilter(outcome="denied"), PAGE_SIZE,
                         (number - 1) * PAGE_SIZE)
    _viewed(session, user, "denied", details={"page": number})
    return page(request, "console_denied.html", user, rows=rows,
                paging=_paging(request.url.path, {}, number, total))


@router.get("/timeline")
def timeline(request: Request, user: ConsoleOfficer, session: DbSession, runtime: RuntimeDep,
             bsn: str = "") -> HTMLResponse:
    """One person's consents, overrides and log entries in time order; without a BSN, the
    form to ask for one."""
    bsn = bsn.strip()
    if bsn and not is_valid_bsn(bsn):
        raise BadRequest("bsn is a BSN (9 digits passing the elfproef)", expression="bsn")
    found = service.timeline(session, runtime.audit, bsn) if bsn else None
    _viewed(session, user, "timeline", bsn=bsn or None)
    return page(request, "console_timeline.html", user, bsn=bsn, timeline=found)


@router.get("/overrides")
def overrides(request: Request, user: ConsoleOfficer, session: DbSession) -> HTMLResponse:
    """Overrides awaiting review; the view is logged once per person shown."""
    pending = service.pending_overrides(session)
    _viewed_each(session, user, "overrides", pending)
    return page(request, "console_overrides.html", user, pending=pending,
                max_comment=service.MAX_COMMENT_LENGTH)


@router.post("/overrides/{override_id}/approve")
def approve(override_id: Annotated[str, Path(max_length=36)], _csrf: CsrfChecked,
            user: ConsoleOfficer, session: DbSession,
            comment: Annotated[str, Form(max_length=20_000)] = "") -> RedirectResponse:
    service.approve_override(session, override_id, user.username, comment)
    return see_other("/console/overrides")


@router.get("/involvements")
def involvements(request: Request, user: ConsoleOfficer, session: DbSession) -> HTMLResponse:
    """Involvements administrators registered, newest first; the view is logged per person."""
    rows = recent_registrations(session, LIST_LIMIT)
    _viewed_each(session, user, "involvements", rows)
    return page(request, "console_involvements.html", user, rows=rows)


@router.get("/identity")
def identity(request: Request, user: ConsoleOfficer, session: DbSession) -> HTMLResponse:
    """Identity facts that disagree and probable matches, oldest first, each with a form to
    resolve it (the resolutions of its kind)."""
    pending = open_reviews_with_bsn(session, LIST_LIMIT)
    _viewed_each(session, user, "identity", pending)
    return page(request, "console_identity.html", user, pending=pending,
                resolutions=RESOLUTIONS_BY_KIND, max_comment=IDENTITY_COMMENT_MAX)


@router.post("/identity/{review_id}/resolve")
def resolve_identity(review_id: Annotated[str, Path(max_length=36)], _csrf: CsrfChecked,
                     user: ConsoleOfficer, session: DbSession, runtime: RuntimeDep,
                     resolution: Annotated[str, Form(max_length=32)] = "",
                     comment: Annotated[str, Form(max_length=IDENTITY_COMMENT_MAX)] = ""
                     ) -> RedirectResponse:
    if resolution not in RESOLUTIONS:
        raise BadRequest(f"resolution is one of: {', '.join(RESOLUTIONS)}",
                         expression="resolution")
    if len(comment.strip()) < 5:
        raise BadRequest("comment: say why (at least 5 characters)", expression="comment")
    resolve(session, None, runtime.register, review_id, resolution, comment.strip(),
            user.username, settle, merge_households=merge_reviewed)
    return see_other("/console/identity")


def _viewed_each(session: DbSession, user: ConsoleUser, page_name: str,
                 shown: Iterable[tuple[Any, str | None]]) -> None:
    """One view entry per person on the page (their access report shows the look), named by
    the BSN the page shows where there is one (no lookup), else by the person's id. ``shown``
    holds (row with ``id`` and ``person_id``, BSN)."""
    ids: dict[tuple[str, str | None], list[str]] = defaultdict(list)
    for row, bsn in shown:
        ids[row.person_id, bsn].append(row.id)
    for (person_id, bsn), row_ids in ids.items():
        _viewed(session, user, page_name, bsn=bsn, person_id=None if bsn else person_id,
                details={"rows": row_ids})
    if not ids:
        _viewed(session, user, page_name)


@router.get("/chain")
def chain(request: Request, user: ConsoleOfficer, session: DbSession) -> HTMLResponse:
    chain_status = service.chain_status(session)
    _viewed(session, user, "chain")
    return page(request, "console_chain.html", user, chain=chain_status)


@router.post("/chain/verify")
def verify(_csrf: CsrfChecked, user: ConsoleOfficer, runtime: RuntimeDep) -> RedirectResponse:
    """Off the event loop (no request session): a long log takes a while to check."""
    service.verify_now(runtime.sessions, runtime.settings.database_url, user.username)
    return see_other("/console/chain")


@router.get("/chart")
def chart(request: Request, user: ConsoleOfficer, session: DbSession) -> HTMLResponse:
    data = service.weekly_disclosures(session)
    _viewed(session, user, "chart")
    return page(request, "console_chart.html", user, data=data, chart=stacked_bars(data))
