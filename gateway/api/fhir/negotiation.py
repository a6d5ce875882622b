"""Content negotiation for the FHIR routes: JSON or XML, and the ``fhirVersion`` parameter.

The routes build JSON only; this raw ASGI middleware decides the format before the route runs
and, for XML, turns the finished FHIR JSON answer (a resource, a Bundle or an error's
OperationOutcome) into FHIR XML with ``fhir.resources`` R4B. Rules, in order:

1. ``_format`` (``json``, ``xml`` or a media type) overrides ``Accept``, as the spec says; the
   middleware takes it out of the query string, so searches never see it.
2. ``Accept``: the acceptable range with the highest ``q`` wins, an exact type before a wildcard;
   ``*/*``, ``application/*``, ``application/json`` and no ``Accept`` at all answer JSON.
3. A ``fhirVersion`` parameter must be 4.0 (R4, which Dutch R4 clients send) or 4.3 (R4B).
4. Nothing acceptable: 406 OperationOutcome (in JSON, as nothing else was acceptable).

JSON answers pass through untouched (only ``Vary: Accept`` is added), so JSON stays fast.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from urllib.parse import unquote_plus

import orjson
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.api.error_handlers import gateway_error
from gateway.platform.errors import BadRequest, GatewayError, NotAcceptable
from gateway.platform.fhir_json import SUPPORTED_VERSIONS, fhir_version_ok, media_range
from gateway.platform.logging import get_logger

log = get_logger()


class Format(StrEnum):
    JSON = "json"
    XML = "xml"


_TYPES = {
    "application/fhir+json": Format.JSON, "application/json": Format.JSON,
    "application/json+fhir": Format.JSON, "text/json": Format.JSON,
    "application/fhir+xml": Format.XML, "application/xml": Format.XML,
    "application/xml+fhir": Format.XML, "text/xml": Format.XML,
    "*/*": Format.JSON, "application/*": Format.JSON,
}
_SHORT = {"json": Format.JSON, "xml": Format.XML}
SUPPORTED_TYPES = "application/fhir+json, application/fhir+xml (or _format=json, _format=xml)"
FORMAT_VALUES = "json, xml, application/fhir+json or application/fhir+xml"
XML_CONTENT_TYPE = b"application/fhir+xml; charset=utf-8"
_FHIR_JSON = b"application/fhir+json"


def _quality(params: dict[str, str]) -> float:
    try:
        q = float(params.get("q", "1"))
    except ValueError:
        return 0.0
    return q if 0.0 <= q <= 1.0 else 0.0


@lru_cache(maxsize=256)
def negotiate(accept: str, format_param: str | None = None) -> Format:
    """The answer's format for this ``Accept`` and ``_format``, or ``NotAcceptable``."""
    if format_param is not None:
        # an unencoded ``+`` in a query is a space: ``_format=application/fhir+xml`` as typed
        kind, params = media_range(format_param.replace(" ", "+"))
        chosen = _SHORT.get(kind) or _TYPES.get(kind)
        if chosen is None or kind.endswith("*"):
            raise NotAcceptable(f"_format must be {FORMAT_VALUES}", expression="_format")
        if not fhir_version_ok(params):
            raise NotAcceptable(SUPPORTED_VERSIONS, expression="_format")
        return chosen
    if not accept.strip():
        return Format.JSON
    best: tuple[float, int, int] | None = None
    chosen, wrong_version = Format.JSON, False
    for position, text in enumerate(accept.split(",")):
        kind, params = media_range(text)
        quality, found = _quality(params), _TYPES.get(kind)
        if found is None or quality == 0.0:
            continue
        if not fhir_version_ok(params):
            wrong_version = True
            continue
        rank = (quality, 0 if "*" in kind else 1, -position)
        if best is None or rank > best:
            best, chosen = rank, found
    if best is None:
        if wrong_version:
            raise NotAcceptable(SUPPORTED_VERSIONS, expression="Accept")
        raise NotAcceptable(f"this server answers FHIR in {SUPPORTED_TYPES}", expression="Accept")
    return chosen


def to_xml(body: bytes) -> bytes:
    """A FHIR JSON resource as FHIR XML; ``ValueError`` when R4B cannot express it."""
    document = orjson.loads(body)
    try:
        model = get_fhir_model_class(document["resourceType"])
        return model.model_validate(document).model_dump_xml()
    except (KeyError, TypeError, ValidationError) as error:
        raise ValueError(type(error).__name__) from None


def _split_format(query: bytes) -> tuple[bytes, list[str]]:
    """The query without its ``_format`` parameters, and their (decoded) values."""
    kept, values = [], []
    for part in query.split(b"&"):
        name, _, value = part.partition(b"=")
        if unquote_plus(name.decode("latin-1")) == "_format":
            values.append(unquote_plus(value.decode("latin-1")))
        else:
            kept.append(part)
    return b"&".join(kept), values


class FhirFormatMiddleware:
    """Negotiates the format of every answer under ``/fhir`` (not ``/fhir/.well-known``)."""

    def __init__(self, app: ASGIApp, prefix: str = "/fhir") -> None:
        self.app = app
        self.prefix = prefix
        self.skip = f"{prefix}/.well-known"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(self.prefix) \
                or path.startswith(self.skip):
            await self.app(scope, receive, send)
            return
        accept = b",".join(v for k, v in scope["headers"] if k == b"accept").decode("latin-1")
        values: list[str] = []
        if b"_format" in scope["query_string"]:
            # in place: the request context reads the matched route from this same scope
            scope["query_string"], values = _split_format(scope["query_string"])
        try:
            if len(values) > 1:
                raise BadRequest("give _format once", expression="_format")
            chosen = negotiate(accept, values[0] if values else None)
        except GatewayError as error:
            response = await gateway_error(Request(scope), error)
            response.headers["Vary"] = "Accept"
            await response(scope, receive, send)
            return
        if chosen is Format.JSON:
            await self.app(scope, receive, _with_vary(send))
        else:
            await self.app(scope, receive, _XmlSender(scope, receive, send))


def _with_vary(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), (b"vary", b"Accept")]
        await send(message)
    return sending


class _XmlSender:
    """Holds back a FHIR JSON answer until it is whole, then sends it as XML; any other
    answer (no body, not FHIR JSON) passes unchanged."""

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope, self.receive, self.send = scope, receive, send
        self.start: Message | None = None
        self.chunks: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = message.get("headers", [])
            content_type = next((v for k, v in headers if k == b"content-type"), b"")
            if content_type.startswith(_FHIR_JSON):
                self.start = message
                return
            message["headers"] = [*headers, (b"vary", b"Accept")]
        elif message["type"] == "http.response.body" and self.start is not None:
            self.chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            await self._send_xml(b"".join(self.chunks))
            return
        await self.send(message)

    async def _send_xml(self, body: bytes) -> None:
        assert self.start is not None
        try:
            xml = to_xml(body)
        except ValueError as error:
            log.warning("xml_render_failed", error_type=str(error))
            refusal = NotAcceptable("this answer cannot be given as FHIR XML; ask for "
                                    "application/fhir+json", expression="Accept")
            response = await gateway_error(Request(self.scope), refusal)
            response.headers["Vary"] = "Accept"
            await response(self.scope, self.receive, self.send)
            return
        skip = {b"content-type", b"content-length"}
        headers: list[tuple[bytes, bytes]] = [
            (k, v) for k, v in self.start.get("headers", []) if k not in skip]
        headers += [(b"content-type", XML_CONTENT_TYPE),
                    (b"content-length", str(len(xml)).encode()), (b"vary", b"Accept")]
        await self.send({**self.start, "headers": headers})
        await self.send({"type": "http.response.body", "body": xml})

