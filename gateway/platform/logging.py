"""structlog only: one processor chain, JSON lines, and an allowlist that drops any field not
known to be free of personal data. Events are facts plus ids (``referral_received``)."""

from __future__ import annotations

import re
import sys
from typing import Any, TextIO

import orjson
import structlog

# Fields that may appear in a log line. Anything else is dropped before rendering.
ALLOWED_FIELDS = frozenset({
    "event", "level", "timestamp", "logger",
    "request_id", "correlation_id", "trace_id",
    "method", "route", "status", "duration_ms",
    "client_id", "team_id", "scope", "grant_type", "auth_method",
    "resource_type", "resource_id", "version_id", "task_status", "previous_status",
    "outbox_id", "subscription_id", "event_type", "attempt", "status_code", "outcome",
    "next_attempt_in_s", "error_code", "error_type", "issue_count", "expressions",
    "count", "host", "port", "environment", "database", "adapter", "url",
    "consent_id", "activity_id", "verdict", "decision", "override", "recipient",
    "transport", "stage", "pipeline_stage", "stages",  # an inbound message's path
})

# Defence in depth for allowed string fields: anything shaped like a BSN is masked.
_NINE_DIGITS = re.compile(r"(?<![0-9A-Za-z])\d{9}(?![0-9A-Za-z])")  # not inside hex ids


def keep_allowed_fields(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in event_dict.items() if k in ALLOWED_FIELDS}
    for key, value in kept.items():
        if isinstance(value, str):
            kept[key] = _NINE_DIGITS.sub("*********", value)
    return kept


def _orjson_text(value: Any, **_kwargs: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def configure_logging(level: str = "INFO", json: bool = True, stream: TextIO | None = None) -> None:
    renderer: Any = (structlog.processors.JSONRenderer(serializer=_orjson_text) if json
                     else structlog.dev.ConsoleRenderer(colors=False))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            keep_allowed_fields,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level.upper()),
        logger_factory=structlog.WriteLoggerFactory(file=stream or sys.stdout),
        cache_logger_on_first_use=False,
    )


def get_logger() -> Any:
    return structlog.get_logger()
