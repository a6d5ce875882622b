"""Adapters for external systems: one package per system, enabled by configuration
(``WIJKGATEWAY_ADAPTERS``). Imports nothing of ``gateway``."""

from adapters.base import (
    Adapter,
    AdapterDescriptor,
    Decoder,
    Document,
    InvalidMessage,
    Issue,
    OutboundMessage,
    Recipient,
    RenderError,
)
from adapters.registry import (
    DEFAULT_SYSTEM,
    UnknownAdapter,
    available,
    enable,
    get_adapter,
    published_schema,
)

__all__ = [
    "DEFAULT_SYSTEM",
    "Adapter",
    "AdapterDescriptor",
    "Decoder",
    "Document",
    "InvalidMessage",
    "Issue",
    "OutboundMessage",
    "Recipient",
    "RenderError",
    "UnknownAdapter",
    "available",
    "enable",
    "get_adapter",
    "published_schema",
]
