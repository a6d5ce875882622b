"""Every error a client can cause, as one tree. Each class knows its HTTP status and the
FHIR ``OperationOutcome.issue.code``; ``gateway.api.error_handlers`` renders them all.

    GatewayError                    500 exception
    ├── BadRequest                  400 invalid      (not JSON, too deep, bad search parameter)
    ├── Unauthorized                401 login        (no, expired or invalid token)
    ├── Forbidden                   403 forbidden    (token lacks the scope, or not your data)
    ├── NotFound                    404 not-found
    │   └── Gone                    410 deleted      (read of a DELETEd resource)
    ├── NotAcceptable               406 not-supported (an Accept or _format not served)
    ├── Conflict                    409 conflict     (illegal status transition, key reuse)
    ├── PreconditionFailed          412 conflict     (If-Match stale, If-None-Exist ambiguous)
    ├── PayloadTooLarge             413 too-costly
    ├── UnsupportedMediaType        415 not-supported
    ├── Unprocessable               422 processing   (valid FHIR that breaks a business rule)
    ├── PreconditionRequired        428 required     (update without If-Match)
    ├── TooManyRequests             429 throttled    (rate limits; console login after failures)
    └── ServiceUnavailable          503 transient    (a tool the answer needs is missing: Chromium)
"""

from __future__ import annotations

from adapters.base import Issue


class GatewayError(Exception):
    status = 500
    code = "exception"

    def __init__(self, message: str, expression: str | None = None,
                 issues: list[Issue] | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.issues = issues or [Issue(expression or "", message, self.code)]
        self.headers = headers or {}


class BadRequest(GatewayError):
    status = 400
    code = "invalid"


class Unauthorized(GatewayError):
    status = 401
    code = "login"

    def __init__(self, message: str, error: str = "invalid_token"):
        challenge = f'Bearer realm="wijkgateway", error="{error}", error_description="{message}"'
        super().__init__(message, expression="Authorization",
                         headers={"WWW-Authenticate": challenge})


class Forbidden(GatewayError):
    status = 403
    code = "forbidden"

    def __init__(self, message: str, scope: str | None = None):
        headers = {}
        if scope:
            headers["WWW-Authenticate"] = (
                f'Bearer realm="wijkgateway", error="insufficient_scope", scope="{scope}"'
            )
        super().__init__(message, expression="Authorization" if scope else None,
                         headers=headers)


class NotFound(GatewayError):
    status = 404
    code = "not-found"


class Gone(NotFound):
    status = 410
    code = "deleted"


class NotAcceptable(GatewayError):
    status = 406
    code = "not-supported"


class Conflict(GatewayError):
    status = 409
    code = "conflict"


class PreconditionFailed(GatewayError):
    status = 412
    code = "conflict"


class PayloadTooLarge(GatewayError):
    status = 413
    code = "too-costly"


class UnsupportedMediaType(GatewayError):
    status = 415
    code = "not-supported"


class Unprocessable(GatewayError):
    status = 422
    code = "processing"


class PreconditionRequired(GatewayError):
    status = 428
    code = "required"


class TooManyRequests(GatewayError):
    status = 429
    code = "throttled"


class ServiceUnavailable(GatewayError):
    status = 503
    code = "transient"
