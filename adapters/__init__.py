"""Adapters for external systems. Importing this package registers all of them."""

from adapters import gp_referral  # noqa: F401  (registers itself)
from adapters.base import Adapter, AdapterDescriptor, InvalidMessage, Issue
from adapters.registry import all_adapters, get_adapter

__all__ = [
    "Adapter",
    "AdapterDescriptor",
    "InvalidMessage",
    "Issue",
    "all_adapters",
    "get_adapter",
]
