"""Adapters for external systems: one package per system, enabled by configuration
(``WIJKGATEWAY_ADAPTERS``). Imports nothing of ``gateway``."""

from adapters.base import (
    Adapter,
    AdapterDescriptor,
    InvalidMessage,
    Issue,
    OutboundMessage,
    Recipient,
    RenderError,
)
from adapters.registry import UnknownAdapter, available, enable, get_adapter

__all__ = [
    "Adapter",
    "AdapterDescriptor",
    "InvalidMessage",
    "Issue",
    "OutboundMessage",
    "Recipient",
    "RenderError",
    "UnknownAdapter",
    "available",
    "enable",
    "get_adapter",
]
