"""``POST /adapters/{name}/messages``: a connected system's own messages, over HTTP, one route
per enabled adapter that asks for one, each behind that system's scope (``adapter/{name}.write``).
The route takes the request apart and hands the body to the pipeline; the answer is the
message's outcome as JSON (201 applied, 200 a replay of a message id seen before).

No ``from __future__ import annotations``: the route's parameter types are local to
``router_for`` and FastAPI must see them evaluated."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from adapters import Adapter, published_schema
from gateway.api.runtime import DbSession, RuntimeDep, require_scope
from gateway.auth.bearer import Caller
from gateway.auth.scopes import adapter_scope
from gateway.delivery import feed
from gateway.fhir.common import RawBody
from gateway.involvements.service import due_for_review
from gateway.pipeline.messages import receive_message
from gateway.platform.db.types import utcnow
from gateway.platform.errors import NotFound
from gateway.platform.fhir_json import require_media_type
from gateway.platform.unit_of_work import UnitOfWorkRoute

MEDIA_TYPES = {".json": "application/schema+json", ".xsd": "application/xml"}


def router_for(adapter: Adapter) -> APIRouter:
    """The message endpoint of one system."""
    name = adapter.descriptor.name
    router = APIRouter(prefix=f"/adapters/{name}", tags=["Adapters"],
                       route_class=UnitOfWorkRoute)
    Sender = Annotated[Caller, Depends(require_scope(adapter_scope(name)))]

    @router.post("/messages", status_code=201, response_class=JSONResponse,
                 summary=f"Send a {name} message",
                 description=f"{adapter.descriptor.description} Message kinds: "
                             f"{', '.join(sorted(adapter.descriptor.inbound))}. A message "
                             "id sent before answers as it did then (200) and changes nothing. "
                             "See docs/adapters.md.",
                 openapi_extra={"requestBody": {"required": True, "content": {
                     adapter.descriptor.media_type: {"schema": {"type": "object"}}}}})
    def receive(request: Request, body: RawBody, caller: Sender, session: DbSession,
                runtime: RuntimeDep) -> JSONResponse:
        require_media_type(request, frozenset({adapter.descriptor.media_type}))
        answer = receive_message(session, caller, adapter, body,
                                 runtime.settings.max_json_depth, runtime.metrics)
        return JSONResponse(answer.outcome, status_code=answer.status_code)

    receive.__name__ = f"receive_{name.replace('-', '_')}_message"
    if adapter.descriptor.schemas:
        _publish_schemas(router, adapter)
    if adapter.descriptor.review_after_months:
        _reviews_due(router, adapter, Sender)
    _feed(router, adapter, Sender)
    return router


def _feed(router: APIRouter, adapter: Adapter, sender: Any) -> None:
    """The notices of the system's feed subscriptions, for systems that poll (docs/webhooks.md)."""
    name = adapter.descriptor.name

    @router.get("/feed", response_class=JSONResponse,
                summary=f"Read the {name} feed after a cursor",
                description="The notices of your feed subscriptions (Subscription with "
                            "channel.type 'message' and no endpoint) after the cursor "
                            "`after` (the `next` of the previous answer; none: from the "
                            f"start), oldest first, at most `limit` (1 to {feed.MAX_LIMIT}, "
                            f"default {feed.DEFAULT_LIMIT}), each decided again and rendered "
                            "for your system as a webhook would be. A notice committed late "
                            "is never passed by the cursor. See docs/webhooks.md.",
                openapi_extra={"parameters": [
                    {"name": "after", "in": "query", "required": False,
                     "schema": {"type": "string"},
                     "description": "The `next` of the previous answer (opaque)."},
                    {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": feed.MAX_LIMIT,
                                "default": feed.DEFAULT_LIMIT}}]})
    def read(request: Request, caller: sender, session: DbSession,  # type: ignore[valid-type]
             runtime: RuntimeDep) -> JSONResponse:
        query = feed.parse_query(request.query_params.multi_items())
        page = feed.read_feed(session, caller.client_id, query, runtime.settings.adapters)
        return JSONResponse(page.json())

    read.__name__ = f"{name.replace('-', '_')}_feed"


def _reviews_due(router: APIRouter, adapter: Adapter, sender: Any) -> None:
    """The system's cases open past its own limit, for the unit's team leader to review."""
    months = adapter.descriptor.review_after_months
    name = adapter.descriptor.name

    @router.get("/reviews-due", response_class=JSONResponse,
                summary=f"The {name} cases open longer than {months} months",
                description=f"Cases this system opened for your organisation that are still "
                            f"open after {months} months (its own limit: put up for review, "
                            "not refused), oldest first: the case id, the person, the start "
                            "and the day the review fell due.")
    def reviews_due(caller: sender, session: DbSession) -> JSONResponse:  # type: ignore[valid-type]
        due = due_for_review(session, caller, name, months or 0, utcnow().date())
        return JSONResponse({"reviewAfterMonths": months, "due": due})

    reviews_due.__name__ = f"{name.replace('-', '_')}_reviews_due"


def _publish_schemas(router: APIRouter, adapter: Adapter) -> None:
    """The system's schemas, public as the API's own description is: a system's builders
    validate against them before they send."""
    files = sorted(path.rsplit("/", 1)[-1] for path in adapter.descriptor.schemas)

    @router.get("/schemas/{file_name}", summary=f"A schema of {adapter.descriptor.name}",
                description=f"One of: {', '.join(files)}.", response_class=Response)
    def schema(file_name: str) -> Response:
        content = published_schema(adapter, file_name)
        if content is None:
            raise NotFound(f"no such schema; {adapter.descriptor.name} publishes "
                           f"{', '.join(files)}", expression="file_name")
        suffix = file_name[file_name.rfind("."):]
        return Response(content, media_type=MEDIA_TYPES.get(suffix, "application/json"))

    schema.__name__ = f"{adapter.descriptor.name.replace('-', '_')}_schema"
